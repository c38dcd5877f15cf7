#pragma once
// The checker's built-in invariants: one closed enum and one table (harness/invariant.cpp) that gives
// each its name (as scenario files write it in expect.violations and allow), its title, its meaning
// (the README's table is checked against it) and its implementation. Adding an invariant is one enum
// value and one table row.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rrkit::harness {

// Values index the table's rows (harness/invariant.cpp): add a value and its row in the same place.
enum class Invariant {
  one_answer,
  no_mis_correlation,
  verified_answers,
  timeout_bounds,
  no_lost_replies,
  reply_counters,
  pending_drained,
  no_crash,
  memory_returns,
};

// What an invariant's implementation found: problems fail it; unreadable figures mean it cannot be
// judged (never a pass); requests are the indexes a per-request invariant failed on.
struct InvariantFindings {
  std::vector<std::string> problems;
  std::vector<std::string> unreadable;
  std::vector<std::uint64_t> requests;
  // Why the invariant does not apply to this run (a figure the system under test or the scenario does not
  // have by design); reported as not applicable, never as a pass. Problems still fail it.
  std::string not_applicable;
  std::string passed_detail;  // the figures behind a pass, when there are any worth reporting ("ok" otherwise)
  // The scenario did not ask for this invariant (memory_returns without traffic.rounds): no check at all,
  // rather than a not-applicable line on every scenario.
  bool not_asked = false;
};

// Everything the checker gathered that the implementations read; defined in harness/invariant_evidence.h
// (the checker's side), so that scenario loading needs only the names.
struct InvariantEvidence;

struct InvariantInfo {
  Invariant id;
  const char* name;     // e.g. "no_lost_replies"
  const char* title;    // the check's name after "name: "; {epsilon_ms} is replaced by the scenario's epsilon
  const char* meaning;  // one line, for the README and for `validate` errors
  InvariantFindings (*judge)(const InvariantEvidence&);
};

// Every invariant, in the order the checker reports them.
const std::vector<InvariantInfo>& invariant_table();
const InvariantInfo& info(Invariant i);

const char* to_string(Invariant i);
std::optional<Invariant> parse_invariant(std::string_view name);

// Names of the built-in invariants, in table order (for validation messages).
const std::vector<std::string>& invariant_names();

}  // namespace rrkit::harness
