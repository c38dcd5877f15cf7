#pragma once
// The fault profile: what the simulated legacy system does to each request.
// Parsed from YAML (a file, `--set` overrides, or a PUT /profile body), validated
// strictly, and immutable once built: the engine swaps whole profiles, so a
// decision never sees half of an update.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "simulator/contract.h"

namespace rrkit::simulator {

using std::chrono::microseconds;

// The longest delay a sample can take (~115 days: effectively never, but every time point built from
// it stays representable in nanoseconds), and the most copies a duplicate can send.
inline constexpr microseconds kMaxDelay{10'000'000'000'000};
inline constexpr int kMaxCopies = 1000;

// A delay: a distribution over durations, or "the gateway's timeout plus X".
struct DelaySpec {
  enum class Kind { constant, uniform, normal, lognormal, exponential, pareto, timeout_plus };
  Kind kind = Kind::constant;
  microseconds a{0};  // constant: value; uniform: min; normal: mean; lognormal: median; exponential: mean;
                      // pareto: scale (minimum); timeout_plus: X
  microseconds b{0};  // uniform: max; normal: stddev
  double shape = 0;   // lognormal: sigma; pareto: alpha
  std::optional<microseconds> cap;  // upper bound on a sample (heavy tails stay finite)
};

std::string to_string(DelaySpec::Kind k);
nlohmann::json to_json(const DelaySpec& d);

enum class WrongId { none, random, swap };
std::string to_string(WrongId w);

// Which requests a rule applies to: all of `match` must hold, then the request is
// in the rule's deterministic `fraction`.
struct Match {
  enum class Op { equals, in, exists };
  std::string field;   // dotted path into the request JSON ("data.kind"); empty when header is used
  std::string header;  // Kafka header name instead of a body field
  Op op = Op::equals;
  std::vector<std::string> values;  // equals: one value; in: several
  bool exists = true;
};

// What happens to a request. Probabilities are per request and deterministic.
struct Action {
  std::optional<DelaySpec> delay;  // none: reply as soon as served
  double drop = 0;
  int copies = 1;                  // duplicate: total replies sent (1 = no duplicate)
  double duplicate = 0;            // probability of sending `copies` instead of one
  microseconds spacing{0};         // between copies
  bool reorder = false;            // hold replies and release them shuffled, `window` at a time
  int reorder_window = 0;
  microseconds reorder_max_hold{std::chrono::seconds(1)};
  double corrupt = 0;
  double missing_id = 0;
  WrongId wrong_id = WrongId::none;
  double wrong_id_probability = 0;
  double error = 0;
};

struct Rule {
  std::string name;
  std::vector<Match> match;
  std::optional<double> fraction;
  Action action;
};

struct Processing {
  int workers = 64;
  int queue = 10000;              // requests waiting for a worker; consumption pauses at this bound
  std::optional<DelaySpec> service_time;
};

// Counts are of messages consumed since the profile was applied.
struct Stall {
  std::int64_t after = 0;  // stall once this many messages were consumed (0: as soon as applied)
  microseconds duration{0};
};

struct Profile {
  std::optional<std::uint64_t> seed;
  microseconds timeout{std::chrono::seconds(5)};  // the clients' timeout, for `timeout + X` delays
  Processing processing;
  std::optional<Stall> stall;
  std::optional<std::int64_t> crash_after;  // exit 70 when message after+1 arrives (unhandled, uncommitted)
  std::vector<Rule> rules;
  Rule default_rule{"default", {}, std::nullopt, {}};
  std::optional<Contract> contract;  // the legacy contract; absent: rr-simulator's own format
};

nlohmann::json to_json(const Profile& p);

// A profile error: where it is and which key is wrong, e.g.
// "profiles/bad.yaml:7:5: rules[1].delay.mean: negative duration '-5ms'".
struct ProfileError {
  std::string source;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based
  std::string key;
  std::string message;
  std::string to_string() const;
};

struct ProfileResult {
  std::shared_ptr<const Profile> profile;
  std::optional<ProfileError> error;
  explicit operator bool() const { return profile != nullptr; }
};

// One `--set KEY=VALUE` override. KEY is a dotted path (`default.delay`, `rules.0.fraction`,
// `processing.workers`); VALUE is YAML (`50ms`, `{dist: normal, mean: 10ms, stddev: 2ms}`, `true`).
struct Override {
  std::string key;
  std::string value;
};
std::optional<Override> parse_override(const std::string& text, std::string& error);

// Parses and validates YAML (JSON is YAML too). `source` names the text in errors.
ProfileResult parse_profile(const std::string& text, const std::string& source,
                            const std::vector<Override>& overrides = {});
ProfileResult load_profile_file(const std::string& path, const std::vector<Override>& overrides = {});

// The profile used when no file is given: no faults, immediate ok replies.
std::shared_ptr<const Profile> default_profile();

// Parses the one-line delay form used by --set and the short YAML form:
// "50ms", "constant:50ms", "uniform:10ms,50ms", "normal:100ms,20ms", "lognormal:100ms,0.5",
// "exponential:50ms", "pareto:10ms,1.5", "timeout+200ms". Returns an error message on failure.
std::optional<DelaySpec> parse_delay_short(const std::string& text, std::string& error);

}  // namespace rrkit::simulator
