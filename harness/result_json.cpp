// The JSON form of every result type: the --json report, run.json's results, history.jsonl's records, and what
// `rr-harness replay` and `rr-harness diff` read back.
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <tuple>

#include <fmt/format.h>

#include "common/json_limits.h"
#include "harness/result.h"

namespace rrkit::harness {

namespace {

using nlohmann::json;

const char* type_name(const json& j) { return j.type_name(); }

// Reads typed members out of one JSON object; every error names the JSON path so a broken file is easy to fix.
class reader {
 public:
  reader(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) fail_here(fmt::format("expected an object, got {}", type_name(j_)));
  }

  std::string child_path(std::string_view key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }

  const json* find(std::string_view key) const {
    const auto it = j_.find(std::string(key));
    if (it == j_.end() || it->is_null()) return nullptr;
    return &*it;
  }

  void get(std::string_view key, std::string& out) const {
    if (const json* v = find(key)) {
      if (!v->is_string()) fail(key, fmt::format("expected a string, got {}", type_name(*v)));
      out = v->get<std::string>();
    }
  }
  template <std::size_t N>
  void get(std::string_view key, InlineText<N>& out) const {
    std::string text;
    get(key, text);
    out = text;
  }
  void get(std::string_view key, HeapText& out) const {
    std::string text;
    get(key, text);
    out = text;
  }
  void get(std::string_view key, AnswerText& out) const {
    std::string text;
    get(key, text);
    out = text;
  }
  void get(std::string_view key, bool& out) const {
    if (const json* v = find(key)) {
      if (!v->is_boolean()) fail(key, fmt::format("expected true or false, got {}", type_name(*v)));
      out = v->get<bool>();
    }
  }
  void get(std::string_view key, double& out) const {
    if (const json* v = find(key)) {
      if (!v->is_number()) fail(key, fmt::format("expected a number, got {}", type_name(*v)));
      out = v->get<double>();
    }
  }
  void get(std::string_view key, std::uint64_t& out) const {
    if (const json* v = find(key)) out = as_u64(*v, child_path(key));
  }
  void get(std::string_view key, std::int64_t& out) const {
    if (const json* v = find(key)) {
      if (v->is_number_integer() && (!v->is_number_unsigned() ||
                                     v->get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX))) {
        out = v->get<std::int64_t>();
      } else {
        fail(key, fmt::format("expected a signed 64-bit integer, got {}", describe(*v)));
      }
    }
  }
  void get(std::string_view key, int& out) const {
    std::int64_t wide = out;
    get(key, wide);
    if (wide < INT32_MIN || wide > INT32_MAX) fail(key, fmt::format("{} does not fit in an int", wide));
    out = static_cast<int>(wide);
  }
  void get(std::string_view key, std::map<std::string, std::uint64_t>& out) const {
    if (const json* v = find(key)) {
      if (!v->is_object()) fail(key, fmt::format("expected an object, got {}", type_name(*v)));
      out.clear();
      for (const auto& [k, n] : v->items()) out[k] = as_u64(n, fmt::format("{}.{}", child_path(key), k));
    }
  }
  void get(std::string_view key, std::map<std::string, double>& out) const {
    if (const json* v = find(key)) {
      if (!v->is_object()) fail(key, fmt::format("expected an object, got {}", type_name(*v)));
      out.clear();
      for (const auto& [k, n] : v->items()) {
        if (!n.is_number()) {
          throw std::runtime_error(
              fmt::format("{}.{}: expected a number, got {}", child_path(key), k, type_name(n)));
        }
        out[k] = n.get<double>();
      }
    }
  }
  void get(std::string_view key, std::map<std::string, std::string>& out) const {
    if (const json* v = find(key)) {
      if (!v->is_object()) fail(key, fmt::format("expected an object, got {}", type_name(*v)));
      out.clear();
      for (const auto& [k, s] : v->items()) {
        if (!s.is_string()) {
          throw std::runtime_error(
              fmt::format("{}.{}: expected a string, got {}", child_path(key), k, type_name(s)));
        }
        out[k] = s.get<std::string>();
      }
    }
  }
  void get(std::string_view key, std::vector<std::string>& out) const {
    each(key, [&](const json& e, const std::string& p) {
      if (!e.is_string()) throw std::runtime_error(fmt::format("{}: expected a string, got {}", p, type_name(e)));
      out.push_back(e.get<std::string>());
    }, out);
  }

