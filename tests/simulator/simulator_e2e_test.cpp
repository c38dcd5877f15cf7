// rr-simulator against the real Kafka broker (KRaft, via rrkit::stack): for a seeded profile
// mixing every fault, what appears on the reply topic matches the decision log exactly.
#include <catch2/catch.hpp>

#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "testkit/http_client.h"
#include "common/ids.h"
#include "common/json_limits.h"
#include "testkit/net.h"
#include "common/reply.h"
#include "testkit/stack.h"
#include "tests/simulator/kafka_test_util.h"
#include "tests/simulator/sim_stack_util.h"

using namespace std::chrono_literals;
namespace stack = rrkit::stack;
namespace fs = std::filesystem;
using namespace rrkit::simulator::testing;

namespace {

constexpr int kRequests = 400;
constexpr int kRequestPartitions = 4;
constexpr int kInvalid = 3;  // requests the simulator cannot answer
constexpr const char* kCrashTopic = "rr.requests.crash";

std::vector<nlohmann::json> read_jsonl(const fs::path& path, const std::string& type) {
  std::ifstream in(path);
  std::vector<nlohmann::json> out;
  std::string line;
  while (std::getline(in, line)) {
    const auto j = rrkit::parse_bounded(line).value;
    if (!j.is_discarded() && j.value("type", "") == type) out.push_back(j);
  }
  return out;
}

}  // namespace

