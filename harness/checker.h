#pragma once
// The checker: joins the HTTP history with the simulator's decision log by correlation id,
// classifies every request, checks the built-in invariants and the scenario's assertions.
// Pure: it reads data (history, decisions, metrics text) and writes a ScenarioResult, so that
// `rr-harness replay` can run it again on a stored run folder.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/decision_lines.h"
#include "harness/memory.h"
#include "harness/result.h"
#include "harness/scenario.h"
#include "harness/sut.h"

namespace rrkit::harness {

// One gateway's /metrics as the harness read it: the text, or why it could not be read.
struct MetricsScrape {
  std::string text;
  std::string error;  // e.g. "unreachable: connection refused", "answered HTTP 500"; empty when read
};

// How long a gateway instance served in a run: the whole run, or only part of it because the timeline
// added it (add_gateway) or stopped it (stop_gateway) while traffic ran.
enum class GatewayLife { throughout, joined, left, joined_and_left };
const char* to_string(GatewayLife l);
std::optional<GatewayLife> parse_gateway_life(std::string_view name);

// What a run observed about itself besides the history, the decisions and the metrics: recorded in
// the run folder (RunRecord) and read by the checker (CheckInput) alike, so that replay checks
// exactly what the run checked.
struct RunFacts {
  // How the system under test answers and which metrics it has (the SUT file; rr-gateway by default).
  SutJudging sut = rr_gateway_judging();
  int gateways = 1;
  // One entry per instance when instances joined or left mid-traffic; empty: all served throughout.
  // A joined instance saw the replies that came after its subscription only, and was not warmed up (no
  // baseline); a stopped one was last read just before its SIGTERM and counts no longer as pending.
  std::vector<GatewayLife> gateway_life;
  bool shared_consumer_group = false;
  std::string reply_mode = "broadcast";
  // Requests still pending over all gateways at the end of the settle time; nullopt when it could not be
  // read (then pending_detail says why), which fails pending_drained: a dead gateway is not a drained one.
  std::optional<double> pending;
  std::string pending_detail;                      // why pending could not be read
  std::vector<std::string> unexpected_deaths;      // components that died unscripted
  std::vector<std::string> events;                 // timeline actions as they happened
  std::vector<std::string> infra_errors;           // timeline actions that failed
  // Memory samples of the gateway processes the harness launched: before the traffic (round 0) and after each
  // round's settle wait (memory_returns). Empty in attach mode.
  std::vector<MemorySample> memory;
};

struct CheckInput : RunFacts {
  const Scenario* scenario = nullptr;
  std::vector<RequestRecord> requests;
  DecisionLines decisions;                         // decision-log lines (all types), compact
  std::vector<MetricsScrape> gateway_metrics;      // final /metrics per gateway instance (index = gateway)
  std::vector<MetricsScrape> gateway_baseline;     // /metrics after the warm-up (subtracted; empty: no warm-up)
};

// A figure taken from the gateways' /metrics: its value, or why it could not be read.
struct GatewayFigure {
  double value = 0;
  std::string unreadable;  // "gateway 0: /metrics unreachable: connection refused"; empty when read
  // The SUT exposes no such metric (its file names no series for it): the check is not applicable.
  std::string not_applicable;
  bool ok() const { return unreadable.empty() && not_applicable.empty(); }
};

// Reply counts the gateways should show, derived from the history and the decision log.
struct ExpectedReplies {
  double matched = 0, late = 0, duplicate = 0, unknown = 0, malformed = 0;
  // Replies a simulator killed with -9 may have handed to Kafka without living to log them: a
  // request it decided on and that was decided again after the restart (redelivered), with fewer
  // confirmed replies than the first decision planned. Each may or may not reach the gateways, so
  // the duplicate (and, in broadcast mode, unknown) counts may exceed the confirmed figure by this.
  double unconfirmed_duplicate = 0, unconfirmed_unknown = 0;
  // Copies that reached an instance which joined or left mid-traffic (RunFacts::gateway_life) while it
  // may or may not have been there to count them: each class may exceed its figure by these.
  double unobserved_matched = 0, unobserved_late = 0, unobserved_duplicate = 0, unobserved_unknown = 0,
         unobserved_malformed = 0;
};

// The slack (beyond the expected figure) each reply class is allowed, from the two allowances above.
double counter_slack(const ExpectedReplies& e, std::string_view reply_class);

// The life of instance g (throughout when the run recorded none).
GatewayLife life_of(const RunFacts& facts, std::size_t g);

// How early timeout_bounds lets a 504 come: a gateway's timer with millisecond resolution (libuv's, so
// every Node.js gateway) starts from a clock truncated to the millisecond and fires up to 1 ms before the
// exact timeout as the client measures it (node-gateway: 443 of 80,000 504s in [199.36, 200) ms for 200 ms).
inline constexpr std::int64_t kTimerResolutionUs = 1000;

// The epsilon timeout_bounds allows: the scenario's, or the SUT's declared one when larger.
std::chrono::microseconds timeout_epsilon_for(const Scenario& sc, const SutJudging& sut);

// Whether a counted figure fits what was expected, allowing `slack` more.
inline bool within(double counted, double expected, double slack = 0) {
  return counted >= expected - 1e-9 && counted <= expected + slack + 1e-9;
}

ExpectedReplies expected_replies(const CheckInput& in);
// The same over `requests` in place of in.requests (run_checks passes the records it has taken over).
ExpectedReplies expected_replies(const CheckInput& in, const std::vector<RequestRecord>& requests);

// Gives requests whose client never saw a correlation id (it hung up, or the connection failed
// after sending) the id the simulator logged for their nonce (decision lines' "fields").
// Requests the client saw answered ok or timeout whose decision line (keyed by the nonce) is not
// in the simulator's log yet. A request published slowly can reach the simulator after its 504:
// until its decision is logged the expected late replies are one short, so settling waits for 0.
std::size_t answered_without_decision(const CheckInput& in);
void join_ids_by_nonce(CheckInput& in);

// Checks a 200 as it arrives, the way run_checks would, against every nonce `may_be_run_nonce` accepts (a
// superset of the run's: a request never sent cannot be echoed, so a nonce it rejects cannot make the
// checker's verdict mis_correlated). When the answer is the request's own (run_checks' ok on any subset of
// those nonces) the record is marked answer_verified and its answer body dropped; otherwise it is left as
// it was, for run_checks to judge with the body. Returns whether it was marked.
bool compact_verified_answer(const SutAnswer& spec, RequestRecord& r, const NonceLookup& may_be_run_nonce);

// Fills requests' classification, counts, latency, checks and status of `out`.
void run_checks(const CheckInput& in, ScenarioResult& out);
// The same, moving in.requests into out.requests instead of copying them (in.requests is left empty): a
// long run's records are held once.
void run_checks_moving(CheckInput& in, ScenarioResult& out);

// A gateway counter summed over instances, less its value at the baseline (after the warm-up).
// Unreadable when a scrape failed or lacks the sample (gateways are 0-based in the message).
GatewayFigure gateway_counter(const CheckInput& in, const std::string& name, const std::string& label,
                              const std::string& value);

// A gauge summed over the instances' final scrapes (no baseline), e.g. rr_gateway_pending.
GatewayFigure gateway_gauge(const CheckInput& in, const std::string& name);

// The figure of an operand key ("replies_late", "requests_ok") read through the SUT's metrics.series
// (a counter: summed, less the baseline); not_applicable when the SUT names no series for it.
GatewayFigure sut_counter(const CheckInput& in, const std::string& key);
// The SUT's pending gauge summed over the final scrapes; not_applicable when it names none.
GatewayFigure sut_pending(const CheckInput& in);

// Sum of the Prometheus samples name{label="value"} in one scrape (label empty: the unlabelled sample);
// nullopt when the text has no such sample.
std::optional<double> metric_sample(const std::string& text, const std::string& name, const std::string& label = "",
                                    const std::string& value = "");

// metric_sample, with an absent sample read as 0 (for progress waits, never for a verdict).
double metric_value(const std::string& text, const std::string& name, const std::string& label = "",
                    const std::string& value = "");

// Percentile (0..100) of values, nearest-rank; 0 for an empty list.
double percentile(std::vector<double> values, double p);

}  // namespace rrkit::harness
