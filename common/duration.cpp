#include "common/duration.h"

#include <charconv>
#include <cmath>

namespace rrkit {

std::optional<std::chrono::microseconds> parse_duration(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  std::size_t i = 0;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == 0) return std::nullopt;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + i, value);
  if (ec != std::errc() || ptr != text.data() + i || !std::isfinite(value) || value < 0) return std::nullopt;
  const std::string_view unit = text.substr(i);
  double us_per_unit = 0;
  if (unit.empty() || unit == "ms") us_per_unit = 1e3;
  else if (unit == "us") us_per_unit = 1;
  else if (unit == "s") us_per_unit = 1e6;
  else if (unit == "m" || unit == "min") us_per_unit = 60e6;
  else if (unit == "h") us_per_unit = 3600e6;
  else return std::nullopt;
  const double us = value * us_per_unit;
  if (us > 1e15) return std::nullopt;
  return std::chrono::microseconds(static_cast<long long>(std::llround(us)));
}

std::string format_duration(std::chrono::microseconds d) {
  const auto us = d.count();
  if (us % 1000000 == 0) return std::to_string(us / 1000000) + "s";
  if (us % 1000 == 0) return std::to_string(us / 1000) + "ms";
  return std::to_string(us) + "us";
}

}  // namespace rrkit
