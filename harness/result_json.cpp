// The JSON form of every result type: the --json report, run.json's results, history.jsonl's records, and what
// `rr-harness replay` and `rr-harness diff` read back.
#include <fstream>
#include <sstream>
#include <stdexcept>

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

json map_json(const std::map<std::string, std::uint64_t>& m) {
  json o = json::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}
json map_json(const std::map<std::string, double>& m) {
  json o = json::object();
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

RequestRecord request_at(const json& j, const std::string& path) {
  const reader r(j, path);
  RequestRecord out;
  r.get("index", out.index);
  r.get("nonce", out.nonce);
  r.get("correlation_id", out.correlation_id);
  r.get("gateway", out.gateway);
  r.get("intended_us", out.intended_us);
  r.get("sent_us", out.sent_us);
  r.get("done_us", out.done_us);
  r.get("http_status", out.http_status);
  r.get("client_error", out.client_error);
  r.get_enum("outcome", out.outcome, parse_outcome, outcome_table);
  r.get_enum("classification", out.classification, parse_classification, classification_table);
  r.get("simulator_rule", out.simulator_rule);
  r.get("simulator_action", out.simulator_action);
  // Bodies are not written into reports (they would double a report's size) but a record that carries them,
  // such as a history line, reads back complete.
  r.get("request_body", out.request_body);
  r.get("response_body", out.response_body);
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
  r.get("p50", out.p50);
  r.get("p90", out.p90);
  r.get("p99", out.p99);
  r.get("p999", out.p999);
  r.get("max", out.max);
  r.get("mean", out.mean);
  r.get("count", out.count);
  return out;
}

ScenarioResult scenario_at(const json& j, const std::string& path) {
  const reader r(j, path);
  ScenarioResult out;
  r.get("name", out.name);
  r.get("path", out.path);
  r.get("description", out.description);
  r.get("seed", out.seed);
  r.get_enum("status", out.status, parse_scenario_status, scenario_status_table);
  r.get("error", out.error);
  r.get("duration_s", out.duration_s);
  r.get("repro", out.repro);
  r.get("run_dir", out.run_dir);
  r.get("started_us", out.started_us);
  r.get("counts", out.counts);
  r.get("classifications", out.classifications);
  r.get("gateway_counters", out.gateway_counters);
  r.get("simulator_counters", out.simulator_counters);
  if (const json* l = r.find("latency")) out.latency = latency_at(*l, r.child_path("latency"));
  if (const json* l = r.find("latency_by_outcome")) {
    const std::string p = r.child_path("latency_by_outcome");
    if (!l->is_object()) throw std::runtime_error(fmt::format("{}: expected an object, got {}", p, type_name(*l)));
    for (const auto& [k, v] : l->items()) out.latency_by_outcome[k] = latency_at(v, fmt::format("{}.{}", p, k));
  }
  r.each("checks", [&](const json& e, const std::string& p) { out.checks.push_back(check_at(e, p)); }, out.checks);
  r.each("requests", [&](const json& e, const std::string& p) { out.requests.push_back(request_at(e, p)); },
         out.requests);
  r.get("events", out.events);
  r.get("repro_requests", out.repro_requests);
  r.get("failing_requests", out.failing_requests);
  return out;
}

}  // namespace

// request_body and response_body stay out: they belong to the run folder's history, not to reports.
nlohmann::json to_json(const RequestRecord& r) {
  return {{"index", r.index},
          {"nonce", r.nonce},
          {"correlation_id", r.correlation_id},
          {"gateway", r.gateway},
          {"intended_us", r.intended_us},
          {"sent_us", r.sent_us},
          {"done_us", r.done_us},
          {"http_status", r.http_status},
          {"client_error", r.client_error},
          {"outcome", to_string(r.outcome)},
          {"classification", r.classification_text()},
          {"simulator_rule", r.simulator_rule},
          {"simulator_action", r.simulator_action}};
}

nlohmann::json to_json(const CheckResult& c) {
  // "passed" stays for readers that know only pass and fail: not_applicable is not a pass.
  return {{"name", c.name}, {"state", to_string(c.state)}, {"passed", c.passed()}, {"message", c.message}};
}

nlohmann::json to_json(const LatencySummary& l) {
  return {{"p50", l.p50}, {"p90", l.p90}, {"p99", l.p99}, {"p999", l.p999},
          {"max", l.max}, {"mean", l.mean}, {"count", l.count}};
}

nlohmann::json to_json(const ScenarioResult& s) {
  json checks = json::array();
  for (const auto& c : s.checks) checks.push_back(to_json(c));
  json requests = json::array();
  for (const auto& r : s.requests) requests.push_back(to_json(r));
  json by_outcome = json::object();
  for (const auto& [k, l] : s.latency_by_outcome) by_outcome[k] = to_json(l);
  return {{"name", s.name},
          {"path", s.path},
          {"description", s.description},
          {"seed", s.seed},
          {"status", to_string(s.status)},
          {"error", s.error},
          {"duration_s", s.duration_s},
          {"repro", s.repro},
          {"run_dir", s.run_dir},
          {"started_us", s.started_us},
          {"counts", map_json(s.counts)},
          {"classifications", map_json(s.classifications)},
          {"gateway_counters", map_json(s.gateway_counters)},
          {"simulator_counters", map_json(s.simulator_counters)},
          {"latency", to_json(s.latency)},
          {"latency_by_outcome", std::move(by_outcome)},
          {"checks", std::move(checks)},
          {"events", s.events},
          {"failing_requests", s.failing_requests},
          {"repro_requests", s.repro_requests},
          {"requests", std::move(requests)}};
}

nlohmann::json to_json(const SuiteResult& s) {
  json scenarios = json::array();
  for (const auto& sc : s.scenarios) scenarios.push_back(to_json(sc));
  return {{"format", suite_json_format},
          {"started_at", s.started_at},
          {"duration_s", s.duration_s},
          {"machine", s.machine},
          {"versions", s.versions},
          {"interrupted", s.interrupt_signal > 0},
          {"interrupt_signal", s.interrupt_signal},
          {"exit_code", s.exit_code()},  // informative only: recomputed from the statuses when read back
          {"scenarios", std::move(scenarios)}};
}

RequestRecord request_from_json(const nlohmann::json& j) { return request_at(j, ""); }
CheckResult check_from_json(const nlohmann::json& j) { return check_at(j, ""); }
LatencySummary latency_from_json(const nlohmann::json& j) { return latency_at(j, ""); }
ScenarioResult scenario_from_json(const nlohmann::json& j) { return scenario_at(j, ""); }

SuiteResult suite_from_json(const nlohmann::json& j) {
  const reader r(j, "");
  if (const json* f = r.find("format"); f != nullptr && *f != suite_json_format) {
    throw std::runtime_error(
        fmt::format("format: this build reads \"{}\", the file says {}", suite_json_format, f->dump()));
  }
  SuiteResult out;
  r.get("started_at", out.started_at);
  r.get("duration_s", out.duration_s);
  r.get("machine", out.machine);
  r.get("versions", out.versions);
  r.get("interrupt_signal", out.interrupt_signal);
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
