#include <atomic>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "common/process.h"
#include "common/reply.h"
#include "simulator/control_api.h"
#include "simulator/engine.h"
#include "simulator/kafka_io.h"

using namespace rrkit::simulator;
using namespace std::chrono_literals;

namespace {

// Records produced replies; delivery reports are sent back by the test (as librdkafka would).
class RecordingSink : public ReplySink {
 public:
  struct Sent {
    std::string topic, key, body;
    std::uint64_t token;
  };
  ProduceResult produce(const std::string& topic, const std::string& key, const std::string& body,
                        std::uint64_t token) override {
    std::lock_guard lock(mutex);
    sent.push_back({topic, key, body, token});
    return ProduceResult::ok;
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return sent.size();
  }
  std::vector<Sent> snapshot() {
    std::lock_guard lock(mutex);
    return sent;
  }
  std::mutex mutex;
  std::vector<Sent> sent;
};

struct Fixture {
  explicit Fixture(const std::string& yaml) {
    auto r = parse_profile(yaml, "test");
    if (!r) FAIL(r.error->to_string());
    log_path = std::filesystem::temp_directory_path() / ("rr-sim-engine-" + std::to_string(::getpid()) + ".jsonl");
    std::filesystem::remove(log_path);
    std::string err;
    REQUIRE(decisions.open(log_path.string(), err));
    engine = std::make_unique<Engine>(r.profile, 5, decisions, sink, metrics, rrkit::log::make("simulator-test", "warn"),
                                      [this] { crashed = true; });
    engine->on_assigned({{"req", 0}});
    engine->start();
  }
  ~Fixture() {
    engine->stop();
    std::filesystem::remove(log_path);
  }
  void send(int i, const std::string& kind = "x") {
    nlohmann::json body{{"correlationId", "id-" + std::to_string(i)}, {"data", {{"kind", kind}}}};
    engine->on_message(parse_incoming("req", 0, i, "", body.dump(), {}, IdSource{}, "rep", false));
  }
  void deliver_all() {
    for (const auto& s : sink.snapshot()) {
      if (delivered.insert(s.token).second) engine->on_delivered(s.token, true, "");
    }
  }
  std::vector<nlohmann::json> log_lines(const std::string& type) {
    std::ifstream in(log_path);
    std::vector<nlohmann::json> out;
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      if (j["type"] == type) out.push_back(j);
    }
    return out;
  }
  std::filesystem::path log_path;
  DecisionLog decisions;
  RecordingSink sink;
  Metrics metrics;
  std::atomic<bool> crashed{false};
  std::set<std::uint64_t> delivered;
  std::unique_ptr<Engine> engine;
};

}  // namespace

TEST_CASE("engine: replies carry the request echo and digest; offsets commit after delivery", "[engine]") {
  Fixture f("{}");
  for (int i = 0; i < 3; ++i) f.send(i);
  REQUIRE(rrkit::proc::wait_until([&] { return f.sink.count() == 3; }, 5s, 5ms));
  // Nothing delivered yet: nothing may be committed beyond the first offset.
  auto c = f.engine->committable();
  REQUIRE(c.size() == 1);
  CHECK(c[0].offset == 0);
  f.deliver_all();
  c = f.engine->committable();
  REQUIRE(c.size() == 1);
  CHECK(c[0].offset == 3);
  for (const auto& s : f.sink.snapshot()) {
    const auto reply = nlohmann::json::parse(s.body);
    CHECK(reply["correlationId"] == s.key);
    CHECK(reply["status"] == "ok");
    CHECK(rrkit::payload_matches(reply["payload"]["echo"], reply["payload"]));
    CHECK(reply["payload"]["echo"]["correlationId"] == s.key);
    CHECK(s.topic == "rep");
  }
  CHECK(f.log_lines("decision").size() == 3);
  CHECK(f.log_lines("reply").size() == 3);
}

