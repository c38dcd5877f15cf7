#pragma once
// Reading the profile's YAML: typed scalar readers that throw Invalid (key, position, reason) on a
// wrong value. Used only inside the profile's parsers (profile.cpp, delay.cpp, contract.cpp), where
// parse_profile catches Invalid at its edge and turns it into a ProfileError.
#include <cstdint>
#include <limits>
#include <set>
#include <string>

#include <yaml-cpp/yaml.h>

#include "simulator/contract.h"
#include "simulator/profile.h"

namespace rrkit::simulator::profile_yaml {

struct Invalid {
  std::string key;
  YAML::Mark mark;
  std::string message;
};

std::string join(const std::string& base, const std::string& k);
[[noreturn]] void fail(const YAML::Node& node, const std::string& key, std::string message);
// A mapping whose keys are all in `allowed` (an unknown key names the allowed ones).
void check_keys(const YAML::Node& map, const std::string& key, const std::set<std::string>& allowed);
std::string scalar(const YAML::Node& n, const std::string& key);
microseconds duration(const YAML::Node& n, const std::string& key);
double number(const YAML::Node& n, const std::string& key);
std::int64_t integer(const YAML::Node& n, const std::string& key, std::int64_t min,
                     std::int64_t max = std::numeric_limits<std::int64_t>::max());
int int_value(const YAML::Node& n, const std::string& key, int min, int max = std::numeric_limits<int>::max());
bool boolean(const YAML::Node& n, const std::string& key);
double probability_value(const YAML::Node& n, const std::string& key);
double probability(const YAML::Node& n, const std::string& key);
// A delay in its short form ("50ms", "uniform:10ms,50ms") or as a mapping ({dist: normal, ...}).
DelaySpec delay(const YAML::Node& n, const std::string& key);
// The `contract:` section (contract.cpp).
Contract contract(const YAML::Node& n, const std::string& key);

}  // namespace rrkit::simulator::profile_yaml
