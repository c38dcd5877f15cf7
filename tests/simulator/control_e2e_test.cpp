// rr-simulator's HTTP control API acting on the real engine, on the real Kafka broker: POST /pause
// stops consumption (a request sent meanwhile is neither decided nor answered), POST /resume
// answers it, PUT /profile changes the decisions of the requests that follow (and a bad profile
// changes nothing).
#include <catch2/catch.hpp>

#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "testkit/http_client.h"
#include "common/ids.h"
#include "testkit/net.h"
#include "testkit/stack.h"
#include "tests/simulator/kafka_test_util.h"
#include "tests/simulator/sim_stack_util.h"

using namespace std::chrono_literals;
namespace stack = rrkit::stack;
namespace fs = std::filesystem;
using nlohmann::json;
using namespace rrkit::simulator::testing;

namespace {

// Decision-log lines of one type, by the id field given.
std::map<std::string, json> lines_by(const fs::path& path, const std::string& type, const std::string& id_field) {
  std::ifstream in(path);
  std::map<std::string, json> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto j = json::parse(line, nullptr, false);
    if (j.is_discarded() || j.value("type", "") != type) continue;
    const auto id = j.find(id_field);
    out[id != j.end() && id->is_string() ? id->get<std::string>() : ""] = j;
  }
  return out;
}

rrkit::http::Response control(std::uint16_t port, const std::string& method, const std::string& target,
                              const std::string& body = "") {
  rrkit::http::Request r;
  r.method = method;
  r.port = port;
  r.target = target;
  r.body = body;
  r.timeout = 10s;
  return rrkit::http::call(r);
}

json stats(std::uint16_t port) { return json::parse(control(port, "GET", "/stats").body, nullptr, false); }

// Replies on the reply topic, by correlation id.
class Replies {
 public:
  explicit Replies(const std::string& brokers) : reader_(brokers, "rr.replies", "control-e2e-" + rrkit::new_uuid_v4()) {}
  // Reads the topic until `id` has a reply or `timeout` passes.
  std::optional<json> wait_for(const std::string& id, std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (const auto it = by_id_.find(id); it != by_id_.end()) return it->second;
      if (std::chrono::steady_clock::now() >= until) return std::nullopt;
      std::vector<Record> got;
      reader_.poll(got, 100ms);
      for (const auto& r : got) by_id_[r.key] = json::parse(r.value, nullptr, false);
    }
  }

 private:
  Reader reader_;
  std::map<std::string, json> by_id_;
};

}  // namespace

TEST_CASE("rr-simulator on real Kafka: the control API pauses, resumes and re-profiles the running engine", "[e2e]") {
  KafkaStack ks("rrkit-sim-control-e2e-", {{"rr.requests", 1}, {"rr.replies", 1}});
  const stack::Paths& paths = ks.paths;
  const fs::path& dir = ks.dir;
  stack::Kafka& kafka = ks.kafka;
  const std::string brokers = kafka.brokers();

  Sim sim = start_simulator(paths, dir, "sim", {"--brokers", brokers, "--seed", "7"});
  wait_assigned(sim, 1);
  const std::uint16_t port = sim.control_port;
  const fs::path& decisions = sim.decisions;

  Producer producer(brokers);
  Replies replies(brokers);
  const auto send = [&](const std::string& tag) {
    const std::string id = rrkit::new_uuid_v4();
    producer.send("rr.requests", id, json{{"correlationId", id}, {"data", {{"tag", tag}}}}.dump());
    producer.flush();
    return id;
  };

  // Running: answered ok under the default profile.
  const std::string a = send("before");
  const auto reply_a = replies.wait_for(a, 30s);
  REQUIRE(reply_a);
  CHECK((*reply_a)["status"] == "ok");

  // Paused: a request sent now is neither decided nor answered.
  REQUIRE(control(port, "POST", "/pause").status == 200);
  CHECK(stats(port)["paused"] == true);
  const std::string b = send("paused");
  CHECK_FALSE(replies.wait_for(b, 3s));
  CHECK(lines_by(decisions, "decision", "id").count(b) == 0);
  CHECK(stats(port)["requests"] == 1);

  // Resumed: the waiting request is consumed and answered.
  REQUIRE(control(port, "POST", "/resume").status == 200);
  CHECK(stats(port)["paused"] == false);
  const auto reply_b = replies.wait_for(b, 30s);
  REQUIRE(reply_b);
  CHECK((*reply_b)["status"] == "ok");

  // A new profile changes the next decisions: every reply is now an error reply.
  const auto put = control(port, "PUT", "/profile", "default: {error: true}");
  INFO(put.body);
  REQUIRE(put.status == 200);
  const std::string c = send("error profile");
  const auto reply_c = replies.wait_for(c, 30s);
  REQUIRE(reply_c);
  CHECK((*reply_c)["status"] == "error");
  CHECK((*reply_c)["correlationId"] == c);
  auto decided = lines_by(decisions, "decision", "id");
  REQUIRE(decided.count(c) == 1);
  CHECK(decided[c]["kind"] == "error");
  CHECK(decided[a]["kind"] == "ok");
  CHECK(decided[b]["kind"] == "ok");
  CHECK(lines_by(decisions, "profile", "source").count("PUT /profile") == 1);
  CHECK(stats(port)["profile_changes"] == 1);

  // A bad profile is refused with its place and changes nothing.
  const auto bad = control(port, "PUT", "/profile", "default: {error: 2}");
  CHECK(bad.status == 400);
  CHECK(bad.body.find("PUT /profile:1:") != std::string::npos);
  const std::string d = send("after bad profile");
  const auto reply_d = replies.wait_for(d, 30s);
  REQUIRE(reply_d);
  CHECK((*reply_d)["status"] == "error");
  CHECK(stats(port)["profile_changes"] == 1);

  REQUIRE(sim.process.stop(20s));
  CHECK(sim.process.exit_status() == 0);
}
