#pragma once
// Reports of a suite run: console summary, JSON, JUnit XML and a self-contained HTML page.
// All of them are pure functions of a SuiteResult (harness/result.h); none touches the stack.
//
// Errors: the JSON readers throw std::runtime_error naming the offending JSON path
// ("scenarios[2].requests[17].sent_us: expected an integer, got string") and the writers throw
// std::runtime_error naming the file when it cannot be written. Both are edges (files), so exceptions.
#include <filesystem>
#include <iosfwd>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/result.h"

namespace rrkit::harness {

// Identifies the JSON layout of a suite report; written as "format" and checked when read back.
inline constexpr const char* suite_json_format = "rrkit-suite/1";

// JSON (de)serialisation (harness/result.cpp). Round trip is exact: from_json(to_json(x)) == x field by field.
// Field names are the C++ member names. Missing keys take the struct's default; a key of the wrong type is an error;
// unknown keys are ignored (so newer writers stay readable). Exception: RequestRecord's request_body and
// response_body are not written (reports stay small; the run folder's history keeps them) but are read when present.
nlohmann::json to_json(const RequestRecord& r);
nlohmann::json to_json(const CheckResult& c);
nlohmann::json to_json(const LatencySummary& l);
nlohmann::json to_json(const ScenarioResult& s);
nlohmann::json to_json(const SuiteResult& s);
RequestRecord request_from_json(const nlohmann::json& j);
CheckResult check_from_json(const nlohmann::json& j);
LatencySummary latency_from_json(const nlohmann::json& j);
ScenarioResult scenario_from_json(const nlohmann::json& j);
SuiteResult suite_from_json(const nlohmann::json& j);

// Reads a file written by write_json_report (used by `rr-harness replay`).
SuiteResult read_json_report(const std::filesystem::path& file);

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

// Above this many requests in one scenario the timeline plot shows an even, deterministic sample (and says so).
inline constexpr std::size_t html_max_plotted_requests = 5000;

}  // namespace rrkit::harness
