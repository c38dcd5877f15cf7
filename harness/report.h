#pragma once
// Reports of a suite run: console summary, JSON, JUnit XML and a self-contained HTML page.
// All of them are pure functions of a SuiteResult (harness/result.h); none touches the stack.
//
// The JSON form of the result model (to_json, suite_from_json, read_json_report) lives with the model in
// harness/result.h. Errors: the writers throw std::runtime_error naming the file when it cannot be written
// (an edge, so an exception).
#include <filesystem>
#include <iosfwd>
#include <string>

#include "harness/result.h"

namespace rrkit::harness {

// Writers: create missing parent folders, write to a temporary sibling and rename, so a reader never sees half a file.
void write_json_report(const SuiteResult& suite, const std::filesystem::path& file);
// JUnit XML: one <testsuite name="rrkit">, one <testcase classname="rrkit.scenarios"> per scenario.
void write_junit_report(const SuiteResult& suite, const std::filesystem::path& file);
// One self-contained HTML page: inline CSS and SVG, no external URL.
void write_html_report(const SuiteResult& suite, const std::filesystem::path& file);

// String forms of the same reports (the writers use these; tests read them directly).
std::string render_junit_report(const SuiteResult& suite);
std::string render_html_report(const SuiteResult& suite);

// Fixed-width table, failing checks and repro lines of failed scenarios, then the totals line
// "scenarios: N passed, M failed" (plus ", K errors" when there are any). `color` adds ANSI colours.
void print_console_summary(const SuiteResult& suite, std::ostream& out, bool color);

// A run's report lists at most this many requests that need no attention (bound_request_list), besides
// every failing or unusual one.
inline constexpr std::size_t kReportedRequestSample = 2000;

// Above this many requests in one scenario the timeline plot shows an even, deterministic sample (and says so).
inline constexpr std::size_t html_max_plotted_requests = 5000;

}  // namespace rrkit::harness
