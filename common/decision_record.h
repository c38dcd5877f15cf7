#pragma once
// The simulator's decision log (JSONL), one typed definition for its writer (rr-simulator) and its
// readers (the harness's checker, replay and diff). One struct for every line kind: the kinds share
// most members (time, ids, rule, kind), and a reader walks a file of mixed lines in order.
//
// The file format is fixed: old run folders must replay, so to_json writes exactly the members a
// line of its type always had, and parse_decision_record reads any line leniently — a member that is
// absent or of an unexpected type reads as its default, as the checker always treated it.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace rrkit {

enum class DecisionLineType { decision, reply, reply_failed, stall, crash, pause, resume, profile, other };

// The name written in the file ("decision", "reply_failed", ...); "other" has none of its own.
std::string_view to_string(DecisionLineType type);
DecisionLineType parse_decision_line_type(std::string_view name);

// What the simulator decided for a request (a decision line's "kind"; a reply line's kind is one of
// the kinds that send a reply: ok, error, corrupt, missing_id, wrong_id).
enum class DecisionKind { ok, error, corrupt, missing_id, wrong_id, drop };
inline constexpr std::array<DecisionKind, 6> kDecisionKinds{DecisionKind::ok,         DecisionKind::error,
                                                            DecisionKind::corrupt,    DecisionKind::missing_id,
                                                            DecisionKind::wrong_id,   DecisionKind::drop};
std::string_view to_string(DecisionKind kind);
std::optional<DecisionKind> parse_decision_kind(std::string_view name);

struct DecisionRecord {
  DecisionLineType type = DecisionLineType::other;
  std::string type_name;  // as written: also kept for types this build does not know
  std::int64_t ts_us = 0;

  // decision, crash: the request's correlation id; empty when it had none (null in the file).
  std::string id;
  std::int64_t partition = 0;
  std::int64_t offset = 0;

  // decision
  std::string rule;
  bool drop = false;
  std::int64_t service_us = 0;
  std::int64_t delay_us = 0;
  std::int64_t copies = 1;
  std::int64_t spacing_us = 0;
  bool reorder = false;
  bool corrupt = false;
  bool missing_id = false;
  std::string wrong_id = "none";
  bool error = false;           // an error reply was decided
  std::string kind;             // decision: drop|ok|error|...; reply: the reply's kind. Empty when absent
  std::string topic;            // the reply topic
  std::string request_topic;
  std::string invalid;          // why the request could not be answered; empty for a good one
  std::string key;              // the decision key when the request carried one
  nlohmann::json fields;        // logged request fields (an object), or null

  // reply, reply_failed
  std::string request_id;
  std::string reply_id;         // empty when the reply carries no readable id (null in the file)
  std::int64_t copy = 0;
  std::int64_t planned_us = 0;
  std::int64_t sent_us = 0;
  std::int64_t delivered_us = 0;  // reply only: when Kafka confirmed it
  std::string failure;          // reply_failed only: why it was not delivered

  // stall (phase start|end), crash (after)
  std::string phase;
  std::int64_t after = 0;
  std::int64_t for_us = 0;
  std::int64_t until_us = 0;

  // profile (seed: on the first line only, the simulator's seed)
  std::string source;
  nlohmann::json profile;
  std::optional<std::uint64_t> seed;

  // The decision key a run is compared by (diff): the key, or else the logged nonce field.
  std::string request_key() const;
  // A logged request field as a string; empty when absent or not a string.
  std::string field_string(std::string_view name) const;
  // The members that make up a decision (what two runs with one seed must agree on), in a fixed order.
  std::vector<std::pair<std::string, nlohmann::json>> identity() const;
};

void to_json(nlohmann::json& j, const DecisionRecord& r);
// Lenient, never throws (see parse_decision_record); for nlohmann's get<DecisionRecord>().
void from_json(const nlohmann::json& j, DecisionRecord& r);

enum class DecisionErrc { none, not_json, not_object, no_type };

struct DecisionParse {
  DecisionRecord record;
  DecisionErrc errc = DecisionErrc::none;
  bool ok() const { return errc == DecisionErrc::none; }
};

// A line of the log, already parsed: not_object / no_type for what is no decision line at all.
DecisionParse parse_decision_record(const nlohmann::json& line) noexcept;
// A line of text (bounded parse): not_json for what does not parse.
DecisionParse parse_decision_line(std::string_view text) noexcept;
// Every line of a parsed log that is a decision line, in order; the rest is skipped.
std::vector<DecisionRecord> decision_records(const std::vector<nlohmann::json>& lines);

}  // namespace rrkit