  void get(std::string_view key, std::vector<std::uint64_t>& out) const {
    each(key, [&](const json& e, const std::string& p) { out.push_back(as_u64(e, p)); }, out);
  }

  // Calls fn(element, element_path) for each element of the array at key (after clearing out).
  template <typename Fn, typename Vec>
  void each(std::string_view key, Fn&& fn, Vec& out) const {
    const json* v = find(key);
    if (v == nullptr) return;
    if (!v->is_array()) fail(key, fmt::format("expected an array, got {}", type_name(*v)));
    out.clear();
    out.reserve(v->size());
    std::size_t i = 0;
    for (const auto& e : *v) fn(e, fmt::format("{}[{}]", child_path(key), i++));
  }

  // An enum written as its table name; any other text is an error that lists the names this build knows.
  template <typename E, typename Parse, std::size_t N>
  void get_enum(std::string_view key, E& out, Parse parse, const std::array<NamedValue<E>, N>& table) const {
    std::string text;
    if (find(key) == nullptr) return;
    get(key, text);
    if (const auto v = parse(text)) {
      out = *v;
      return;
    }
    std::string names;
    for (const auto& row : table) names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", row.name);
    fail(key, fmt::format("expected one of {}, got \"{}\"", names, text));
  }

  [[noreturn]] void fail(std::string_view key, const std::string& what) const {
    throw std::runtime_error(fmt::format("{}: {}", child_path(key), what));
  }
  [[noreturn]] void fail_here(const std::string& what) const {
    throw std::runtime_error(path_.empty() ? what : fmt::format("{}: {}", path_, what));
  }

  static std::string describe(const json& v) {
    return v.is_number() ? v.dump() : std::string(type_name(v));
  }

  static std::uint64_t as_u64(const json& v, const std::string& p) {
    if (v.is_number_unsigned()) return v.get<std::uint64_t>();
    if (v.is_number_integer() && v.get<std::int64_t>() >= 0) return v.get<std::uint64_t>();
    throw std::runtime_error(fmt::format("{}: expected a non-negative integer, got {}", p, describe(v)));
  }

 private:
  const json& j_;
  std::string path_;
};

// A plain member and its JSON key. Each result type lists its plain members once, in a table that both
// to_json and the reader walk, so a field added to one side cannot be missing from the other.
template <typename T, typename M>
struct Field {
  const char* key;
  M T::*member;
};
template <typename T, typename M>
constexpr Field<T, M> field(const char* key, M T::*member) {
  return {key, member};
}

template <typename T, typename Table>
void read_fields(const reader& r, T& out, const Table& table) {
  std::apply([&](const auto&... f) { (r.get(f.key, out.*(f.member)), ...); }, table);
}
template <typename T, typename Table>
void write_fields(json& j, const T& in, const Table& table) {
  std::apply([&](const auto&... f) { ((j[f.key] = in.*(f.member)), ...); }, table);
}

// Enums, nested results and fields read but never written (bodies) are handled beside each table.
constexpr auto kRequestFields = std::make_tuple(
    field("index", &RequestRecord::index), field("nonce", &RequestRecord::nonce),
    field("correlation_id", &RequestRecord::correlation_id), field("gateway", &RequestRecord::gateway),
    field("intended_us", &RequestRecord::intended_us), field("sent_us", &RequestRecord::sent_us),
    field("done_us", &RequestRecord::done_us), field("http_status", &RequestRecord::http_status),
    field("client_error", &RequestRecord::client_error), field("simulator_rule", &RequestRecord::simulator_rule),
    field("simulator_action", &RequestRecord::simulator_action));

constexpr auto kLatencyFields = std::make_tuple(
    field("p50", &LatencySummary::p50), field("p90", &LatencySummary::p90), field("p99", &LatencySummary::p99),
    field("p999", &LatencySummary::p999), field("max", &LatencySummary::max), field("mean", &LatencySummary::mean),
    field("count", &LatencySummary::count));

