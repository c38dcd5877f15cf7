// Gateway figures read from Prometheus text (declared in harness/checker.h).
#include "harness/checker.h"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

namespace rrkit::harness {

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  const auto idx = static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(values.size()))) - 1;
  return values[idx];
}

std::optional<double> metric_sample(const std::string& text, const std::string& name, const std::string& label,
                                    const std::string& value) {
  double sum = 0;
  bool found = false;
  std::istringstream in(text);
  std::string line;
  const std::string want_label = label.empty() ? "" : label + "=\"" + value + "\"";
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != ' ' && next != '{') continue;
    const auto brace_end = line.find('}');
    const std::string labels = next == '{' && brace_end != std::string::npos ? line.substr(name.size(), brace_end - name.size() + 1) : "";
    if (!want_label.empty() && labels.find(want_label) == std::string::npos) continue;
    if (want_label.empty() && !labels.empty() && !label.empty()) continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    char* end = nullptr;
    const double v = std::strtod(line.c_str() + space + 1, &end);
    if (end == line.c_str() + space + 1) continue;  // no number: not a sample
    sum += v;
    found = true;
  }
  if (!found) return std::nullopt;
  return sum;
}

double metric_value(const std::string& text, const std::string& name, const std::string& label,
                    const std::string& value) {
  return metric_sample(text, name, label, value).value_or(0.0);
}

namespace {

std::string sample_name(const std::string& name, const std::string& label, const std::string& value) {
  return label.empty() ? name : fmt::format("{}{{{}=\"{}\"}}", name, label, value);
}

// Adds one gateway's sample to f, or records why it could not be read (the first reason is kept).
void add_sample(GatewayFigure& f, const std::vector<MetricsScrape>& scrapes, std::size_t i, const char* which,
                const std::string& name, const std::string& label, const std::string& value, double sign) {
  if (!f.ok()) return;
  if (i >= scrapes.size()) {
    f.unreadable = fmt::format("gateway {}: no {}/metrics snapshot", i, which);
    return;
  }
  if (!scrapes[i].error.empty()) {
    f.unreadable = fmt::format("gateway {}: {}/metrics {}", i, which, scrapes[i].error);
    return;
  }
  const auto v = metric_sample(scrapes[i].text, name, label, value);
  if (!v) {
    f.unreadable = fmt::format("gateway {}: {}/metrics has no {} sample", i, which, sample_name(name, label, value));
    return;
  }
  f.value += sign * *v;
}

std::size_t gateway_count(const CheckInput& in) {
  return std::max<std::size_t>(static_cast<std::size_t>(std::max(1, in.gateways)), in.gateway_metrics.size());
}

}  // namespace

GatewayFigure gateway_counter(const CheckInput& in, const std::string& name, const std::string& label,
                              const std::string& value) {
  GatewayFigure f;
  for (std::size_t i = 0; i < gateway_count(in); ++i) {
    add_sample(f, in.gateway_metrics, i, "", name, label, value, 1);
    // No baseline at all means no warm-up: nothing to subtract. A partial one is a failed scrape.
    // An instance that joined mid-traffic started after the warm-up: it has nothing to subtract.
    const auto life = life_of(in, i);
    const bool warmed = life != GatewayLife::joined && life != GatewayLife::joined_and_left;
    if (!in.gateway_baseline.empty() && warmed) add_sample(f, in.gateway_baseline, i, "baseline ", name, label, value, -1);
  }
  if (!f.ok()) f.value = 0;
  return f;
}

namespace {

GatewayFigure not_exposed(const CheckInput& in, const std::string& key) {
  GatewayFigure f;
  f.not_applicable = fmt::format("the SUT {} exposes no {} metric", in.sut.name, key);
  return f;
}

}  // namespace

GatewayFigure sut_counter(const CheckInput& in, const std::string& key) {
  const SutSeries* s = sut_series(in.sut, key);
  return s ? gateway_counter(in, s->name, s->label, s->value) : not_exposed(in, key);
}

GatewayFigure sut_pending(const CheckInput& in) {
  const SutSeries* s = sut_series(in.sut, "pending");
  if (!s) return not_exposed(in, "pending");
  GatewayFigure f;
  for (std::size_t i = 0; i < gateway_count(in); ++i) {
    // A stopped instance answered its waiting clients on the way out; its last reading was taken before.
    const auto life = life_of(in, i);
    if (life == GatewayLife::left || life == GatewayLife::joined_and_left) continue;
    add_sample(f, in.gateway_metrics, i, "", s->name, s->label, s->value, 1);
  }
  if (!f.ok()) f.value = 0;
  return f;
}

GatewayFigure gateway_gauge(const CheckInput& in, const std::string& name) {
  GatewayFigure f;
  for (std::size_t i = 0; i < gateway_count(in); ++i) add_sample(f, in.gateway_metrics, i, "", name, "", "", 1);
  if (!f.ok()) f.value = 0;
  return f;
}

}  // namespace rrkit::harness
