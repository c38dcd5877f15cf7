#pragma once
// The checker's second half (after the invariants): a value for every assertion operand, and the
// scenario's assertions judged on them. Internal to the checker (harness/checker.cpp).
#include <map>
#include <string>
#include <vector>

#include "common/decision_record.h"
#include "harness/checker.h"

namespace rrkit::harness {

// What run_checks has gathered by the time the assertions are judged.
struct AssertionFigures {
  const std::map<std::string, double>& simulator;         // "simulator.requests", "simulator.events.crash", ...
  const std::map<std::string, GatewayFigure>& gateway;    // "replies_late", "requests_ok", ... (no "gateway." prefix)
  const ExpectedReplies& want;
  const DecisionLines& decisions;
};

// Appends one check per scenario assertion to out.checks; out's counts, classifications and latency
// summaries must be filled already.
void check_assertions(const CheckInput& in, const AssertionFigures& figures, ScenarioResult& out);

// A figure in a check's message: whole numbers without decimals, others to three places.
std::string figure_text(double v);

}  // namespace rrkit::harness
