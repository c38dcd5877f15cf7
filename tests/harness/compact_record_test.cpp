// A long run keeps compact request records: a 200 is checked as it arrives and its body dropped when it
// is the request's own; the run folder's line files may be gzipped; the report lists failures and a
// sample. None of that may change a verdict: the same checks, the same counts, the same classifications.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "check_fixtures.h"
#include "common/ids.h"
#include "common/reply.h"
#include "harness/checker.h"
#include "harness/memory.h"
#include "harness/run_folder.h"
#include "harness/traffic_plan.h"

namespace compact_record_test {

namespace fs = std::filesystem;
using namespace rrkit::harness;
using nlohmann::json;
using rrkit::harness::test::base_scenario;
using rrkit::harness::test::kT0;

namespace {

constexpr std::uint64_t kSeed = 7;

std::string key(std::uint64_t i) { return request_key("rr", kSeed, i); }

// Request i answered 200 with the legacy system's reply carrying `payload_nonce`.
RequestRecord answered(std::uint64_t i, const std::string& id, const std::string& payload_nonce) {
  RequestRecord r = rrkit::harness::test::ok_record(i, id, key(i), json{{"nonce", key(i)}, {"seq", i}}.dump());
  const json echo = {{"nonce", payload_nonce}, {"seq", i}, {"correlationId", id}};
  r.response_body = json{{"correlationId", id}, {"response", rrkit::make_reply(id, true, rrkit::reply_payload_for(echo))}}.dump();
  return r;
}

RequestRecord timed_out(std::uint64_t i, const std::string& id) {
  RequestRecord r = rrkit::harness::test::ok_record(i, id, key(i), json{{"nonce", key(i)}, {"seq", i}}.dump());
  r.done_us = r.sent_us + 1'050'000;
  r.http_status = 504;
  r.outcome = Outcome::timeout;
  r.response_body = R"({"error":"timeout"})";
  return r;
}

json decision(const std::string& id, const std::string& nonce) {
  return {{"type", "decision"}, {"id", id}, {"rule", "default"}, {"kind", "ok"}, {"copies", 1}, {"drop", false},
          {"fields", {{"nonce", nonce}}}};
}

json reply(const std::string& id, std::int64_t sent_us) {
  return {{"type", "reply"}, {"request_id", id}, {"reply_id", id}, {"kind", "ok"}, {"sent_us", sent_us}};
}

// The decision log of the fixture's requests, as the simulator writes it.
std::vector<json> decision_log_of(const std::vector<RequestRecord>& requests) {
  std::vector<json> lines;
  for (const auto& r : requests) {
    lines.push_back(decision(r.correlation_id, r.nonce));
    // #44's reply leaves after its deadline (late); #45 was decided with no reply (expected timeout).
    if (r.index == 44) lines.push_back(reply(r.correlation_id, r.sent_us + 1'040'000));
    if (r.index < 44) lines.push_back(reply(r.correlation_id, r.sent_us + 1000));
  }
  return lines;
}

// A recorded run with one request of every kind the checker tells apart by the answer body: good answers,
// a mis-correlated one, one carrying a nonce that looks like the run's but belongs to no request, one
// that is not JSON, one whose echo lost a field, and timeouts with and without a reply.
CheckInput fixture(const Scenario& sc) {
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  for (std::uint64_t i = 0; i < 40; ++i) in.requests.push_back(answered(i, "id" + std::to_string(i), key(i)));
  in.requests.push_back(answered(40, "id40", key(3)));      // mis-correlated
  in.requests.push_back(answered(41, "id41", key(999)));    // a key of the plan's form nobody sent
  RequestRecord garbled = answered(42, "id42", key(42));
  garbled.response_body = "<html>bad gateway</html>";
  in.requests.push_back(garbled);
  RequestRecord lost_field = answered(43, "id43", key(43));
  lost_field.request_body = json{{"nonce", key(43)}, {"seq", 43}, {"action", "pay"}}.dump();
  in.requests.push_back(lost_field);
  in.requests.push_back(timed_out(44, "id44"));              // late reply
  in.requests.push_back(timed_out(45, "id45"));              // no reply at all: expected timeout
  in.decisions = decision_log_of(in.requests);
  in.gateway_metrics = {{"rr_gateway_replies_total{class=\"matched\"} 44\n"
                         "rr_gateway_replies_total{class=\"late\"} 1\n"
                         "rr_gateway_replies_total{class=\"duplicate\"} 0\n"
                         "rr_gateway_replies_total{class=\"unknown\"} 0\n"
                         "rr_gateway_replies_total{class=\"malformed\"} 0\n"
                         "rr_gateway_pending 0\n",
                         ""}};
  return in;
}

// What traffic does to each answer as it arrives.
std::size_t compact_all(CheckInput& in) {
  const NonceLookup may_be_run_nonce = [](std::string_view n) { return is_plan_key(n, "rr", kSeed); };
  std::size_t compacted = 0;
  for (auto& r : in.requests) compacted += compact_verified_answer(in.sut.answer, r, may_be_run_nonce) ? 1 : 0;
  return compacted;
}

void require_same_verdict(const ScenarioResult& a, const ScenarioResult& b) {
  CHECK(a.status == b.status);
  REQUIRE(a.checks.size() == b.checks.size());
  for (std::size_t i = 0; i < a.checks.size(); ++i) {
    INFO(a.checks[i].name);
    CHECK(a.checks[i].name == b.checks[i].name);
    CHECK(a.checks[i].state == b.checks[i].state);
    CHECK(a.checks[i].message == b.checks[i].message);
  }
  CHECK(a.counts == b.counts);
  CHECK(a.classifications == b.classifications);
  CHECK(a.gateway_counters == b.gateway_counters);
  CHECK(a.simulator_counters == b.simulator_counters);
  CHECK(a.failing_requests == b.failing_requests);
  REQUIRE(a.requests.size() == b.requests.size());
  for (std::size_t i = 0; i < a.requests.size(); ++i) {
    INFO("request #" << a.requests[i].index);
    CHECK(a.requests[i].classification == b.requests[i].classification);
  }
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("rrkit-compact-" + rrkit::new_uuid_v4());
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

StoredRun stored_from(const CheckInput& in) {
  StoredRun run;
  static_cast<RunFacts&>(run.record) = in;
  run.record.metrics_errors = {""};
  run.history = in.requests;
  run.decisions = in.decisions;
  run.metrics = in.gateway_metrics;
  return run;
}

ScenarioResult replay_of(const fs::path& dir, const Scenario& sc) {
  std::string error;
  const auto loaded = load_run(dir, error);
  INFO(error);
  REQUIRE(loaded);
  CheckInput in;
  static_cast<RunFacts&>(in) = loaded->record;
  in.scenario = &sc;
  in.requests = loaded->history;
  in.decisions = loaded->decisions;
  in.gateway_metrics = loaded->metrics;
  ScenarioResult out;
  run_checks(in, out);
  return out;
}

}  // namespace

TEST_CASE("answers checked as they arrive give the verdict the checker gives on the kept bodies") {
  const Scenario sc = base_scenario();
  const CheckInput kept = fixture(sc);
  ScenarioResult old_path;
  run_checks(kept, old_path);
  // The fixture is a failing run with every kind of answer, so the comparison covers them all.
  REQUIRE(old_path.status == ScenarioStatus::fail);
  CHECK(old_path.classifications["ok"] == 40);
  CHECK(old_path.classifications["mis_correlated"] == 1);
  CHECK(old_path.classifications["unverified_answer"] == 2);
  CHECK(old_path.classifications["unparseable_answer"] == 1);
  CHECK(old_path.classifications["late_reply"] == 1);
  CHECK(old_path.classifications["expected_timeout"] == 1);

  CheckInput compact = fixture(sc);
  // Only the good answers lose their bodies: every other one is judged from its body at the end.
  CHECK(compact_all(compact) == 40);
  for (const auto& r : compact.requests) {
    INFO("request #" << r.index);
    CHECK(r.answer_verified == (r.index < 40));
    CHECK(r.response_body.empty() == (r.index < 40));
  }
  ScenarioResult streamed;
  run_checks(compact, streamed);
  require_same_verdict(old_path, streamed);
}

TEST_CASE("a run folder of compact records replays to the same verdict, plain and gzipped") {
  const Scenario sc = base_scenario();
  ScenarioResult old_path;
  run_checks(fixture(sc), old_path);
  CheckInput compact = fixture(sc);
  compact_all(compact);
  TempDir dir;
  save_run(dir.path, stored_from(compact));
  std::ofstream(dir.path / run_files::kDecisions) << [&] {
    std::string lines;
    for (const auto& d : decision_log_of(compact.requests)) lines += d.dump() + "\n";
    return lines;
  }();
  const auto plain_bytes = fs::file_size(dir.path / run_files::kHistory);
  require_same_verdict(old_path, replay_of(dir.path, sc));

  std::string error;
  REQUIRE(compress_run_folder(dir.path, error));
  CHECK_FALSE(fs::exists(dir.path / run_files::kHistory));
  CHECK_FALSE(fs::exists(dir.path / run_files::kDecisions));
  REQUIRE(fs::exists(dir.path / (std::string(run_files::kHistory) + ".gz")));
  CHECK(fs::file_size(dir.path / (std::string(run_files::kHistory) + ".gz")) < plain_bytes);
  require_same_verdict(old_path, replay_of(dir.path, sc));
}

TEST_CASE("the history keeps every request's body and the id the client saw, whatever a record still holds") {
  // A live run drops the request body of an answer verified on arrival and joins ids from the decision log
  // into the records it checks; history.jsonl is what it was before either: replay reads the same file.
  RequestRecord verified = rrkit::harness::test::ok_record(0, "id-0", key(0), "");
  verified.answer_verified = true;
  RequestRecord joined;
  joined.index = 1;
  joined.nonce = key(1);
  joined.outcome = Outcome::disconnected;
  joined.request_body = R"({"nonce":"kept"})";
  joined.correlation_id = "id-1";
  joined.id_from_log = true;
  StoredRun run;
  run.record.metrics_errors = {""};
  run.history = {verified, joined};
  run.request_body_of = [](const RequestRecord& r) { return "rendered-" + std::to_string(r.index); };
  TempDir dir;
  save_run(dir.path, run);
  std::ifstream in(dir.path / run_files::kHistory);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  REQUIRE(lines.size() == 2);
  CHECK(lines[0]["request_body"] == "rendered-0");
  CHECK(lines[0]["correlation_id"] == "id-0");
  CHECK(lines[1]["request_body"] == R"({"nonce":"kept"})");  // a body the record holds is written as it is
  CHECK(lines[1]["correlation_id"] == "");
}

TEST_CASE("a 504 that holds neither body writes the history line it wrote with both") {
  // A live run keeps no request body of a 504 (the plan renders it again) and shares the text of 504 answers
  // that differ only by the id: history.jsonl must not change by a byte.
  TrafficPlan plan;
  plan.seed = kSeed;
  plan.body_template = {{"action", "echo"}};
  const auto body = [](const std::string& id) { return R"({"correlationId":")" + id + R"(","error":"timeout","timeoutMs":500})"; };
  AnswerPatterns patterns;
  StoredRun whole, compact;
  for (std::uint64_t i = 0; i < 3; ++i) {
    const std::string id = "id-" + std::to_string(i) + "-3f1c2a9e-7d4b-4c1e-9a2f";
    RequestRecord r = timed_out(i, id);
    r.request_body = recorded_request_body(plan, i, r.nonce);
    r.response_body = body(id);
    whole.history.push_back(r);
    r.request_body.clear();
    r.response_body = patterns.keep(body(id), id);
    compact.history.push_back(r);
  }
  REQUIRE(compact.history.back().response_body.shared());
  REQUIRE(compact.history.back().request_body.empty());
  compact.request_body_of = [&plan](const RequestRecord& r) { return recorded_request_body(plan, r.index, r.nonce); };
  whole.record.metrics_errors = compact.record.metrics_errors = {""};
  TempDir a, b;
  save_run(a.path, whole);
  save_run(b.path, compact);
  const auto text = [](const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string expected = text(a.path / run_files::kHistory);
  CHECK(expected.find(R"(\"timeoutMs\":500)") != std::string::npos);
  CHECK(text(b.path / run_files::kHistory) == expected);
}

TEST_CASE("a gzipped history that is cut short is an error, not a shorter run") {
  const Scenario sc = base_scenario();
  CheckInput compact = fixture(sc);
  TempDir dir;
  save_run(dir.path, stored_from(compact));
  std::string error;
  REQUIRE(compress_run_folder(dir.path, error));
  const fs::path gz = dir.path / (std::string(run_files::kHistory) + ".gz");
  fs::resize_file(gz, fs::file_size(gz) / 2);
  CHECK_FALSE(load_run(dir.path, error));
  CHECK(error.find("history.jsonl.gz") != std::string::npos);
}

TEST_CASE("a history.jsonl.gz that is not gzip at all is an error naming the file") {
  const Scenario sc = base_scenario();
  CheckInput compact = fixture(sc);
  TempDir dir;
  save_run(dir.path, stored_from(compact));
  std::string error;
  REQUIRE(compress_run_folder(dir.path, error));
  const fs::path gz = dir.path / (std::string(run_files::kHistory) + ".gz");
  std::ofstream(gz, std::ios::binary | std::ios::trunc) << "{\"index\":0}\nnot a gzip stream\x1f\x8b\x08";
  CHECK_FALSE(load_run(dir.path, error));
  CHECK(error.find("history.jsonl.gz") != std::string::npos);
}

TEST_CASE("a report lists failing and unusual requests and a bounded sample, with counts that cover all") {
  const Scenario sc = base_scenario();
  ScenarioResult out;
  run_checks(fixture(sc), out);
  const auto counts = out.counts;
  const auto classifications = out.classifications;
  bound_request_list(out, 5);
  CHECK(out.counts == counts);
  CHECK(out.classifications == classifications);
  std::size_t routine = 0;
  for (const auto& r : out.requests) {
    if (r.classification == Classification::ok || r.classification == Classification::expected_timeout ||
        r.classification == Classification::late_reply) {
      ++routine;
    }
  }
  // 40 ok answers, one late reply and one expected timeout: an even sample of at most 5 of those 42.
  CHECK(routine <= 5);
  CHECK(routine >= 1);
  CHECK(out.requests.size() - routine == 4);  // every answer that failed a check is listed
  CHECK(out.requests_omitted == 42 - routine);
  // The report says how many it left out, and reads back with it.
  out.harness_peak_rss_bytes = 123 << 20;
  const ScenarioResult back = scenario_from_json(to_json(out));
  CHECK(back.requests_omitted == out.requests_omitted);
  CHECK(back.harness_peak_rss_bytes == out.harness_peak_rss_bytes);
  CHECK(back.requests.size() == out.requests.size());
  // A short run is listed whole.
  ScenarioResult whole;
  run_checks(fixture(sc), whole);
  bound_request_list(whole, 100);
  CHECK(whole.requests.size() == 46);
  CHECK(whole.requests_omitted == 0);
}

TEST_CASE("the harness's own peak RSS is VmHWM of /proc/self/status") {
  TempDir dir;
  fs::create_directories(dir.path / "self");
  std::ofstream(dir.path / "self" / "status") << "Name:\trr-harness\nVmHWM:\t  123456 kB\nVmRSS:\t  100000 kB\n";
  CHECK(own_peak_rss_bytes(dir.path.string()) == std::optional<std::uint64_t>(123456ull * 1024));
  CHECK_FALSE(own_peak_rss_bytes((dir.path / "none").string()));
  CHECK(own_peak_rss_bytes().value_or(0) > 0);
}

}  // namespace compact_record_test
