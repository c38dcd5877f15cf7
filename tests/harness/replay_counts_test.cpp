// A stored run folder replays to its report: every check, count, classification and simulator figure the
// run reported comes back from the files alone (plain and gzipped). The folder holds every kind of line the
// checker reads - late, lost and dropped requests, duplicated, unknown and malformed replies, a request
// redelivered to a second simulator instance, warm-up lines to skip in both logs, simulator events - so
// that the checker's compact form of the decision log is compared on all of them. The expected figures
// are pinned, so that they say what the checker gave before its decision log was held compactly.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "check_fixtures.h"
#include "common/ids.h"
#include "common/reply.h"
#include "harness/decision_logs.h"
#include "harness/run_folder.h"
#include "harness/runner.h"
#include "harness/traffic_plan.h"

namespace replay_counts_test {

namespace fs = std::filesystem;
using namespace rrkit::harness;
using nlohmann::json;
using rrkit::harness::test::kT0;

namespace {

constexpr std::uint64_t kSeed = 11;
constexpr std::uint64_t kRequests = 1000;

std::string key(std::uint64_t i) { return request_key("rr", kSeed, i); }
std::string id_of(std::uint64_t i) { return "cid-" + std::to_string(i); }

json decision(const std::string& id, const std::string& nonce, std::int64_t ts, int copies = 1, bool drop = false) {
  return {{"type", "decision"}, {"ts_us", ts},     {"id", id},       {"rule", drop ? "drop-some" : "default"},
          {"kind", drop ? "drop" : "ok"}, {"copies", copies}, {"drop", drop}, {"delay_us", 0},
          {"reorder", false}, {"fields", {{"nonce", nonce}}}, {"key", nonce}};
}

json reply(const std::string& request_id, const json& reply_id, std::int64_t sent_us, const std::string& kind = "ok") {
  return {{"type", "reply"},       {"ts_us", sent_us + 2000}, {"request_id", request_id}, {"reply_id", reply_id},
          {"kind", kind},          {"sent_us", sent_us},      {"delivered_us", sent_us + 2000}};
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("rrkit-replay-counts-" + rrkit::new_uuid_v4());
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// The run: requests, and the two simulator instances' logs (warm-up lines first).
struct Run {
  std::vector<RequestRecord> requests;
  std::vector<json> log0, log1;
};

RequestRecord answered(std::uint64_t i, const std::string& payload_nonce) {
  RequestRecord r = rrkit::harness::test::ok_record(i, id_of(i), key(i), json{{"nonce", key(i)}, {"seq", i}}.dump());
  const json echo = {{"nonce", payload_nonce}, {"seq", i}, {"correlationId", id_of(i)}};
  r.response_body =
      json{{"correlationId", id_of(i)}, {"response", rrkit::make_reply(id_of(i), true, rrkit::reply_payload_for(echo))}}.dump();
  return r;
}

RequestRecord timed_out(std::uint64_t i) {
  RequestRecord r = rrkit::harness::test::ok_record(i, id_of(i), key(i), json{{"nonce", key(i)}, {"seq", i}}.dump());
  r.done_us = r.sent_us + 1'050'000;
  r.http_status = 504;
  r.outcome = Outcome::timeout;
  r.response_body = R"({"error":"timeout"})";
  return r;
}

Run make_run() {
  Run run;
  for (int w = 0; w < 3; ++w) run.log0.push_back(decision("warm-" + std::to_string(w), "warmup-" + std::to_string(w), kT0 - 1000 + w));
  for (int w = 3; w < 5; ++w) run.log1.push_back(decision("warm-" + std::to_string(w), "warmup-" + std::to_string(w), kT0 - 1000 + w));
  const NonceLookup may_be_run_nonce = [](std::string_view n) { return is_plan_key(n, "rr", kSeed); };
  for (std::uint64_t i = 0; i < kRequests; ++i) {
    const std::int64_t t = kT0 + static_cast<std::int64_t>(i) * 1000;
    const std::string id = id_of(i);
    switch (i % 100) {
      case 0:  // late: the reply left after the deadline
        run.requests.push_back(timed_out(i));
        run.log0.push_back(decision(id, key(i), t + 100));
        run.log0.push_back(reply(id, id, t + 1'040'000));
        break;
      case 1:  // lost: the reply left in time, yet 504
        run.requests.push_back(timed_out(i));
        run.log0.push_back(decision(id, key(i), t + 100));
        run.log0.push_back(reply(id, id, t + 1000));
        break;
      case 2:  // dropped by decision: an expected timeout
        run.requests.push_back(timed_out(i));
        run.log0.push_back(decision(id, key(i), t + 100, 1, true));
        break;
      case 3:  // duplicated reply
        run.requests.push_back(answered(i, key(i)));
        run.log0.push_back(decision(id, key(i), t + 100, 2));
        run.log0.push_back(reply(id, id, t + 1000));
        run.log0.push_back(reply(id, id, t + 1200));
        break;
      case 4:  // the answer carries the previous request's payload
        run.requests.push_back(answered(i, key(i - 1)));
        run.log0.push_back(decision(id, key(i), t + 100));
        run.log0.push_back(reply(id, id, t + 1000));
        break;
      case 5:  // decided by instance 0, which died unconfirmed; redelivered to instance 1
        run.requests.push_back(answered(i, key(i)));
        run.log0.push_back(decision(id, key(i), t + 100));
        run.log1.push_back(decision(id, key(i), t + 300));
        run.log1.push_back(reply(id, id, t + 900));
        break;
      case 6:  // answered, and its reply handed over before the previous request's (out of order)
        run.requests.push_back(answered(i, key(i)));
        run.log1.push_back(decision(id, key(i), t + 100));
        run.log1.push_back(reply(id, id, t - 500));
        break;
      default:
        run.requests.push_back(answered(i, key(i)));
        run.log0.push_back(decision(id, key(i), t + 100));
        run.log0.push_back(reply(id, id, t + 1000));
    }
    if (i % 200 == 7) run.log0.push_back(reply("stranger-" + std::to_string(i), "stranger-" + std::to_string(i), t + 10));
    if (i % 200 == 8) run.log1.push_back(reply(id, nullptr, t + 10, "corrupt"));
    if (i == 500) run.log0.push_back({{"type", "stall"}, {"ts_us", t}, {"phase", "start"}, {"after", 0}, {"for_us", 100}});
    if (i == 600) run.log1.push_back({{"type", "crash"}, {"ts_us", t}, {"after", 1}, {"id", id}});
    // As traffic does: a 200 that verifies is kept without its body.
    compact_verified_answer(rr_gateway_judging().answer, run.requests.back(), may_be_run_nonce);
  }
  return run;
}

const char* kScenario = R"(name: replay-counts
seed: 11
stack: {gateways: 1, gateway_timeout: 1s}
traffic: {mode: closed, concurrency: 1, requests: 1000, body: {action: echo}}
expect:
  assert:
    - "class.late_reply == 10"
    - "class.lost_reply == 10"
    - "class.expected_timeout == 10"
    - "class.mis_correlated == 10"
    - "simulator.duplicated == 10"
    - "simulator.replies_out_of_order >= 10"
    - "expected.duplicate == 10"
    - "gateway.replies_unknown == 5"
)";

// The gateway's counters for this run: what the decision log induces.
std::string metrics() {
  return "rr_gateway_replies_total{class=\"matched\"} 970\n"
         "rr_gateway_replies_total{class=\"late\"} 20\n"
         "rr_gateway_replies_total{class=\"duplicate\"} 15\n"
         "rr_gateway_replies_total{class=\"unknown\"} 5\n"
         "rr_gateway_replies_total{class=\"malformed\"} 5\n"
         "rr_gateway_pending 0\n";
}

void write_log(const fs::path& file, const std::vector<json>& lines) {
  std::ofstream out(file);
  for (const auto& l : lines) out << l.dump() << "\n";
}

void same_report(const ScenarioResult& report, const ScenarioResult& replayed) {
  CHECK(replayed.status == report.status);
  REQUIRE(replayed.checks.size() == report.checks.size());
  for (std::size_t i = 0; i < report.checks.size(); ++i) {
    INFO(report.checks[i].name << ": " << report.checks[i].message);
    CHECK(replayed.checks[i].name == report.checks[i].name);
    CHECK(replayed.checks[i].state == report.checks[i].state);
    CHECK(replayed.checks[i].message == report.checks[i].message);
  }
  CHECK(replayed.counts == report.counts);
  CHECK(replayed.classifications == report.classifications);
  CHECK(replayed.simulator_counters == report.simulator_counters);
  CHECK(replayed.gateway_counters == report.gateway_counters);
  CHECK(replayed.failing_requests == report.failing_requests);
  CHECK(replayed.latency.count == report.latency.count);
  CHECK(replayed.latency.p99 == Approx(report.latency.p99));
}

}  // namespace

TEST_CASE("a stored run folder replays to every check and count of the run's report, plain and gzipped") {
  const Run run = make_run();
  TempDir dir;
  std::ofstream(dir.path / run_files::kScenario) << kScenario;
  std::string error;
  const auto sc = load_scenario(dir.path / run_files::kScenario, error, false);
  INFO(error);
  REQUIRE(sc);

  // The run's own verdict, from the logs as the live checker read them (warm-up lines left out).
  CheckInput in;
  in.scenario = &*sc;
  in.pending = 0;
  in.requests = run.requests;
  in.decisions = merge_decision_logs({std::vector<json>(run.log0.begin() + 3, run.log0.end()),
                                      std::vector<json>(run.log1.begin() + 2, run.log1.end())});
  in.gateway_metrics = {{metrics(), ""}};
  ScenarioResult live;
  live.name = sc->name;
  run_checks(in, live);
  // The report as report.json holds it (with the report's bounded request list).
  ScenarioResult report = scenario_from_json(to_json(live));

  CHECK(report.status == ScenarioStatus::fail);  // lost replies and mis-correlations, on purpose
  CHECK(report.counts.at("sent") == kRequests);
  CHECK(report.counts.at("ok") == 970);
  CHECK(report.counts.at("timeout") == 30);
  CHECK(report.classifications.at("ok") == 960);
  CHECK(report.classifications.at("mis_correlated") == 10);
  CHECK(report.classifications.at("late_reply") == 10);
  CHECK(report.classifications.at("lost_reply") == 10);
  CHECK(report.classifications.at("expected_timeout") == 10);
  CHECK(report.simulator_counters.at("simulator.requests") == 1010);
  CHECK(report.simulator_counters.at("simulator.replies") == 1010);
  CHECK(report.simulator_counters.at("simulator.duplicated") == 10);
  CHECK(report.simulator_counters.at("simulator.drop") == 10);
  CHECK(report.simulator_counters.at("simulator.events.stall") == 1);
  CHECK(report.simulator_counters.at("simulator.events.crash") == 1);
  std::map<std::string, CheckState> states;
  for (const auto& c : report.checks) states[c.name.substr(0, c.name.find(':'))] = c.state;
  CHECK(states.at("no_lost_replies") == CheckState::fail);
  CHECK(states.at("no_mis_correlation") == CheckState::fail);
  CHECK(states.at("reply_counters") == CheckState::pass);  // 15 duplicates: 10 certain, up to 10 unconfirmed
  CHECK(states.at("timeout_bounds") == CheckState::pass);
  std::size_t asserts_passed = 0;
  for (const auto& c : report.checks) asserts_passed += c.name.rfind("assert: ", 0) == 0 && c.passed();
  CHECK(asserts_passed == 8);

  // The run folder as the runner leaves it: history, run.json, metrics, and the simulators' own logs.
  StoredRun stored;
  static_cast<RunFacts&>(stored.record) = in;
  stored.record.metrics_errors = {""};
  stored.record.decisions_offset = 3;
  stored.record.further_decisions_offsets = {2};
  stored.record.seed = kSeed;
  stored.history = run.requests;
  stored.metrics = in.gateway_metrics;
  save_run(dir.path, stored);
  write_log(decision_log(dir.path, 0), run.log0);
  write_log(decision_log(dir.path, 1), run.log1);

  SECTION("plain") {
    const auto replayed = replay_run(dir.path, error);
    INFO(error);
    REQUIRE(replayed);
    same_report(report, *replayed);
  }
  SECTION("gzipped") {
    REQUIRE(compress_run_folder(dir.path, error));
    REQUIRE(fs::exists(dir.path / "decisions-1.jsonl.gz"));
    const auto replayed = replay_run(dir.path, error);
    INFO(error);
    REQUIRE(replayed);
    same_report(report, *replayed);
  }
}

}  // namespace replay_counts_test
