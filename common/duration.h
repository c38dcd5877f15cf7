#pragma once
// Human durations on the command line and in YAML: "250ms", "5s", "1.5s", "2m", "100us"; a bare number is milliseconds.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace rrkit {

std::optional<std::chrono::microseconds> parse_duration(std::string_view text);
std::string format_duration(std::chrono::microseconds d);


}  // namespace rrkit
