#pragma once
// What one scenario run produced, as the checker saw it: the input of every report
// (console, JSON, JUnit, HTML) and of `rr-harness replay`. Plain data, no behaviour.
//
// Each closed set of values (a request's outcome and classification, a scenario's status, a check's verdict) is an
// enum with ONE table below (name, description): the name is the text in run.json, history.jsonl and every report,
// the description is what `rr-harness` prints about it. Adding a value means adding one table row.
#include <array>
#include <cstdint>
#include <filesystem>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/compact_text.h"

namespace rrkit::harness {

// One row of a value table: the enum value, its text form, and what it means.
template <typename E>
struct NamedValue {
  E value;
  const char* name;
  const char* description;
};

// How an HTTP exchange ended, as the harness client saw it (before the checker looked at the answer).
enum class Outcome : std::uint8_t { none, ok, timeout, rejected, error, disconnected, no_answer, interrupted, not_sent };

inline constexpr std::array<NamedValue<Outcome>, 9> outcome_table{{
    {Outcome::none, "", "not finished yet (never in a finished history)"},
    {Outcome::ok, "ok", "answered 200"},
    {Outcome::timeout, "timeout", "answered 504"},
    {Outcome::rejected, "rejected", "answered 503"},
    {Outcome::error, "error", "another HTTP status, or a transport error after sending"},
    {Outcome::disconnected, "disconnected", "the client hung up on purpose (traffic.disconnect_fraction)"},
    {Outcome::no_answer, "no_answer", "no HTTP answer before the client's own timeout"},
    {Outcome::interrupted, "interrupted", "in flight when the run was interrupted"},
    {Outcome::not_sent, "not_sent", "never sent: the run stopped first (dropped from the history)"},
}};

// The checker's verdict on one request. http_answer's text form carries the status: "http_502" (see
// classification_text); every other value's text form is its table name.
enum class Classification : std::uint8_t {
  none,
  ok,
  mis_correlated,
  unparseable_answer,
  unverified_answer,
  expected_timeout,
  late_reply,
  lost_reply,
  not_consumed,
  rejected,
  disconnected,
  not_sent,
  interrupted,
  no_answer,
  http_answer,
};

inline constexpr std::array<NamedValue<Classification>, 15> classification_table{{
    {Classification::none, "", "not classified (the checker has not seen it)"},
    {Classification::ok, "ok", "200 carrying this request's own payload (nonce, echo and digest verified)"},
    {Classification::mis_correlated, "mis_correlated", "200 carrying the payload of another request of the run"},
    {Classification::unparseable_answer, "unparseable_answer",
     "200 whose answer or payload cannot be read (not JSON, too deep, no payload)"},
    {Classification::unverified_answer, "unverified_answer",
     "200 with a readable payload that is neither this request's nor another's"},
    {Classification::expected_timeout, "expected_timeout",
     "504 for a request the simulator did not answer in time by its decision"},
    {Classification::late_reply, "late_reply", "504, and the reply was sent after the deadline"},
    {Classification::lost_reply, "lost_reply", "504 although the reply was sent well in time"},
    {Classification::not_consumed, "not_consumed", "504 for a request the simulator never saw"},
    {Classification::rejected, "rejected", "503"},
    {Classification::disconnected, "disconnected", "scripted client disconnect"},
    {Classification::not_sent, "not_sent", "never sent: the run stopped first"},
    {Classification::interrupted, "interrupted", "in flight when the run was interrupted"},
    {Classification::no_answer, "no_answer", "no HTTP answer"},
    {Classification::http_answer, "http_NNN", "answered with HTTP status NNN (any other status)"},
}};

// A scenario's result. none is a scenario that has not been judged; it is never taken for a pass.
enum class ScenarioStatus { none, pass, fail, error, interrupted };

inline constexpr std::array<NamedValue<ScenarioStatus>, 5> scenario_status_table{{
    {ScenarioStatus::none, "", "not judged"},
    {ScenarioStatus::pass, "pass", "every check passed"},
    {ScenarioStatus::fail, "fail", "a check failed"},
    {ScenarioStatus::error, "error", "an infrastructure error stopped the scenario; its checks say nothing"},
    {ScenarioStatus::interrupted, "interrupted", "stopped by a signal"},
}};

// A check's verdict. not_applicable is for a figure the system under test does not have by design (a gateway
// without metrics): reported as such, never counted as a pass. A figure that exists but could not be read
// (a failed /metrics scrape) is a fail, never not_applicable.
enum class CheckState { pass, fail, not_applicable };

inline constexpr std::array<NamedValue<CheckState>, 3> check_state_table{{
    {CheckState::pass, "pass", "the check held"},
    {CheckState::fail, "fail", "the check did not hold, or its figure could not be read"},
    {CheckState::not_applicable, "not_applicable", "the system under test has no such figure by design"},
}};

// Table names. to_string(Classification::http_answer) is the pattern "http_NNN"; use classification_text for
// the text of a record.
const char* to_string(Outcome o);
const char* to_string(Classification c);
const char* to_string(ScenarioStatus s);
const char* to_string(CheckState s);
const char* describe(Outcome o);
const char* describe(Classification c);
const char* describe(ScenarioStatus s);
const char* describe(CheckState s);

// Exact table names; nullopt for any other text. parse_classification also takes "http_" followed by digits
// (http_answer), but not the pattern "http_NNN" itself.
std::optional<Outcome> parse_outcome(std::string_view s);
std::optional<Classification> parse_classification(std::string_view s);
std::optional<ScenarioStatus> parse_scenario_status(std::string_view s);
std::optional<CheckState> check_state_from_string(std::string_view s);

// The text form of a classification: "http_<status>" for http_answer, else the table name.
std::string classification_text(Classification c, int http_status);

// For test failure messages and logs: the table name.
std::ostream& operator<<(std::ostream& out, Outcome o);
std::ostream& operator<<(std::ostream& out, Classification c);
std::ostream& operator<<(std::ostream& out, ScenarioStatus s);
std::ostream& operator<<(std::ostream& out, CheckState s);

// One HTTP exchange as the harness client saw it, joined with the simulator's decision. A run holds one per
// request until it is judged (a million for a 1M soak), so its members are laid out compactly: texts in
// compact_text.h's types (inline where they are short, nothing for an empty one), enums in a byte.
struct RequestRecord {
  std::uint64_t index = 0;      // order of sending, from 0
  std::int64_t intended_us = 0; // open loop: when it should have been sent (epoch µs); closed loop: = sent_us
  std::int64_t sent_us = 0;     // epoch µs
  std::int64_t done_us = 0;     // epoch µs when the answer (or the client-side error) arrived; 0 if never
  int gateway = 0;              // which gateway instance it was sent to (0-based)
  int http_status = 0;          // 0: no HTTP answer (connection error, client-side abort)
  Outcome outcome = Outcome::none;
  Classification classification = Classification::none;  // the checker's verdict
  // A 200 whose answer was checked as it arrived and was this request's own (the checker's ok): its
  // answer body is not kept, so a long run holds no bodies of good answers. Kept in history.jsonl.
  bool answer_verified = false;
  // The correlation id was joined from the decision log by the nonce (join_ids_by_nonce), not seen by the
  // client: history.jsonl keeps what the client saw, and replay joins it again.
  bool id_from_log = false;
  InlineText<24> nonce;           // unique per request, inside the request body
  InlineText<40> correlation_id;  // from the gateway's answer (X-Correlation-Id header or body), may be empty
  HeapText client_error;          // transport error text, or "disconnected" for scripted client disconnects
  InlineText<16> simulator_rule;  // rule the simulator applied ("" if it never saw the request)
  InlineText<16> simulator_action;  // summary of the decision, e.g. "reply after 120ms", "drop", "duplicate x2"
  HeapText request_body;          // the JSON sent (kept in history.jsonl for replay, not in reports)
  // The gateway's answer body (likewise). Any answer but a 200 may hold it as a pattern shared with the answers
  // that differ from it only by the correlation id (AnswerText): read it whole with response_text().
  AnswerText response_body;
  // In double: times read back from a file may be anything, and a difference of two int64 can overflow.
  double latency_ms() const {
    return done_us > 0 ? (static_cast<double>(done_us) - static_cast<double>(intended_us)) / 1000.0 : -1.0;
  }
  // The answer body as the gateway sent it.
  std::string response_text() const { return response_body.text(correlation_id); }
  // The classification as run.json and the reports spell it ("http_502" for an http_answer).
  std::string classification_text() const { return harness::classification_text(classification, http_status); }
};

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

// What a fault cost the clients (harness/failover.h computes it from the request records). Times are ms;
// -1 where a figure does not exist (no request in that phase, service never back within the run).
struct FailoverCost {
  bool applies = false;               // the scenario has a timeline (a fault window)
  double window_start_ms = 0;         // from the first request
  double window_end_ms = 0;
  std::uint64_t requests_in_window = 0;  // sent during the window, or in flight when it opened
  std::uint64_t failed_in_window = 0;    // of those, not answered 200 (scripted disconnects left out)
  std::uint64_t timed_out_in_window = 0; // of those, 504 or no answer at all
  double longest_gap_ms = 0;          // longest time without a 200 answer, from the window's start on
  double p99_before_ms = -1, p99_during_ms = -1, p99_after_ms = -1;  // over HTTP-answered requests
  bool duplicates_read = false;       // the gateways' duplicate counter was read
  double duplicate_replies = 0;       // replies the gateways counted as duplicates (the whole run)
  double recovery_ms = -1;            // window start to the first 1 s (or so) of sends all answered 200 within it
  double recovery_window_ms = 1000;   // that "1 s"
};

struct ScenarioResult {
  std::string name;
  std::string path;
  std::string description;
  std::uint64_t seed = 0;
  ScenarioStatus status = ScenarioStatus::none;
  std::string error;   // infrastructure error text when status == error
  double duration_s = 0;
  std::string repro;    // one-line command that reproduces this run
  std::string run_dir;  // folder with scenario, history, decisions, metrics, logs
  std::int64_t started_us = 0;
  std::map<std::string, std::uint64_t> counts;           // by outcome name, plus "sent"
  std::map<std::string, std::uint64_t> classifications;  // by classification text ("http_502" apart from "http_500")
  std::map<std::string, double> gateway_counters;        // summed over instances, e.g. "replies_late"
  std::map<std::string, double> simulator_counters;      // induced faults, e.g. "late", "duplicates"
  LatencySummary latency;                                  // over 200 answers
  std::map<std::string, LatencySummary> latency_by_outcome;  // ok, timeout, rejected, error (answered requests)
  std::vector<CheckResult> checks;
  std::vector<RequestRecord> requests;
  std::vector<std::string> events;  // timeline actions as they happened: "t=2.0s kill daprd-1"
  std::vector<std::uint64_t> failing_requests;  // indexes a failing per-request invariant names (sorted, unique)
  std::vector<std::string> repro_requests;      // the narrowed command (--only) for the first few of them
  // requests lists every request of the run unless bound_request_list left some out (counts and
  // classifications still cover all of them): this many were left out.
  std::uint64_t requests_omitted = 0;
  std::int64_t harness_peak_rss_bytes = 0;  // rr-harness's own peak RSS (VmHWM) when the scenario ended; 0 unread
  FailoverCost failover;
};

// Keeps in s.requests the requests a report needs one by one (every request a failing check names, and
// every one the checker did not classify ok or as a timeout the simulator decided) plus an even,
// deterministic sample of at most `sample` others, and counts the rest in requests_omitted: a report
// of a million requests stays small while its counts, classifications and checks stay whole.
void bound_request_list(ScenarioResult& s, std::size_t sample);

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

// Identifies the JSON layout of a suite report; written as "format" and checked when read back.
inline constexpr const char* suite_json_format = "rrkit-suite/1";

// JSON (de)serialisation (harness/result_json.cpp). Round trip is exact: from_json(to_json(x)) == x field by field.
// Field names are the C++ member names; enums are written as their table names. Missing keys take the struct's
// default; a key of the wrong type, or an enum text no table knows, is an error naming the JSON path
// ("scenarios[2].requests[17].sent_us: expected an integer, got string"); unknown keys are ignored (so newer
// writers stay readable). Exception: RequestRecord's request_body and response_body are not written (reports stay
// small; the run folder's history keeps them) but are read when present. Readers throw std::runtime_error: files
// are an edge.
nlohmann::json to_json(const RequestRecord& r);
nlohmann::json to_json(const CheckResult& c);
nlohmann::json to_json(const LatencySummary& l);
nlohmann::json to_json(const FailoverCost& f);
nlohmann::json to_json(const ScenarioResult& s);
nlohmann::json to_json(const SuiteResult& s);
RequestRecord request_from_json(const nlohmann::json& j);
CheckResult check_from_json(const nlohmann::json& j);
LatencySummary latency_from_json(const nlohmann::json& j);
FailoverCost failover_from_json(const nlohmann::json& j);
ScenarioResult scenario_from_json(const nlohmann::json& j);
SuiteResult suite_from_json(const nlohmann::json& j);

// Reads a file written by write_json_report (used by `rr-harness replay`); errors name the file.
SuiteResult read_json_report(const std::filesystem::path& file);

}  // namespace rrkit::harness
