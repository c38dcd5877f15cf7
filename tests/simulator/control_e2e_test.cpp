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

using namespace std::chrono_literals;
namespace stack = rrkit::stack;
namespace fs = std::filesystem;
using nlohmann::json;
using rrkit::simulator::testing::Producer;
using rrkit::simulator::testing::Reader;
using rrkit::simulator::testing::Record;

namespace {

std::string read_file(const fs::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

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
  const stack::Paths paths = stack::Paths::discover();
  const fs::path dir = fs::temp_directory_path() / ("rrkit-sim-control-e2e-" + rrkit::new_uuid_v4().substr(0, 8));
  fs::create_directories(dir);
  stack::KafkaConfig kc;
  kc.topics = {{"rr.requests", 1}, {"rr.replies", 1}};
  stack::Kafka kafka(paths, dir, kc);
  std::string error;
  const bool started = kafka.start(error);
  INFO(error);
  REQUIRE(started);
  const std::string brokers = kafka.brokers();

  const fs::path decisions = dir / "decisions.jsonl";
  const std::uint16_t port = rrkit::net::free_port();
  rrkit::proc::SpawnSpec spec;
  spec.name = "sim";
  spec.argv = {(paths.bin_dir / "rr-simulator").string(), "--brokers", brokers, "--seed", "7", "--decisions",
               decisions.string(), "--control-listen", "127.0.0.1:" + std::to_string(port)};
  spec.log_file = dir / "sim.log";
  stack::Process sim(spec);
  REQUIRE(sim.start(error));
  const bool assigned = rrkit::proc::wait_until(
      [&] {
        const auto r = rrkit::http::get(port, "/healthz");
        const auto j = json::parse(r.body, nullptr, false);
        return r.ok() && j.is_object() && j.value("assigned_partitions", 0) == 1;
      },
      60s, 100ms);
  INFO(read_file(sim.log_file()));
  REQUIRE(assigned);

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

  REQUIRE(sim.stop(20s));
  CHECK(sim.exit_status() == 0);
}