TEST_CASE("rr-simulator on real Kafka: reply topic matches the decision log for every fault", "[e2e]") {
  KafkaStack ks("rrkit-sim-e2e-", {{"rr.requests", kRequestPartitions}, {"rr.replies", 1}, {kCrashTopic, 1}});
  const stack::Paths& paths = ks.paths;
  const fs::path& dir = ks.dir;
  stack::Kafka& kafka = ks.kafka;
  const std::string brokers = kafka.brokers();
  const std::string profile = std::string(RRKIT_REPO_DIR) + "/scenarios/profiles/mixed.yaml";

  Sim sim = start_simulator(paths, dir, "sim", {"--brokers", brokers, "--profile", profile});
  wait_assigned(sim, kRequestPartitions);

  // Requests as the gateway would publish them, plus three the legacy system cannot answer: one of
  // them nested 100,000 levels deep (echoing or digesting it would recurse once per level).
  std::map<std::string, nlohmann::json> requests;
  Producer producer(brokers);
  const std::string deep_id = rrkit::new_uuid_v4();
  for (int i = 0; i < kRequests; ++i) {
    if (i == kRequests / 2) {
      producer.send("rr.requests", deep_id,
                    R"({"correlationId":")" + deep_id + R"(","a":)" + std::string(100000, '[') +
                        std::string(100000, ']') + "}");
    }
    const std::string id = rrkit::new_uuid_v4();
    nlohmann::json body{{"action", "test"}, {"data", {{"n", i}, {"kind", i % 10 == 0 ? "slow" : "fast"}}},
                        {"correlationId", id}};
    requests[id] = body;
    producer.send("rr.requests", id, body.dump());
  }
  producer.send("rr.requests", "", "this is not json");
  producer.send("rr.requests", "", R"({"action":"no id"})");
  producer.flush();

  // Wait until every decision is logged and every planned reply was sent, then read the reply topic.
  int planned = -1;
  REQUIRE(rrkit::proc::wait_until(
      [&] {
        const auto decisions = read_jsonl(sim.decisions, "decision");
        if (decisions.size() != kRequests + kInvalid) return false;
        planned = 0;
        for (const auto& d : decisions) planned += d["copies"].get<int>();
        return static_cast<int>(read_jsonl(sim.decisions, "reply").size()) == planned;
      },
      60s, 100ms));
  std::vector<Record> topic;
  {
    Reader reader(brokers, "rr.replies", "e2e-reader-" + rrkit::new_uuid_v4());
    REQUIRE(rrkit::proc::wait_until(
        [&] {
          reader.poll(topic, 200ms);
          return static_cast<int>(topic.size()) >= planned;
        },
        60s, 0ms));
    // Nothing beyond what the log announced arrives afterwards.
    for (int i = 0; i < 5; ++i) reader.poll(topic, 200ms);
  }
  const auto decisions = read_jsonl(sim.decisions, "decision");
  const auto replies = read_jsonl(sim.decisions, "reply");
  REQUIRE(static_cast<int>(topic.size()) == planned);
  REQUIRE(replies.size() == topic.size());

  // Per request: a drop sends nothing, otherwise exactly `copies` replies.
  std::map<std::string, int> sent_per_request;
  for (const auto& r : replies) ++sent_per_request[r["request_id"].get<std::string>()];
  std::map<std::string, int> counts;
  std::map<std::string, nlohmann::json> decision_of;
  std::multiset<std::string> invalid_reasons;
  for (const auto& d : decisions) {
    if (d["id"].is_null()) {
      ++counts["invalid"];
      invalid_reasons.insert(d.value("invalid", ""));
      CHECK(d["drop"] == true);
      continue;
    }
    const std::string id = d["id"];
    REQUIRE(requests.count(id) == 1);
    decision_of[id] = d;
    CHECK(sent_per_request[id] == d["copies"].get<int>());
    if (d["drop"] == true) ++counts["drop"];
    if (d["copies"].get<int>() > 1) ++counts["duplicate"];
    if (d["reorder"] == true) ++counts["reorder"];
    ++counts["kind:" + d["kind"].get<std::string>()];
  }
  CHECK(counts["invalid"] == kInvalid);
  CHECK(invalid_reasons.count("body nests deeper than 128 levels") == 1);
  CHECK(read_file(sim.process.log_file()).find("body nests deeper than 128 levels") != std::string::npos);
  CHECK(decision_of.size() == kRequests);
  // The seeded mix really contains every fault (fractions of 400 requests).
  for (const char* k : {"drop", "duplicate", "reorder", "kind:corrupt", "kind:missing_id", "kind:wrong_id", "kind:error",
                        "kind:ok"}) {
    INFO(k);
    CHECK(counts[k] > 0);
  }

  // Reply by reply, in order (one reply partition): the topic holds exactly what the log says was sent.
  std::map<std::string, int> observed;
  for (std::size_t i = 0; i < topic.size(); ++i) {
    const auto& r = replies[i];
    const auto& m = topic[i];
    const std::string request_id = r["request_id"];
    const std::string kind = r["kind"];
    INFO("reply " << i << " " << r.dump() << " message " << m.value);
    const auto body = rrkit::parse_bounded(m.value).value;
    ++observed[kind];
    if (kind == "corrupt") {
      CHECK(body.is_discarded());
      CHECK(m.key == request_id);
      continue;
    }
    REQUIRE(body.is_object());
    CHECK(rrkit::payload_matches(requests.at(request_id), body["payload"]));
    if (kind == "missing_id") {
      CHECK_FALSE(body.contains("correlationId"));
      CHECK(r["reply_id"].is_null());
    } else {
      CHECK(body["correlationId"] == r["reply_id"]);
      CHECK(m.key == r["reply_id"].get<std::string>());
    }
    if (kind == "wrong_id") {
      CHECK(r["reply_id"] != request_id);
      if (decision_of[request_id]["wrong_id"] == "swap") CHECK(requests.count(r["reply_id"]) == 1);
    }
    if (kind == "ok" || kind == "error") CHECK(body["correlationId"] == request_id);
    CHECK(body["status"] == (kind == "error" ? "error" : "ok"));
    CHECK(r["sent_us"].get<std::int64_t>() + 1000 >= r["planned_us"].get<std::int64_t>());
    // Logged from the delivery report, never before Kafka had the reply.
    CHECK(r["delivered_us"].get<std::int64_t>() >= r["sent_us"].get<std::int64_t>());
  }
  // Reorder: replies held in a window leave in an order other than planned.
  int inversions = 0;
  std::int64_t last_planned = 0;
  for (const auto& r : replies) {
    if (decision_of[r["request_id"]]["reorder"] != true) continue;
    if (r["planned_us"].get<std::int64_t>() < last_planned) ++inversions;
    last_planned = r["planned_us"].get<std::int64_t>();
  }
  CHECK(inversions > 0);

  // /stats agrees with the log.
  const auto stats = rrkit::parse_bounded(rrkit::http::get(sim.control_port, "/stats").body).value;
  CHECK(stats["requests"] == kRequests + kInvalid);
  CHECK(stats["invalid"] == kInvalid);
  CHECK(stats["drop"] == counts["drop"]);
  CHECK(stats["duplicate"] == counts["duplicate"]);
  CHECK(stats["corrupt"] == counts["kind:corrupt"]);
  CHECK(stats["wrong_id"] == counts["kind:wrong_id"]);
  CHECK(stats["replies"] == planned);
  const auto metrics = rrkit::http::get(sim.control_port, "/metrics");
  CHECK(metrics.body.find("rr_simulator_decisions_total{decision=\"drop\"} " + std::to_string(counts["drop"])) !=
        std::string::npos);

  // SIGTERM: exit 0, every handled offset committed (the deep request's too: nothing is redelivered).
  CHECK(sim.process.alive());
  REQUIRE(sim.process.stop(20s));
  CHECK(sim.process.exit_status() == 0);
  CHECK(rrkit::simulator::testing::committed(brokers, "rr-simulator", "rr.requests", kRequestPartitions) ==
        rrkit::simulator::testing::end_offsets(brokers, "rr.requests", kRequestPartitions));
  CHECK(read_file(sim.process.log_file()).find("rr-simulator stopped") != std::string::npos);

  {  // same seed, same decisions: a second simulator (own group) re-reads the requests
    Sim again = start_simulator(paths, dir, "sim-again",
                                {"--brokers", brokers, "--profile", profile, "--group", "rr-simulator-again",
                                 "--reply-topic", "rr.replies.again", "--set", "default.delay=0ms"});
    REQUIRE(rrkit::proc::wait_until([&] { return read_jsonl(again.decisions, "decision").size() == kRequests + kInvalid; },
                                    60s, 100ms));
    int compared = 0;
    for (const auto& d : read_jsonl(again.decisions, "decision")) {
      if (d["id"].is_null()) continue;
      const auto& first = decision_of.at(d["id"].get<std::string>());
      for (const char* k : {"rule", "drop", "copies", "spacing_us", "reorder", "corrupt", "missing_id", "wrong_id",
                            "error", "kind", "service_us"}) {
        INFO(d.dump() << " vs " << first.dump() << " key " << k);
        CHECK(d[k] == first[k]);
      }
      // The override changed the default rule's delay only.
      if (d["rule"] != "default") CHECK(d["delay_us"] == first["delay_us"]);
      ++compared;
    }
    CHECK(compared == kRequests);
    REQUIRE(again.process.stop(20s));
    CHECK(again.process.exit_status() == 0);
  }

  {  // crash after N exits 70; what it had not answered (the requests it held and the one that hit the
     // crash point) stays uncommitted, so a replacement in the same group consumes exactly those again.
    const fs::path crash_profile = dir / "crash.yaml";
    std::ofstream(crash_profile) << "crash: {after: 5}\n"
                                    "rules:\n  - {name: held, match: {field: mode, equals: held}, delay: 60s}\n";
    const std::vector<std::string> on_crash_topic = {"--brokers", brokers, "--group", "rr-simulator-crash",
                                                     "--request-topic", kCrashTopic, "--reply-topic",
                                                     "rr.replies.crash"};
    std::vector<std::string> args = on_crash_topic;
    args.insert(args.end(), {"--profile", crash_profile.string()});
    Sim crash = start_simulator(paths, dir, "sim-crash", args);
    wait_assigned(crash, 1);
    // Offsets 0-2 answered at once, 3-4 held for a minute, then 5 hits the crash point.
    std::vector<std::string> ids;
    for (int i = 0; i < 6; ++i) ids.push_back(rrkit::new_uuid_v4());
    auto produce_request = [&](int i, const char* mode) {
      producer.send(kCrashTopic, ids[static_cast<std::size_t>(i)],
                    nlohmann::json{{"correlationId", ids[static_cast<std::size_t>(i)]}, {"mode", mode}}.dump());
    };
    for (int i = 0; i < 3; ++i) produce_request(i, "answer");
    for (int i = 3; i < 5; ++i) produce_request(i, "held");
    producer.flush();
    auto committed_crash = [&] {
      return rrkit::simulator::testing::committed(brokers, "rr-simulator-crash", kCrashTopic, 1)[0];
    };
    // The three answers are delivered and committed; the held pair stops the commit at offset 3.
    std::int64_t seen = -1;
    REQUIRE(rrkit::proc::wait_until([&] { return (seen = committed_crash()) >= 3; }, 60s, 200ms));
    CHECK(seen == 3);
    CHECK(read_jsonl(crash.decisions, "decision").size() == 5);
    produce_request(5, "answer");
    producer.flush();
    REQUIRE(rrkit::proc::wait_until([&] { return !crash.process.alive(); }, 60s, 100ms));
    CHECK(crash.process.exit_status() == 70);
    const auto crash_lines = read_jsonl(crash.decisions, "crash");
    REQUIRE(crash_lines.size() == 1);
    CHECK(crash_lines[0]["id"] == ids[5]);
    CHECK(crash_lines[0]["offset"] == 5);
    CHECK(read_jsonl(crash.decisions, "decision").size() == 5);
    CHECK(committed_crash() == 3);

    Sim replacement = start_simulator(paths, dir, "sim-replacement", on_crash_topic);
    REQUIRE(rrkit::proc::wait_until([&] { return read_jsonl(replacement.decisions, "decision").size() >= 3; }, 60s,
                                    100ms));
    REQUIRE(replacement.process.stop(20s));
    CHECK(replacement.process.exit_status() == 0);
    std::map<std::int64_t, std::string> again;
    for (const auto& d : read_jsonl(replacement.decisions, "decision")) {
      again[d["offset"].get<std::int64_t>()] = d["id"].get<std::string>();
    }
    CHECK(again == std::map<std::int64_t, std::string>{{3, ids[3]}, {4, ids[4]}, {5, ids[5]}});
    CHECK(committed_crash() == 6);
  }

  {  // bad profile: non-zero exit naming file, line and key; nothing consumed
    const fs::path bad = dir / "bad.yaml";
    std::ofstream(bad) << "rules:\n  - name: late\n    delay: -5ms\n";
    Sim s = start_simulator(paths, dir, "sim-bad", {"--brokers", brokers, "--profile", bad.string()});
    REQUIRE(rrkit::proc::wait_until([&] { return !s.process.alive(); }, 30s, 50ms));
    CHECK(s.process.exit_status() == 2);
    const std::string log = read_file(s.process.log_file());
    CHECK(log.find(bad.string() + ":3:12: rules.0.delay: negative duration '-5ms'") != std::string::npos);
    CHECK_FALSE(fs::exists(s.decisions));
  }
}