TEST_CASE("engine: drops, duplicates with spacing, and bad messages", "[engine]") {
  Fixture f(R"(
rules:
  - {name: lost, match: {field: data.kind, equals: lost}, drop: true}
  - {name: dup, match: {field: data.kind, equals: dup}, duplicate: {copies: 3, spacing: 20ms}}
)");
  f.send(0, "lost");
  f.send(1, "dup");
  f.engine->on_message(parse_incoming("req", 0, 2, "", "not json", {}, IdSource{}, "rep", false));
  REQUIRE(rrkit::proc::wait_until([&] { return f.sink.count() == 3; }, 5s, 5ms));
  for (const auto& s : f.sink.snapshot()) CHECK(s.key == "id-1");
  const auto replies = f.log_lines("reply");
  REQUIRE(replies.size() == 3);
  CHECK(replies[2]["planned_us"].get<std::int64_t>() - replies[0]["planned_us"].get<std::int64_t>() == 40000);
  for (const auto& r : replies) CHECK(r["sent_us"].get<std::int64_t>() >= r["planned_us"].get<std::int64_t>() - 1000);
  const auto decisions = f.log_lines("decision");
  REQUIRE(decisions.size() == 3);
  CHECK(decisions[0]["drop"] == true);
  CHECK(decisions[2]["id"].is_null());
  CHECK(decisions[2]["invalid"] == "body is not JSON");
  f.deliver_all();
  // The dropped and the invalid message are handled too: everything commits.
  REQUIRE(rrkit::proc::wait_until([&] { auto c = f.engine->committable(); return c.size() == 1 && c[0].offset == 3; }, 5s, 5ms));
  CHECK(f.engine->stats()["drop"] == 1);
  CHECK(f.engine->stats()["invalid"] == 1);
}

TEST_CASE("engine: reorder releases a full window in a shuffled, seeded order", "[engine]") {
  Fixture f("default: {reorder: {window: 6, max_hold: 10s}}");
  for (int i = 0; i < 5; ++i) f.send(i);
  // Five held, none released before the window fills.
  CHECK_FALSE(rrkit::proc::wait_until([&] { return f.sink.count() > 0; }, 200ms, 10ms));
  f.send(5);
  REQUIRE(rrkit::proc::wait_until([&] { return f.sink.count() == 6; }, 5s, 5ms));
  std::vector<std::string> order;
  for (const auto& s : f.sink.snapshot()) order.push_back(s.key);
  std::vector<std::string> arrival;
  for (int i = 0; i < 6; ++i) arrival.push_back("id-" + std::to_string(i));
  CHECK(order != arrival);
  CHECK(std::is_permutation(order.begin(), order.end(), arrival.begin()));
}

TEST_CASE("engine: wrong ids, missing ids, corrupt bodies and error replies", "[engine]") {
  Fixture f(R"(
rules:
  - {name: w, match: {field: data.kind, equals: wrong}, wrong_id: random}
  - {name: s, match: {field: data.kind, equals: swap}, wrong_id: swap, delay: 50ms}
  - {name: m, match: {field: data.kind, equals: missing}, missing_id: true}
  - {name: c, match: {field: data.kind, equals: corrupt}, corrupt: true}
  - {name: e, match: {field: data.kind, equals: error}, error: true}
  - {name: slow, match: {field: data.kind, equals: slow}, delay: 2s}
)");
  f.send(9, "slow");  // in flight while the swap reply goes out
  f.send(0, "wrong");
  f.send(1, "swap");
  f.send(2, "missing");
  f.send(3, "corrupt");
  f.send(4, "error");
  REQUIRE(rrkit::proc::wait_until([&] { return f.sink.count() == 5; }, 5s, 5ms));
  std::map<std::string, nlohmann::json> by_request;
  for (const auto& r : f.log_lines("reply")) by_request[r["request_id"]] = r;
  CHECK(by_request["id-0"]["kind"] == "wrong_id");
  CHECK(by_request["id-0"]["reply_id"] != "id-0");
  CHECK(by_request["id-1"]["reply_id"] == "id-9");
  CHECK(by_request["id-2"]["reply_id"].is_null());
  CHECK(by_request["id-3"]["kind"] == "corrupt");
  for (const auto& s : f.sink.snapshot()) {
    const auto j = nlohmann::json::parse(s.body, nullptr, false);
    const std::string echo_id = j.is_discarded() ? "" : j["payload"]["echo"]["correlationId"].get<std::string>();
    if (echo_id == "id-0") CHECK(j["correlationId"] == by_request["id-0"]["reply_id"]);
    if (echo_id == "id-1") CHECK(j["correlationId"] == "id-9");
    if (echo_id == "id-2") CHECK_FALSE(j.contains("correlationId"));
    if (echo_id == "id-4") CHECK(j["status"] == "error");
    if (j.is_discarded()) CHECK(s.key == "id-3");
  }
}

