#pragma once
// What the checker hands to the invariants' implementations (harness/invariant.h): the per-request
// offenders it found while classifying, the gateway figures it read and what the decision log implies.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "harness/checker.h"
#include "harness/invariant.h"

namespace rrkit::harness {

// Per-request violations: the message, and which request (a failing run names them in its repro lines).
struct Offenders {
  std::vector<std::string> messages;
  std::vector<std::uint64_t> indexes;
  void push_back(std::uint64_t index, std::string message) {
    indexes.push_back(index);
    messages.push_back(std::move(message));
  }
};

struct InvariantEvidence {
  const CheckInput& input;
  Offenders unanswered, mis_correlated, unverified, out_of_bounds, lost;
  std::map<std::string, GatewayFigure> figures;  // "replies_late", "requests_ok", ... summed over gateways
  ExpectedReplies want;
};

// The verdict on one invariant for a scenario. A negative control (expect.violations) must find its
// violation, and an unreadable figure cannot satisfy it; otherwise a waiver (allow) passes the invariant
// whatever was seen (still reporting it); otherwise problems or unreadable figures fail it.
CheckResult judge_invariant(const Scenario& sc, Invariant id, const std::string& title, const InvariantFindings& found);

}  // namespace rrkit::harness
