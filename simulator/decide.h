#pragma once
// Per-request decisions: a pure function of (seed, correlation id, rule) and the
// request's own content (for rule matching). No clock, no arrival order, no
// shared state: the same seed and request always get the same faults.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "simulator/profile.h"

namespace rrkit::simulator {

// A small deterministic generator (splitmix64) so that samples do not depend on
// the standard library's distribution implementations.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next();
  double uniform01();  // [0, 1)
  double normal();     // standard normal (Box-Muller)

 private:
  std::uint64_t state_;
};

// A stream keyed by (seed, id, rule, purpose): each decided quantity has its own
// stream, so changing one knob of a rule does not shift any other decision.
Rng stream(std::uint64_t seed, std::string_view id, std::string_view rule, std::string_view purpose);

// One sample of a delay; never negative, at most the spec's cap.
std::chrono::microseconds sample(const DelaySpec& spec, Rng& rng, std::chrono::microseconds timeout);

using Headers = std::vector<std::pair<std::string, std::string>>;

struct RequestView {
  const nlohmann::json* body = nullptr;  // null when the message is not JSON
  const Headers* headers = nullptr;
};

// Looks up a dotted path ("data.kind") in a JSON object; null when absent.
const nlohmann::json* find_path(const nlohmann::json& body, std::string_view path);

bool matches(const Rule& rule, const RequestView& request);

// What the simulator does with one request. The fields describe what is done:
// a dropped request has copies = 0 and no other fault; at most one of
// corrupt / missing_id / wrong_id / error is set (in that order of precedence).
struct Decision {
  std::string rule;
  bool drop = false;
  std::chrono::microseconds service{0};
  std::chrono::microseconds delay{0};
  int copies = 1;
  std::chrono::microseconds spacing{0};
  bool reorder = false;
  int reorder_window = 0;
  std::chrono::microseconds reorder_max_hold{0};
  bool corrupt = false;
  bool missing_id = false;
  WrongId wrong_id = WrongId::none;
  std::string random_id;  // the id used when wrong_id == random
  bool error = false;

  // "ok" | "error" | "corrupt" | "missing_id" | "wrong_id"
  std::string kind() const;
  bool operator==(const Decision&) const = default;
};

Decision decide(const Profile& profile, std::uint64_t seed, const std::string& id, const RequestView& request);

}  // namespace rrkit::simulator
