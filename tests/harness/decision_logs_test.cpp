// A scaled-out simulator's decision logs, one per instance, read as one log: merged by time with each log's
// order kept, warm-up lines left out per log, and a request redelivered to another instance after a kill
// keeping the checker's allowance for the replies the killed one sent without logging them.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "harness/checker.h"
#include "harness/decision_logs.h"

namespace decision_logs_test {

namespace fs = std::filesystem;
using json = nlohmann::json;
using namespace rrkit::harness;

namespace {

json line(const std::string& type, const std::string& id, std::int64_t ts) {
  json j = {{"type", type}, {"ts_us", ts}};
  if (type == "decision") {
    j.update({{"id", id}, {"rule", "default"}, {"kind", "ok"}, {"copies", 1}, {"drop", false}});
  } else {
    j.update({{"request_id", id}, {"reply_id", id}, {"kind", "ok"}, {"sent_us", ts}});
  }
  return j;
}

std::vector<std::string> order(const std::vector<json>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.value("type", "") + ":" + l.value("id", l.value("request_id", "")));
  return out;
}

// The same, for the compact lines the checker reads a run folder into.
std::vector<std::string> order(const DecisionLines& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) {
    out.push_back(std::string(lines.str(l.type_name)) + ":" +
                  std::string(lines.str(l.type == rrkit::DecisionLineType::decision ? l.id : l.request_id)));
  }
  return out;
}

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("rrkit-decision-logs-" + rrkit::new_uuid_v4());
  TempDir() { fs::create_directories(path); }
  ~TempDir() { fs::remove_all(path); }
};

void write_log(const fs::path& file, const std::vector<json>& lines) {
  std::ofstream out(file);
  for (const auto& l : lines) out << l.dump() << "\n";
}

}  // namespace

TEST_CASE("decision logs: instance 0 keeps the historical name, instance k has its own") {
  CHECK(decision_log("/r", 0) == fs::path("/r/decisions.jsonl"));
  CHECK(decision_log("/r", 2) == fs::path("/r/decisions-2.jsonl"));
}

TEST_CASE("decision logs merge by time and keep each log's own order") {
  const std::vector<json> a = {line("decision", "a", 10), line("reply", "a", 40), line("decision", "c", 70)};
  std::vector<json> b = {line("decision", "b", 20), line("reply", "b", 30), line("reply", "b2", 90)};
  SECTION("interleaved by ts_us") {
    CHECK(order(merge_decision_logs({a, b})) ==
          std::vector<std::string>{"decision:a", "decision:b", "reply:b", "reply:a", "decision:c", "reply:b2"});
  }
  SECTION("a line without a time stays right after its predecessor") {
    b[1].erase("ts_us");
    CHECK(order(merge_decision_logs({a, b})) ==
          std::vector<std::string>{"decision:a", "decision:b", "reply:b", "reply:a", "decision:c", "reply:b2"});
  }
  SECTION("one log is returned as it is, even out of time order") {
    const std::vector<json> unordered = {line("reply", "x", 50), line("decision", "x", 5)};
    CHECK(order(merge_decision_logs({unordered})) == std::vector<std::string>{"reply:x", "decision:x"});
  }
}

TEST_CASE("a run folder's decision logs: every instance's, each less its warm-up lines") {
  TempDir dir;
  write_log(decision_log(dir.path, 0), {line("decision", "w0", 1), line("decision", "a", 10)});
  write_log(decision_log(dir.path, 1), {line("decision", "w1", 2), line("decision", "w2", 3), line("decision", "b", 20)});
  write_log(decision_log(dir.path, 3), {line("decision", "orphan", 30)});  // after a gap: not an instance of the run
  REQUIRE(further_decision_logs(dir.path).size() == 1);
  CHECK(further_decision_offsets(dir.path) == std::vector<std::size_t>{3});
  CHECK(order(read_run_decisions(decision_log(dir.path, 0), 1, dir.path, {2})) ==
        std::vector<std::string>{"decision:a", "decision:b"});
  // An instance added after the warm-up has no offset: all of its lines count.
  CHECK(order(read_run_decisions(decision_log(dir.path, 0), 1, dir.path, {})).size() == 4);
  // Attach mode reads the one log it was given.
  CHECK(order(read_run_decisions(decision_log(dir.path, 0), 0, fs::path(), {})) ==
        std::vector<std::string>{"decision:w0", "decision:a"});
}

