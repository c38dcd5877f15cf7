#pragma once
// What one scenario run produced, as the checker saw it: the input of every report
// (console, JSON, JUnit, HTML) and of `rr-harness replay`. Plain data, no behaviour.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rrkit::harness {

// One HTTP exchange as the harness client saw it, joined with the simulator's decision.
struct RequestRecord {
  std::uint64_t index = 0;      // order of sending, from 0
  std::string nonce;            // unique per request, inside the request body
  std::string correlation_id;   // from the gateway's answer (X-Correlation-Id header or body), may be empty
  int gateway = 0;              // which gateway instance it was sent to (0-based)
  std::int64_t intended_us = 0; // open loop: when it should have been sent (epoch µs); closed loop: = sent_us
  std::int64_t sent_us = 0;     // epoch µs
  std::int64_t done_us = 0;     // epoch µs when the answer (or the client-side error) arrived; 0 if never
  int http_status = 0;          // 0: no HTTP answer (connection error, client-side abort)
  std::string client_error;     // transport error text, or "disconnected" for scripted client disconnects
  std::string outcome;          // ok | timeout | rejected | error | disconnected | no_answer | interrupted
  std::string classification;   // checker's verdict: ok, expected_timeout, late_ok, mis_correlated, lost_reply, ...
  std::string simulator_rule;   // rule the simulator applied ("" if it never saw the request)
  std::string simulator_action; // summary of the decision, e.g. "reply after 120ms", "drop", "duplicate x2"
  std::string request_body;      // the JSON sent (kept in history.jsonl for replay, not in reports)
  std::string response_body;     // the gateway's answer body (likewise)
  // In double: times read back from a file may be anything, and a difference of two int64 can overflow.
  double latency_ms() const {
    return done_us > 0 ? (static_cast<double>(done_us) - static_cast<double>(intended_us)) / 1000.0 : -1.0;
  }
};

// A check's verdict. not_applicable is for a figure the system under test does not have by design (a gateway
// without metrics): reported as such, never counted as a pass. A figure that exists but could not be read
// (a failed /metrics scrape) is a fail, never not_applicable.
enum class CheckState { pass, fail, not_applicable };

// "pass", "fail", "not_applicable" (the JSON form); from_string gives nullopt for any other text.
const char* to_string(CheckState s);
std::optional<CheckState> check_state_from_string(const std::string& s);

struct CheckResult {
  CheckResult() = default;
  CheckResult(std::string n, CheckState s, std::string m) : name(std::move(n)), state(s), message(std::move(m)) {}
  // A check that always applies: pass or fail.
  CheckResult(std::string n, bool pass, std::string m)
      : CheckResult(std::move(n), pass ? CheckState::pass : CheckState::fail, std::move(m)) {}

  std::string name;     // e.g. "exactly one answer per request", "assert: late_replies == 37"
  CheckState state = CheckState::fail;
  std::string message;  // for a failure: what was expected and what was seen; for not_applicable: why
  bool passed() const { return state == CheckState::pass; }
  bool failed() const { return state == CheckState::fail; }
};

struct LatencySummary {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;  // milliseconds
  std::uint64_t count = 0;
};

struct ScenarioResult {
  std::string name;
  std::string path;
  std::string description;
  std::uint64_t seed = 0;
  std::string status;  // pass | fail | error (infrastructure) | interrupted (stopped by a signal)
  std::string error;   // infrastructure error text when status == error
  double duration_s = 0;
  std::string repro;    // one-line command that reproduces this run
  std::string run_dir;  // folder with scenario, history, decisions, metrics, logs
  std::int64_t started_us = 0;
  std::map<std::string, std::uint64_t> counts;           // by outcome, plus "sent"
  std::map<std::string, std::uint64_t> classifications;  // by checker class
  std::map<std::string, double> gateway_counters;        // summed over instances, e.g. "replies_late"
  std::map<std::string, double> simulator_counters;      // induced faults, e.g. "late", "duplicates"
  LatencySummary latency;                                  // over 200 answers
  std::map<std::string, LatencySummary> latency_by_outcome;  // ok, timeout, rejected, error (answered requests)
  std::vector<CheckResult> checks;
  std::vector<RequestRecord> requests;
  std::vector<std::string> events;  // timeline actions as they happened: "t=2.0s kill daprd-1"
  std::vector<std::uint64_t> failing_requests;  // indexes a failing per-request invariant names (sorted, unique)
  std::vector<std::string> repro_requests;      // the narrowed command (--only) for the first few of them
};

struct SuiteResult {
  std::string started_at;  // ISO-8601 UTC
  double duration_s = 0;
  std::string machine;     // e.g. "2 cores, 23 GiB, Linux 6.1"
  std::map<std::string, std::string> versions;  // kafka, daprd, rrkit
  std::vector<ScenarioResult> scenarios;
  int interrupt_signal = 0;  // SIGINT/SIGTERM that stopped the run (0: it ran to the end)
  // 0 all pass, 1 a check failed, 2 an infrastructure error, 128+signal when a signal stopped the run.
  int exit_code() const;
};

}  // namespace rrkit::harness
