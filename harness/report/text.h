#pragma once
// Helpers shared by the report formats (harness/report/*.cpp); not part of the harness's interface, which is
// harness/report.h. Results carry text from the outside world (error messages, gateway answers) that may hold
// invalid UTF-8 or control characters; both make XML ill-formed, so every report escapes through here.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/result.h"

namespace rrkit::harness::report_detail {

// Escaped for XML text, an XML attribute, or HTML; invalid UTF-8 becomes U+FFFD, forbidden control characters
// visible \xNN text, and in HTML ':' a character reference (the page never names an external URL).
std::string xml(std::string_view s);
std::string xml_attr(std::string_view s);
std::string html(std::string_view s);
// Code points in s (an invalid byte counts as one), for column widths.
std::size_t code_point_count(std::string_view s);

std::uint64_t count_of(const std::map<std::string, std::uint64_t>& m, const std::string& key);
// Counts by outcome name plus "sent" (the checker's, or derived from the requests).
std::map<std::string, std::uint64_t> outcome_counts(const ScenarioResult& s);
// Everything but sent, ok, timeout and rejected.
std::uint64_t other_outcomes(const std::map<std::string, std::uint64_t>& counts);
std::vector<const CheckResult*> failing_checks(const ScenarioResult& s);
std::vector<const CheckResult*> not_applicable_checks(const ScenarioResult& s);
std::string format_ms(double ms);       // "-" for a negative or non-finite figure
std::string format_seconds(double s);   // likewise
// What a fault cost, as (label, value) rows in a fixed order, for the console and the HTML page alike;
// empty when the scenario has no fault window.
std::vector<std::pair<std::string, std::string>> failover_rows(const FailoverCost& f);
// Throws std::runtime_error naming the file; see the definition for why the temporary name is unpredictable.
void write_file_atomically(const std::filesystem::path& file, const std::string& content);

}  // namespace rrkit::harness::report_detail