TEST_CASE("a request redelivered to another instance after a kill keeps the duplicate allowance") {
  // Instance 0 decided request a and was killed before it logged its reply (which may or may not have reached
  // Kafka); after the rebalance instance 1 decided a again and its reply was confirmed.
  Scenario sc;
  sc.name = "rebalance";
  RequestRecord r;
  r.nonce = "n0";
  r.correlation_id = "a";
  r.intended_us = r.sent_us = 1'000'000;
  r.done_us = 1'005'000;
  r.http_status = 200;
  r.outcome = Outcome::ok;
  CheckInput in;
  in.scenario = &sc;
  in.requests = {r};
  in.gateways = 1;
  in.decisions = merge_decision_logs({{line("decision", "a", 10)}, {line("decision", "a", 50), line("reply", "a", 60)}});
  const ExpectedReplies e = expected_replies(in);
  CHECK(e.matched == 1);
  CHECK(e.duplicate == 0);
  CHECK(e.unconfirmed_duplicate == 1);
  SECTION("both instances confirmed a reply: one is a certain duplicate, nothing unconfirmed") {
    in.decisions = merge_decision_logs({{line("decision", "a", 10), line("reply", "a", 15)},
                                        {line("decision", "a", 50), line("reply", "a", 60)}});
    const ExpectedReplies both = expected_replies(in);
    CHECK(both.matched == 1);
    CHECK(both.duplicate == 1);
    CHECK(both.unconfirmed_duplicate == 0);
  }
}

TEST_CASE("a decision log is held as one fixed-size record per line and each string once") {
  // 50,000 requests as the simulator logs them: a decision line and a reply line with a UUID, a nonce, a rule.
  constexpr int kRequests = 50'000;
  DecisionLines lines;
  for (int i = 0; i < kRequests; ++i) {
    const std::string id = rrkit::new_uuid_v4();
    json d = line("decision", id, 1000 + i);
    d["fields"] = {{"nonce", "rr-7-" + std::to_string(i)}};
    d["key"] = "rr-7-" + std::to_string(i);
    d.update({{"topic", "rr.replies"}, {"request_topic", "rr.requests"}, {"partition", i % 4}, {"offset", i / 4},
              {"service_us", 0}, {"spacing_us", 0}, {"wrong_id", "none"}, {"corrupt", false}, {"missing_id", false}});
    lines.push_back(d);
    lines.push_back(line("reply", id, 2000 + i));
  }
  lines.shrink_to_fit();
  REQUIRE(lines.size() == 2 * kRequests);
  // Each id, nonce and name is interned once: two texts per request, plus "default", "ok", "decision", "reply".
  CHECK(lines.pool().size() == 2 * kRequests + 5);
  // Held as JSON, one request's two lines took kilobytes; the budget for everything the checker keeps per
  // request in a million-request run is about 400 B.
  CHECK(lines.bytes() / kRequests < 350);
  const DecisionLine& first = lines.lines()[0];
  CHECK(lines.str(first.key) == "rr-7-0");
  CHECK(lines.str(first.nonce) == "rr-7-0");
  CHECK(lines.str(lines.lines()[1].reply_id) == lines.str(first.id));
  CHECK(lines.find(std::string(lines.str(first.id))) == first.id);
  CHECK(lines.find("never logged") == StringPool::kNone);
}

}  // namespace decision_logs_test
