// The result model's value tables (to_string, parse, describe) and SuiteResult's exit code.
// The JSON form lives in harness/result_json.cpp.
#include "harness/result.h"

#include <algorithm>
#include <ostream>

namespace rrkit::harness {

namespace {

template <typename E, std::size_t N>
const NamedValue<E>& row_of(const std::array<NamedValue<E>, N>& table, E value) {
  for (const auto& row : table) {
    if (row.value == value) return row;
  }
  // Every enumerator has a row (the round-trip test walks them all); an out-of-range value cast from an integer
  // gets the first row rather than undefined behaviour.
  return table.front();
}

template <typename E, std::size_t N>
std::optional<E> parse_in(const std::array<NamedValue<E>, N>& table, std::string_view text) {
  for (const auto& row : table) {
    if (text == row.name) return row.value;
  }
  return std::nullopt;
}

}  // namespace

const char* to_string(Outcome o) { return row_of(outcome_table, o).name; }
const char* to_string(Classification c) { return row_of(classification_table, c).name; }
const char* to_string(ScenarioStatus s) { return row_of(scenario_status_table, s).name; }
const char* to_string(CheckState s) { return row_of(check_state_table, s).name; }
const char* describe(Outcome o) { return row_of(outcome_table, o).description; }
const char* describe(Classification c) { return row_of(classification_table, c).description; }
const char* describe(ScenarioStatus s) { return row_of(scenario_status_table, s).description; }
const char* describe(CheckState s) { return row_of(check_state_table, s).description; }

std::optional<Outcome> parse_outcome(std::string_view s) { return parse_in(outcome_table, s); }
std::optional<ScenarioStatus> parse_scenario_status(std::string_view s) { return parse_in(scenario_status_table, s); }
std::optional<CheckState> check_state_from_string(std::string_view s) { return parse_in(check_state_table, s); }

std::optional<Classification> parse_classification(std::string_view s) {
  constexpr std::string_view http_prefix = "http_";
  if (s.size() > http_prefix.size() && s.substr(0, http_prefix.size()) == http_prefix) {
    const auto digits = s.substr(http_prefix.size());
    if (std::all_of(digits.begin(), digits.end(), [](char ch) { return ch >= '0' && ch <= '9'; })) {
      return Classification::http_answer;
    }
    return std::nullopt;  // "http_NNN" is the table's pattern, not a text any writer produces
  }
  return parse_in(classification_table, s);
}

std::string classification_text(Classification c, int http_status) {
  if (c == Classification::http_answer) return "http_" + std::to_string(http_status);
  return to_string(c);
}

std::ostream& operator<<(std::ostream& out, Outcome o) { return out << to_string(o); }
std::ostream& operator<<(std::ostream& out, Classification c) { return out << to_string(c); }
std::ostream& operator<<(std::ostream& out, ScenarioStatus s) { return out << to_string(s); }
std::ostream& operator<<(std::ostream& out, CheckState s) { return out << to_string(s); }

int SuiteResult::exit_code() const {
  if (interrupt_signal > 0) return 128 + interrupt_signal;
  bool failed = false;
  for (const auto& s : scenarios) {
    if (s.status == ScenarioStatus::pass) continue;
    // Anything that is neither pass nor fail (error, interrupted, or not judged) means the run itself cannot be
    // trusted: report it as infrastructure, never as a pass.
    if (s.status != ScenarioStatus::fail) return 2;
    failed = true;
  }
  return failed ? 1 : 0;
}

}  // namespace rrkit::harness

namespace rrkit::harness {

void bound_request_list(ScenarioResult& s, std::size_t sample) {
  const auto routine = [](const RequestRecord& r) {
    return r.classification == Classification::ok || r.classification == Classification::expected_timeout ||
           r.classification == Classification::late_reply || r.classification == Classification::disconnected;
  };
  std::size_t others = 0;
  for (const auto& r : s.requests) {
    if (routine(r) && !std::binary_search(s.failing_requests.begin(), s.failing_requests.end(), r.index)) ++others;
  }
  if (others <= sample) return;
  // Every k-th routine request, from the first: the same run always lists the same sample.
  const std::size_t step = sample == 0 ? others + 1 : (others + sample - 1) / sample;
  std::vector<RequestRecord> kept;
  std::size_t seen = 0;
  for (auto& r : s.requests) {
    const bool named = std::binary_search(s.failing_requests.begin(), s.failing_requests.end(), r.index);
    if (!routine(r) || named) {
      kept.push_back(std::move(r));
      continue;
    }
    if (seen++ % step == 0) {
      kept.push_back(std::move(r));
    } else {
      ++s.requests_omitted;
    }
  }
  s.requests = std::move(kept);
  s.requests.shrink_to_fit();
}

}  // namespace rrkit::harness
