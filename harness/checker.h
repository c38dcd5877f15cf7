#pragma once
// The checker: joins the HTTP history with the simulator's decision log by correlation id,
// classifies every request, checks the built-in invariants and the scenario's assertions.
// Pure: it reads data (history, decisions, metrics text) and writes a ScenarioResult, so that
// `rr-harness replay` can run it again on a stored run folder.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/result.h"
#include "harness/scenario.h"

namespace rrkit::harness {

struct CheckInput {
  const Scenario* scenario = nullptr;
  std::vector<RequestRecord> requests;
  std::vector<nlohmann::json> decisions;           // decision-log lines (all types)
  std::vector<std::string> gateway_metrics;        // final /metrics text per gateway instance
  std::vector<std::string> gateway_baseline;       // /metrics text after the warm-up (subtracted; may be empty)
  std::vector<std::string> unexpected_deaths;      // components that died unscripted
  int gateways = 1;
  bool shared_consumer_group = false;
  std::string reply_mode = "broadcast";
  bool pending_drained = true;                     // every gateway's pending gauge reached 0 in the settle time
  std::string pending_detail;                      // for the failure message
  std::vector<std::string> events;                 // timeline actions as they happened
  std::vector<std::string> infra_errors;           // timeline actions that failed
};

// Reply counts the gateways should show, derived from the history and the decision log.
struct ExpectedReplies {
  double matched = 0, late = 0, duplicate = 0, unknown = 0, malformed = 0;
};

ExpectedReplies expected_replies(const CheckInput& in);

// Gives requests whose client never saw a correlation id (it hung up, or the connection failed
// after sending) the id the simulator logged for their nonce (decision lines' "fields").
void join_ids_by_nonce(CheckInput& in);

// Fills requests' classification, counts, latency, checks and status of `out`.
void run_checks(const CheckInput& in, ScenarioResult& out);

// A gateway counter summed over instances, less its value at the baseline (after the warm-up).
double gateway_counter(const CheckInput& in, const std::string& name, const std::string& label, const std::string& value);

// Sum of a Prometheus sample over instances: name{label="value"} (label empty: unlabelled sample).
double metric_value(const std::string& text, const std::string& name, const std::string& label = "",
                    const std::string& value = "");

// Percentile (0..100) of values, nearest-rank; 0 for an empty list.
double percentile(std::vector<double> values, double p);

}  // namespace rrkit::harness
