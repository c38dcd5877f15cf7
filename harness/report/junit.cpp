// JUnit XML: one <testsuite name="rrkit">, one <testcase classname="rrkit.scenarios"> per scenario; what CI
// systems read to show pass/fail per scenario.
#include <string>

#include <fmt/format.h>

#include "harness/report.h"
#include "harness/report/text.h"

namespace rrkit::harness {

using namespace report_detail;

namespace {

std::string junit(const SuiteResult& suite) {
  std::size_t failures = 0;
  std::size_t errors = 0;
  std::size_t skipped = 0;
  for (const auto& s : suite.scenarios) {
    if (s.status == ScenarioStatus::fail) ++failures;
    else if (s.status != ScenarioStatus::pass) ++errors;
    skipped += not_applicable_checks(s).size();
  }
  std::string out;
  auto o = std::back_inserter(out);
  fmt::format_to(o, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
  fmt::format_to(o,
                 "<testsuite name=\"rrkit\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" "
                 "time=\"{:.3f}\" timestamp=\"{}\" hostname=\"{}\">\n",
                 suite.scenarios.size() + skipped, failures, errors, skipped, suite.duration_s, xml_attr(suite.started_at),
                 xml_attr(suite.machine));
  if (!suite.versions.empty()) {
    out += "  <properties>\n";
    for (const auto& [k, v] : suite.versions) {
      fmt::format_to(o, "    <property name=\"{}\" value=\"{}\"/>\n", xml_attr(k), xml_attr(v));
    }
    out += "  </properties>\n";
  }
  for (const auto& s : suite.scenarios) {
    fmt::format_to(o, "  <testcase classname=\"rrkit.scenarios\" name=\"{}\" file=\"{}\" time=\"{:.3f}\">\n",
                   xml_attr(s.name), xml_attr(s.path), s.duration_s);
    const auto failed = failing_checks(s);
    if (s.status == ScenarioStatus::fail) {
      // The first failing check is the headline CI tools show; the body lists them all.
      std::string message = failed.empty() ? std::string("scenario failed") : failed.front()->message;
      if (!failed.empty() && message.empty()) message = failed.front()->name;
      std::string body;
      for (const auto* c : failed) {
        body += c->message.empty() ? c->name : fmt::format("{}: {}", c->name, c->message);
        body += '\n';
      }
      fmt::format_to(o, "    <failure message=\"{}\" type=\"check\">{}</failure>\n", xml_attr(message), xml(body));
    } else if (s.status != ScenarioStatus::pass) {
      const std::string message = s.error.empty() ? fmt::format("status {}", to_string(s.status)) : s.error;
      std::string body = s.error;
      for (const auto* c : failed) body += fmt::format("\n{}: {}", c->name, c->message);
      fmt::format_to(o, "    <error message=\"{}\" type=\"infrastructure\">{}</error>\n", xml_attr(message),
                     xml(body));
    }
    std::string sysout = fmt::format("reproduce: {}\nrun folder: {}\nseed: {}\n", s.repro, s.run_dir, s.seed);
    for (std::size_t k = 0; k < s.repro_requests.size() && k < s.failing_requests.size(); ++k) {
      sysout += fmt::format("reproduce request #{}: {}\n", s.failing_requests[k], s.repro_requests[k]);
    }
    for (const auto& e : s.events) sysout += fmt::format("event: {}\n", e);
    fmt::format_to(o, "    <system-out>{}</system-out>\n", xml(sysout));
    out += "  </testcase>\n";
    // A check that cannot apply to this system under test is a skipped testcase of its own: CI shows it
    // as skipped, neither passed nor hidden inside the scenario's pass.
    for (const auto* c : not_applicable_checks(s)) {
      fmt::format_to(o, "  <testcase classname=\"rrkit.scenarios.{}\" name=\"{}\" time=\"0\">\n", xml_attr(s.name),
                     xml_attr(c->name));
      fmt::format_to(o, "    <skipped message=\"{}\"/>\n", xml_attr("not applicable: " + c->message));
      out += "  </testcase>\n";
    }
  }
  out += "</testsuite>\n";
  return out;
}

}  // namespace

std::string render_junit_report(const SuiteResult& suite) { return junit(suite); }

void write_junit_report(const SuiteResult& suite, const std::filesystem::path& file) {
  write_file_atomically(file, junit(suite));
}

}  // namespace rrkit::harness