constexpr auto kFailoverFields = std::make_tuple(
    field("applies", &FailoverCost::applies), field("window_start_ms", &FailoverCost::window_start_ms),
    field("window_end_ms", &FailoverCost::window_end_ms),
    field("requests_in_window", &FailoverCost::requests_in_window),
    field("failed_in_window", &FailoverCost::failed_in_window),
    field("timed_out_in_window", &FailoverCost::timed_out_in_window),
    field("longest_gap_ms", &FailoverCost::longest_gap_ms), field("p99_before_ms", &FailoverCost::p99_before_ms),
    field("p99_during_ms", &FailoverCost::p99_during_ms), field("p99_after_ms", &FailoverCost::p99_after_ms),
    field("duplicates_read", &FailoverCost::duplicates_read),
    field("duplicate_replies", &FailoverCost::duplicate_replies), field("recovery_ms", &FailoverCost::recovery_ms),
    field("recovery_window_ms", &FailoverCost::recovery_window_ms));

constexpr auto kScenarioFields = std::make_tuple(
    field("name", &ScenarioResult::name), field("path", &ScenarioResult::path),
    field("description", &ScenarioResult::description), field("seed", &ScenarioResult::seed),
    field("error", &ScenarioResult::error), field("duration_s", &ScenarioResult::duration_s),
    field("repro", &ScenarioResult::repro), field("run_dir", &ScenarioResult::run_dir),
    field("started_us", &ScenarioResult::started_us), field("counts", &ScenarioResult::counts),
    field("classifications", &ScenarioResult::classifications),
    field("gateway_counters", &ScenarioResult::gateway_counters),
    field("simulator_counters", &ScenarioResult::simulator_counters), field("events", &ScenarioResult::events),
    field("failing_requests", &ScenarioResult::failing_requests),
    field("repro_requests", &ScenarioResult::repro_requests));

constexpr auto kSuiteFields = std::make_tuple(
    field("started_at", &SuiteResult::started_at), field("duration_s", &SuiteResult::duration_s),
    field("machine", &SuiteResult::machine), field("versions", &SuiteResult::versions),
    field("interrupt_signal", &SuiteResult::interrupt_signal));

RequestRecord request_at(const json& j, const std::string& path) {
  const reader r(j, path);
  RequestRecord out;
  read_fields(r, out, kRequestFields);
  r.get_enum("outcome", out.outcome, parse_outcome, outcome_table);
  r.get_enum("classification", out.classification, parse_classification, classification_table);
  // Bodies are not written into reports (they would double a report's size) but a record that carries them,
  // such as a history line, reads back complete.
  r.get("request_body", out.request_body);
  r.get("response_body", out.response_body);
  r.get("answer_verified", out.answer_verified);
  return out;
}

CheckResult check_at(const json& j, const std::string& path) {
  const reader r(j, path);
  CheckResult out;
  r.get("name", out.name);
  // "state" is the verdict; a report without it (an older writer) has only "passed".
  bool passed = false;
  r.get("passed", passed);
  out.state = passed ? CheckState::pass : CheckState::fail;
  std::string state;
  r.get("state", state);
  if (!state.empty()) r.get_enum("state", out.state, check_state_from_string, check_state_table);
  r.get("message", out.message);
  return out;
}

LatencySummary latency_at(const json& j, const std::string& path) {
  const reader r(j, path);
  LatencySummary out;
  read_fields(r, out, kLatencyFields);
  return out;
}

FailoverCost failover_at(const json& j, const std::string& path) {
  const reader r(j, path);
  FailoverCost out;
  read_fields(r, out, kFailoverFields);
  return out;
}

ScenarioResult scenario_at(const json& j, const std::string& path) {
  const reader r(j, path);
  ScenarioResult out;
  read_fields(r, out, kScenarioFields);
  r.get("requests_omitted", out.requests_omitted);
  r.get("harness_peak_rss_bytes", out.harness_peak_rss_bytes);
  r.get_enum("status", out.status, parse_scenario_status, scenario_status_table);
  if (const json* l = r.find("latency")) out.latency = latency_at(*l, r.child_path("latency"));
  if (const json* f = r.find("failover")) out.failover = failover_at(*f, r.child_path("failover"));
  if (const json* l = r.find("latency_by_outcome")) {
    const std::string p = r.child_path("latency_by_outcome");
    if (!l->is_object()) throw std::runtime_error(fmt::format("{}: expected an object, got {}", p, type_name(*l)));
    for (const auto& [k, v] : l->items()) out.latency_by_outcome[k] = latency_at(v, fmt::format("{}.{}", p, k));
  }
  r.each("checks", [&](const json& e, const std::string& p) { out.checks.push_back(check_at(e, p)); }, out.checks);
  r.each("requests", [&](const json& e, const std::string& p) { out.requests.push_back(request_at(e, p)); },
         out.requests);
  return out;
}

}  // namespace