TEST_CASE("engine: crash point, stall and queue bound", "[engine]") {
  SECTION("crash after N: message N+1 is neither handled nor committed") {
    Fixture f("crash: {after: 2}");
    f.send(0);
    f.send(1);
    CHECK_FALSE(f.crashed);
    f.send(2);
    CHECK(f.crashed);
    CHECK(f.log_lines("crash").size() == 1);
    CHECK(f.log_lines("decision").size() == 2);
  }
  SECTION("stall: nothing is consumed or sent for the period") {
    Fixture f("stall: {after: 1, for: 300ms}");
    const auto t0 = std::chrono::steady_clock::now();
    f.send(0);
    CHECK_FALSE(f.engine->accepting());
    REQUIRE(rrkit::proc::wait_until([&] { return f.sink.count() == 1; }, 5s, 5ms));
    CHECK(std::chrono::steady_clock::now() - t0 >= 300ms);
    CHECK(f.engine->accepting());
    CHECK(f.log_lines("stall").size() == 2);
  }
  SECTION("queue bound: consumption pauses while the workers are busy") {
    Fixture f("processing: {workers: 1, queue: 2, service_time: 200ms}");
    f.send(0);
    f.send(1);
    CHECK(f.engine->accepting());
    f.send(2);
    CHECK_FALSE(f.engine->accepting());
    REQUIRE(rrkit::proc::wait_until([&] { return f.engine->accepting(); }, 5s, 5ms));
  }
}

TEST_CASE("incoming: the id is read from a body field, a header or the key", "[engine]") {
  std::string err;
  const auto body = IdSource::parse("body:meta.cid", err);
  REQUIRE(body);
  auto in = parse_incoming("t", 0, 0, "k", R"({"meta":{"cid":"abc"}})", {}, *body, "rep", false);
  CHECK(in.id == "abc");
  in = parse_incoming("t", 0, 0, "k", R"({"meta":{}})", {}, *body, "rep", false);
  CHECK(in.id.empty());
  CHECK(in.invalid == "no string body field 'meta.cid'");
  const auto header = IdSource::parse("header:cid", err);
  in = parse_incoming("t", 0, 0, "k", "plain text", {{"cid", "h1"}, {"replyTo", "mine"}}, *header, "rep", true);
  CHECK(in.id == "h1");
  CHECK(in.reply_topic == "mine");
  CHECK(in.request == "plain text");
  in = parse_incoming("t", 0, 0, "k", "{}", {{"replyTo", "mine"}}, *IdSource::parse("key", err), "rep", false);
  CHECK(in.id == "k");
  CHECK(in.reply_topic == "rep");
  CHECK_FALSE(IdSource::parse("cookie:x", err));
  CHECK(err.find("--id-from") != std::string::npos);
}

namespace {
class FakeTarget : public ControlTarget {
 public:
  nlohmann::json health() override { return {{"status", "ok"}}; }
  nlohmann::json profile_json() override { return to_json(*profile); }
  std::string put_profile(const std::string& text) override {
    auto r = parse_profile(text, "PUT /profile");
    if (!r) return r.error->to_string();
    profile = r.profile;
    return "";
  }
  void pause() override { paused = true; }
  void resume() override { paused = false; }
  nlohmann::json stats() override { return {{"requests", 0}}; }
  std::string metrics_text() override { return "rr_simulator_requests_total 0\n"; }
  std::shared_ptr<const Profile> profile = default_profile();
  bool paused = false;
};
}  // namespace

TEST_CASE("control api: profile get/put, pause/resume, errors", "[control]") {
  FakeTarget t;
  auto r = handle_control(t, {"PUT", "/profile", "default: {delay: 10ms}"});
  CHECK(r.status == 200);
  CHECK(nlohmann::json::parse(r.body)["default"]["delay"]["value"] == "10ms");
  r = handle_control(t, {"PUT", "/profile", R"({"default": {"drop": 1.5}})"});
  CHECK(r.status == 400);
  CHECK(nlohmann::json::parse(r.body)["error"].get<std::string>().find("PUT /profile:1:") == 0);
  CHECK(nlohmann::json::parse(handle_control(t, {"GET", "/profile", ""}).body)["default"]["delay"]["value"] == "10ms");
  CHECK(handle_control(t, {"POST", "/pause", ""}).status == 200);
  CHECK(t.paused);
  CHECK(handle_control(t, {"POST", "/resume", ""}).status == 200);
  CHECK_FALSE(t.paused);
  CHECK(handle_control(t, {"GET", "/pause", ""}).status == 405);
  CHECK(handle_control(t, {"GET", "/nope", ""}).status == 404);
  CHECK(handle_control(t, {"PUT", "/profile", ""}).status == 400);
  CHECK(handle_control(t, {"GET", "/metrics", ""}).content_type.rfind("text/plain", 0) == 0);
  CHECK(handle_control(t, {"GET", "/healthz?x=1", ""}).status == 200);
}
