// The console summary printed at the end of `rr-harness run`: a fixed-width table, then the failures with the
// command that reproduces each.
#include <algorithm>
#include <array>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "harness/report.h"
#include "harness/report/text.h"

namespace rrkit::harness {

using namespace report_detail;

namespace {

std::string pad(std::string_view s, std::size_t width, bool right) {
  // Width in code points, so that names with non-ASCII letters still line up.
  const std::size_t n = code_point_count(s);
  const std::string fill(n < width ? width - n : 0, ' ');
  return right ? fill + std::string(s) : std::string(s) + fill;
}

}  // namespace

void print_console_summary(const SuiteResult& suite, std::ostream& out, bool color) {
  const char* reset = color ? "\x1b[0m" : "";
  const char* bold = color ? "\x1b[1m" : "";
  auto status_colour = [&](const std::string& st) -> const char* {
    if (!color) return "";
    return st == "pass" ? "\x1b[32m" : st == "fail" ? "\x1b[31m" : "\x1b[35m";
  };
  struct row {
    std::string name, result, time, sent, ok, t504, t503, other, p50, p99, status;
  };
  std::vector<row> rows;
  for (const auto& s : suite.scenarios) {
    const auto c = outcome_counts(s);
    std::string result = s.status == ScenarioStatus::none ? std::string("UNKNOWN") : to_string(s.status);
    std::transform(result.begin(), result.end(), result.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    const bool lat = s.latency.count > 0;
    rows.push_back({s.name, result, format_seconds(s.duration_s), std::to_string(count_of(c, "sent")),
                    std::to_string(count_of(c, "ok")), std::to_string(count_of(c, "timeout")),
                    std::to_string(count_of(c, "rejected")), std::to_string(other_outcomes(c)),
                    lat ? format_ms(s.latency.p50) : "-", lat ? format_ms(s.latency.p99) : "-", to_string(s.status)});
  }
  const row header{"scenario", "result", "time", "sent", "ok", "504", "503", "other", "p50", "p99", ""};
  std::array<std::size_t, 10> w{};
  auto widen = [&](const row& r) {
    const std::array<const std::string*, 10> cells{&r.name, &r.result, &r.time, &r.sent, &r.ok,
                                                   &r.t504, &r.t503,   &r.other, &r.p50, &r.p99};
    for (std::size_t i = 0; i < cells.size(); ++i) {
      w[i] = std::max(w[i], code_point_count(*cells[i]));
    }
  };
  widen(header);
  for (const auto& r : rows) widen(r);
  auto line = [&](const row& r, const char* result_colour) {
    out << pad(r.name, w[0], false) << "  " << result_colour << pad(r.result, w[1], false) << (*result_colour ? reset : "")
        << "  " << pad(r.time, w[2], true) << "  " << pad(r.sent, w[3], true) << "  " << pad(r.ok, w[4], true) << "  "
        << pad(r.t504, w[5], true) << "  " << pad(r.t503, w[6], true) << "  " << pad(r.other, w[7], true) << "  "
        << pad(r.p50, w[8], true) << "  " << pad(r.p99, w[9], true) << "\n";
  };
  out << bold;
  line(header, "");
  out << reset;
  for (const auto& r : rows) line(r, status_colour(r.status));

  for (const auto& s : suite.scenarios) {
    const auto cost = failover_rows(s.failover);
    if (!cost.empty()) out << "\n" << bold << s.name << reset << ": what the faults cost\n";
    for (const auto& [label, value] : cost) out << "  " << pad(label, 28, false) << value << "\n";
  }

  std::size_t passed = 0, failed = 0, errors = 0;
  for (const auto& s : suite.scenarios) {
    if (s.status == ScenarioStatus::pass) {
      ++passed;
      const auto na = not_applicable_checks(s);
      if (!na.empty()) out << "\n" << bold << s.name << reset << ": " << na.size() << " check(s) not applicable\n";
      for (const auto* c : na) out << "  n/a " << c->name << (c->message.empty() ? "" : ": " + c->message) << "\n";
      continue;
    }
    if (s.status == ScenarioStatus::fail) ++failed;
    else ++errors;
    out << "\n" << status_colour(to_string(s.status)) << (s.status == ScenarioStatus::fail ? "FAILED" : "ERROR") << reset << " " << bold
        << s.name << reset << " (seed " << s.seed << ")\n";
    if (!s.error.empty()) out << "  error: " << s.error << "\n";
    for (const auto* c : failing_checks(s)) {
      out << "  - " << c->name;
      if (!c->message.empty()) out << ": " << c->message;
      out << "\n";
    }
    for (const auto* c : not_applicable_checks(s)) {
      out << "  n/a " << c->name << (c->message.empty() ? "" : ": " + c->message) << "\n";
    }
    if (!s.run_dir.empty()) out << "  run folder: " << s.run_dir << "\n";
    out << "  reproduce: " << s.repro << "\n";
    for (std::size_t k = 0; k < s.repro_requests.size() && k < s.failing_requests.size(); ++k) {
      out << "  reproduce request #" << s.failing_requests[k] << ": " << s.repro_requests[k] << "\n";
    }
  }
  // Plain text even with colours on: CI scripts grep for this exact line.
  out << "\nscenarios: " << passed << " passed, " << failed << " failed";
  if (errors > 0) out << ", " << errors << " errors";
  out << "\n";
}

}  // namespace rrkit::harness
