#pragma once
// SVG plots for the HTML report (harness/report/html.cpp): pure functions of one scenario's result.
#include <string>

#include "harness/result.h"

namespace rrkit::harness::report_detail {

// Each request as a dot at (send time, latency), coloured by outcome, with the timeline's events; above
// html_max_plotted_requests an even, deterministic sample (and the plot says so).
std::string timeline_svg(const ScenarioResult& s);
// Latency buckets on a 1-2-5 ladder, stacked by outcome.
std::string histogram_svg(const ScenarioResult& s);

}  // namespace rrkit::harness::report_detail
