#include "simulator/profile_yaml.h"

#include <charconv>
#include <cmath>

#include "common/duration.h"

namespace rrkit::simulator::profile_yaml {

std::string join(const std::string& base, const std::string& k) { return base.empty() ? k : base + "." + k; }

[[noreturn]] void fail(const YAML::Node& node, const std::string& key, std::string message) {
  throw Invalid{key, node.Mark(), std::move(message)};
}

void check_keys(const YAML::Node& map, const std::string& key, const std::set<std::string>& allowed) {
  if (!map.IsMap()) fail(map, key, "expected a mapping");
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string k = it->first.Scalar();
    if (!allowed.count(k)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw Invalid{join(key, k), it->first.Mark(), "unknown key '" + k + "' (allowed: " + list + ")"};
    }
  }
}

std::string scalar(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) fail(n, key, "expected a scalar value");
  return n.Scalar();
}

microseconds duration(const YAML::Node& n, const std::string& key) {
  const std::string s = scalar(n, key);
  if (!s.empty() && s.front() == '-') fail(n, key, "negative duration '" + s + "'");
  const auto d = parse_duration(s);
  if (!d) fail(n, key, "invalid duration '" + s + "' (examples: 250ms, 1.5s, 100us)");
  return *d;
}

double number(const YAML::Node& n, const std::string& key) {
  const std::string s = scalar(n, key);
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) fail(n, key, "expected a number, got '" + s + "'");
  return v;
}

std::int64_t integer(const YAML::Node& n, const std::string& key, std::int64_t min, std::int64_t max) {
  const std::string s = scalar(n, key);
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) fail(n, key, "must be <= " + std::to_string(max) + ", got " + s);
  if (ec != std::errc() || p != s.data() + s.size()) fail(n, key, "expected an integer, got '" + s + "'");
  if (v < min) fail(n, key, "must be >= " + std::to_string(min) + ", got " + s);
  if (v > max) fail(n, key, "must be <= " + std::to_string(max) + ", got " + s);
  return v;
}

// An integer the profile stores as int: checked against int's range, never narrowed by a cast
// (4294967296 would otherwise become 0).
int int_value(const YAML::Node& n, const std::string& key, int min, int max) {
  return static_cast<int>(integer(n, key, min, max));
}

bool boolean(const YAML::Node& n, const std::string& key) {
  bool b = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) fail(n, key, "expected true or false");
  return b;
}

double probability_value(const YAML::Node& n, const std::string& key) {
  const double p = number(n, key);
  if (p < 0 || p > 1) fail(n, key, "probability " + n.Scalar() + " is outside [0,1]");
  return p;
}

// `true`/`false` or a probability in [0,1].
double probability(const YAML::Node& n, const std::string& key) {
  bool b = false;
  if (n.IsScalar() && YAML::convert<bool>::decode(n, b) && n.Scalar() != "0" && n.Scalar() != "1") return b ? 1.0 : 0.0;
  return probability_value(n, key);
}

}  // namespace rrkit::simulator::profile_yaml