// request_body and response_body stay out: they belong to the run folder's history, not to reports.
nlohmann::json to_json(const RequestRecord& r) {
  json j = {{"outcome", to_string(r.outcome)}, {"classification", r.classification_text()}};
  write_fields(j, r, kRequestFields);
  return j;
}

nlohmann::json to_json(const CheckResult& c) {
  // "passed" stays for readers that know only pass and fail: not_applicable is not a pass.
  return {{"name", c.name}, {"state", to_string(c.state)}, {"passed", c.passed()}, {"message", c.message}};
}

nlohmann::json to_json(const LatencySummary& l) {
  json j = json::object();
  write_fields(j, l, kLatencyFields);
  return j;
}

nlohmann::json to_json(const FailoverCost& f) {
  json j = json::object();
  write_fields(j, f, kFailoverFields);
  return j;
}

nlohmann::json to_json(const ScenarioResult& s) {
  json checks = json::array();
  for (const auto& c : s.checks) checks.push_back(to_json(c));
  json requests = json::array();
  for (const auto& r : s.requests) requests.push_back(to_json(r));
  json by_outcome = json::object();
  for (const auto& [k, l] : s.latency_by_outcome) by_outcome[k] = to_json(l);
  json j = {{"status", to_string(s.status)},
            {"latency", to_json(s.latency)},
            {"latency_by_outcome", std::move(by_outcome)},
            {"checks", std::move(checks)},
            {"requests", std::move(requests)}};
  write_fields(j, s, kScenarioFields);
  // Only a scenario with a fault window has the member: a report of one without stays as it always was.
  if (s.failover.applies) j["failover"] = to_json(s.failover);
  // Likewise for a list of requests that is a sample, and for the harness's own peak RSS when it was read.
  if (s.requests_omitted > 0) j["requests_omitted"] = s.requests_omitted;
  if (s.harness_peak_rss_bytes > 0) j["harness_peak_rss_bytes"] = s.harness_peak_rss_bytes;
  return j;
}

nlohmann::json to_json(const SuiteResult& s) {
  json scenarios = json::array();
  for (const auto& sc : s.scenarios) scenarios.push_back(to_json(sc));
  json j = {{"format", suite_json_format},
            {"interrupted", s.interrupt_signal > 0},
            {"exit_code", s.exit_code()},  // informative only: recomputed from the statuses when read back
            {"scenarios", std::move(scenarios)}};
  write_fields(j, s, kSuiteFields);
  return j;
}

RequestRecord request_from_json(const nlohmann::json& j) { return request_at(j, ""); }
CheckResult check_from_json(const nlohmann::json& j) { return check_at(j, ""); }
LatencySummary latency_from_json(const nlohmann::json& j) { return latency_at(j, ""); }
FailoverCost failover_from_json(const nlohmann::json& j) { return failover_at(j, ""); }
ScenarioResult scenario_from_json(const nlohmann::json& j) { return scenario_at(j, ""); }

SuiteResult suite_from_json(const nlohmann::json& j) {
  const reader r(j, "");
  if (const json* f = r.find("format"); f != nullptr && *f != suite_json_format) {
    throw std::runtime_error(
        fmt::format("format: this build reads \"{}\", the file says {}", suite_json_format, f->dump()));
  }
  SuiteResult out;
  read_fields(r, out, kSuiteFields);
  r.each("scenarios", [&](const json& e, const std::string& p) { out.scenarios.push_back(scenario_at(e, p)); },
         out.scenarios);
  return out;
}

SuiteResult read_json_report(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error(fmt::format("{}: cannot open", file.string()));
  std::ostringstream text;
  text << in.rdbuf();
  // A file is outside input: bounded, so a hostile nesting depth is refused instead of overflowing the stack later.
  const auto parsed = parse_bounded(text.str());
  if (!parsed.ok()) {
    throw std::runtime_error(fmt::format("{}: not valid JSON{}", file.string(),
                                         parsed.errc == JsonErrc::too_deep
                                             ? fmt::format(": nested deeper than {} levels", kMaxJsonDepth)
                                             : std::string()));
  }
  try {
    return suite_from_json(parsed.value);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(fmt::format("{}: {}", file.string(), e.what()));
  }
}

}  // namespace rrkit::harness
