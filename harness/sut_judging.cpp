// A SUT's judging half (answers and metrics), its built-in rr-gateway value and its run-folder form.
#include <fmt/format.h>

#include "common/gateway_metrics.h"
#include "harness/sut.h"

namespace rrkit::harness {

using nlohmann::json;

SutJudging judging_of(const Sut& sut) {
  SutJudging j;
  j.name = sut.name;
  j.scenario_args = sut.start.scenario_args;
  j.answer = sut.answer;
  j.metrics = sut.metrics;
  return j;
}

namespace {

SutSeries series_of(const char* name, const char* label = "", std::string_view value = {}) {
  SutSeries s;
  s.name = name;
  s.label = label;
  s.value = std::string(value);
  s.text = s.label.empty() ? s.name : fmt::format("{}{{{}=\"{}\"}}", s.name, s.label, s.value);
  return s;
}

SutJudging make_rr_gateway() {
  namespace gm = gateway_metrics;
  SutJudging j;
  j.answer.correlation_id = IdSource::header;
  j.answer.correlation_id_at = "X-Correlation-Id";
  j.answer.echo = EchoMode::pointer;
  j.answer.echo_pointer = "/response/payload/echo";
  SutMetrics m;
  m.series["pending"] = series_of(gm::kPending);
  for (const auto cls : gm::kReplyClasses) {
    m.series["replies_" + std::string(gm::to_string(cls))] = series_of(gm::kReplies, gm::kClassLabel, gm::to_string(cls));
  }
  for (const auto o : {gm::Outcome::ok, gm::Outcome::timeout, gm::Outcome::overloaded, gm::Outcome::publish_failed,
                       gm::Outcome::client_gone, gm::Outcome::bad_request}) {
    m.series["requests_" + std::string(gm::to_string(o))] = series_of(gm::kRequests, gm::kOutcomeLabel, gm::to_string(o));
  }
  j.metrics = std::move(m);
  return j;
}

const char* id_source_name(IdSource s) {
  switch (s) {
    case IdSource::none: return "none";
    case IdSource::header: return "header";
    case IdSource::json: return "json";
  }
  return "none";
}

bool valid_status(const json& v) { return v.is_number_integer() && v.get<int>() >= 100 && v.get<int>() <= 599; }

}  // namespace

const SutJudging& rr_gateway_judging() {
  static const SutJudging j = make_rr_gateway();
  return j;
}

const SutSeries* sut_series(const SutJudging& j, const std::string& key) {
  if (!j.metrics) return nullptr;
  const auto it = j.metrics->series.find(key);
  return it == j.metrics->series.end() ? nullptr : &it->second;
}

json to_json(const SutJudging& j) {
  json answer = {{"ok_status", j.answer.ok_status},
                 {"timeout_status", j.answer.timeout_status},
                 {"correlation_id", id_source_name(j.answer.correlation_id)},
                 {"correlation_id_at", j.answer.correlation_id_at},
                 {"echo", j.answer.echo == EchoMode::body ? "body" : j.answer.echo_pointer},
                 {"timeout_epsilon_us", j.answer.timeout_epsilon.count()}};
  json out = {{"name", j.name}, {"scenario_args", j.scenario_args}, {"answer", std::move(answer)}, {"metrics", nullptr}};
  if (j.metrics) {
    json series = json::object();
    for (const auto& [k, s] : j.metrics->series) {
      series[k] = {{"name", s.name}, {"label", s.label}, {"value", s.value}, {"text", s.text}};
    }
    out["metrics"] = {{"path", j.metrics->path}, {"series", std::move(series)}};
  }
  return out;
}

std::optional<SutJudging> sut_judging_from_json(const json& j, std::string& error) {
  auto bad = [&](const std::string& why) {
    error = "sut: " + why;
    return std::nullopt;
  };
  if (!j.is_object()) return bad("must be an object");
  SutJudging out;
  const auto name = j.find("name");
  if (name == j.end() || !name->is_string()) return bad("\"name\" must be a string");
  out.name = name->get<std::string>();
  const auto args = j.find("scenario_args");
  if (args == j.end() || !args->is_boolean()) return bad("\"scenario_args\" must be true or false");
  out.scenario_args = args->get<bool>();
  const auto a = j.find("answer");
  if (a == j.end() || !a->is_object()) return bad("\"answer\" must be an object");
  const auto field = [&](const char* key) -> const json* {
    const auto it = a->find(key);
    return it == a->end() ? nullptr : &*it;
  };
  const json* ok = field("ok_status");
  const json* timeout = field("timeout_status");
  if (!ok || !timeout || !valid_status(*ok) || !valid_status(*timeout)) return bad("answer statuses must be 100..599");
  out.answer.ok_status = ok->get<int>();
  out.answer.timeout_status = timeout->get<int>();
  const json* source = field("correlation_id");
  const json* at = field("correlation_id_at");
  if (!source || !source->is_string() || !at || !at->is_string()) return bad("answer.correlation_id must be strings");
  const auto& src = source->get_ref<const std::string&>();
  out.answer.correlation_id_at = at->get<std::string>();
  if (src == "none") {
    out.answer.correlation_id = IdSource::none;
  } else if (src == "header" && !out.answer.correlation_id_at.empty()) {
    out.answer.correlation_id = IdSource::header;
  } else if (src == "json" && is_json_pointer(out.answer.correlation_id_at)) {
    out.answer.correlation_id = IdSource::json;
  } else {
    return bad("answer.correlation_id must be none, header NAME or json POINTER");
  }
  const json* echo = field("echo");
  if (!echo || !echo->is_string()) return bad("answer.echo must be a string");
  if (*echo == "body") {
    out.answer.echo = EchoMode::body;
  } else if (is_json_pointer(echo->get<std::string>())) {
    out.answer.echo = EchoMode::pointer;
    out.answer.echo_pointer = echo->get<std::string>();
  } else {
    return bad("answer.echo must be body or a JSON pointer");
  }
  // Absent in run folders written before the SUT could declare it: the scenario's epsilon alone.
  if (const json* eps = field("timeout_epsilon_us")) {
    if (!eps->is_number_integer() || eps->get<std::int64_t>() < 0) return bad("answer.timeout_epsilon_us must be >= 0");
    out.answer.timeout_epsilon = std::chrono::microseconds(eps->get<std::int64_t>());
  }
  const auto m = j.find("metrics");
  if (m == j.end()) return bad("\"metrics\" must be an object or null");
  if (m->is_null()) return out;
  if (!m->is_object() || !m->contains("path") || !(*m)["path"].is_string() || !m->contains("series") ||
      !(*m)["series"].is_object()) {
    return bad("\"metrics\" must hold a path and a series map");
  }
  SutMetrics metrics;
  metrics.path = (*m)["path"].get<std::string>();
  for (const auto& [k, v] : (*m)["series"].items()) {
    if (!v.is_object()) return bad("metrics.series." + k + " must be an object");
    SutSeries s;
    for (auto [key, dest] : {std::pair{"name", &s.name}, {"label", &s.label}, {"value", &s.value}, {"text", &s.text}}) {
      const auto it = v.find(key);
      if (it == v.end() || !it->is_string()) return bad(fmt::format("metrics.series.{}.{} must be a string", k, key));
      *dest = it->get<std::string>();
    }
    if (s.name.empty()) return bad("metrics.series." + k + ".name is empty");
    metrics.series[k] = std::move(s);
  }
  out.metrics = std::move(metrics);
  return out;
}

}  // namespace rrkit::harness
