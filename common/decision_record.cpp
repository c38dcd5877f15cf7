#include "common/decision_record.h"

#include <array>

#include "common/json_limits.h"

namespace rrkit {

namespace {

using Json = nlohmann::json;

constexpr std::array<std::pair<DecisionLineType, std::string_view>, 8> kTypeNames{{
    {DecisionLineType::decision, "decision"},
    {DecisionLineType::reply, "reply"},
    {DecisionLineType::reply_failed, "reply_failed"},
    {DecisionLineType::stall, "stall"},
    {DecisionLineType::crash, "crash"},
    {DecisionLineType::pause, "pause"},
    {DecisionLineType::resume, "resume"},
    {DecisionLineType::profile, "profile"},
}};

// Another program's file: a member of an unexpected type reads as absent, never throws.
void read(const Json& j, const char* key, std::string& out) {
  const auto it = j.find(key);
  if (it != j.end() && it->is_string()) out = it->get<std::string>();
}
void read(const Json& j, const char* key, std::int64_t& out) {
  const auto it = j.find(key);
  if (it != j.end() && it->is_number_integer()) out = it->get<std::int64_t>();
}
void read(const Json& j, const char* key, bool& out) {
  const auto it = j.find(key);
  if (it != j.end() && it->is_boolean()) out = it->get<bool>();
}

Json string_or_null(const std::string& s) { return s.empty() ? Json(nullptr) : Json(s); }

}  // namespace

std::string_view to_string(DecisionLineType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "other";
}

DecisionLineType parse_decision_line_type(std::string_view name) {
  for (const auto& [t, n] : kTypeNames) {
    if (n == name) return t;
  }
  return DecisionLineType::other;
}

std::string DecisionRecord::field_string(std::string_view name) const {
  if (!fields.is_object()) return {};
  const auto it = fields.find(name);
  return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

std::string DecisionRecord::request_key() const { return key.empty() ? field_string("nonce") : key; }

std::vector<std::pair<std::string, nlohmann::json>> DecisionRecord::identity() const {
  return {{"rule", rule},         {"drop", drop},         {"kind", kind},         {"service_us", service_us},
          {"delay_us", delay_us}, {"copies", copies},     {"spacing_us", spacing_us}, {"reorder", reorder},
          {"corrupt", corrupt},   {"missing_id", missing_id}, {"wrong_id", wrong_id}, {"error", error}};
}

void to_json(nlohmann::json& j, const DecisionRecord& r) {
  const std::string type = r.type == DecisionLineType::other ? r.type_name : std::string(to_string(r.type));
  j = Json{{"type", type}, {"ts_us", r.ts_us}};
  switch (r.type) {
    case DecisionLineType::decision:
      j["id"] = string_or_null(r.id);
      // The decided action is written from identity() so the log and replay's comparison never list different fields.
      for (auto& [name, value] : r.identity()) j[name] = std::move(value);
      j["topic"] = r.topic;
      j["request_topic"] = r.request_topic;
      j["partition"] = r.partition;
      j["offset"] = r.offset;
      if (!r.invalid.empty()) j["invalid"] = r.invalid;
      if (!r.key.empty()) j["key"] = r.key;
      if (r.fields.is_object()) j["fields"] = r.fields;
      break;
    case DecisionLineType::reply:
    case DecisionLineType::reply_failed:
      j["request_id"] = r.request_id;
      j["reply_id"] = string_or_null(r.reply_id);
      j["copy"] = r.copy;
      j["kind"] = r.kind;
      j["topic"] = r.topic;
      j["planned_us"] = r.planned_us;
      j["sent_us"] = r.sent_us;
      if (r.type == DecisionLineType::reply) j["delivered_us"] = r.delivered_us;
      else j["error"] = r.failure;
      break;
    case DecisionLineType::stall:
      j["phase"] = r.phase;
      if (r.phase != "end") {
        j["after"] = r.after;
        j["for_us"] = r.for_us;
        j["until_us"] = r.until_us;
      }
      break;
    case DecisionLineType::crash:
      j["after"] = r.after;
      j["id"] = string_or_null(r.id);
      j["partition"] = r.partition;
      j["offset"] = r.offset;
      break;
    case DecisionLineType::profile:
      j["source"] = r.source;
      j["profile"] = r.profile;
      if (r.seed) j["seed"] = *r.seed;
      break;
    case DecisionLineType::pause:
    case DecisionLineType::resume:
    case DecisionLineType::other:
      break;
  }
}

DecisionParse parse_decision_record(const nlohmann::json& line) noexcept {
  DecisionParse out;
  if (!line.is_object()) {
    out.errc = DecisionErrc::not_object;
    return out;
  }
  DecisionRecord& r = out.record;
  read(line, "type", r.type_name);
  if (r.type_name.empty()) {
    out.errc = DecisionErrc::no_type;
    return out;
  }
  r.type = parse_decision_line_type(r.type_name);
  read(line, "ts_us", r.ts_us);
  read(line, "id", r.id);
  read(line, "partition", r.partition);
  read(line, "offset", r.offset);
  read(line, "rule", r.rule);
  read(line, "drop", r.drop);
  read(line, "service_us", r.service_us);
  read(line, "delay_us", r.delay_us);
  read(line, "copies", r.copies);
  read(line, "spacing_us", r.spacing_us);
  read(line, "reorder", r.reorder);
  read(line, "corrupt", r.corrupt);
  read(line, "missing_id", r.missing_id);
  read(line, "wrong_id", r.wrong_id);
  read(line, "kind", r.kind);
  read(line, "topic", r.topic);
  read(line, "request_topic", r.request_topic);
  read(line, "invalid", r.invalid);
  read(line, "key", r.key);
  if (const auto f = line.find("fields"); f != line.end() && f->is_object()) r.fields = *f;
  read(line, "request_id", r.request_id);
  read(line, "reply_id", r.reply_id);
  read(line, "copy", r.copy);
  read(line, "planned_us", r.planned_us);
  read(line, "sent_us", r.sent_us);
  read(line, "delivered_us", r.delivered_us);
  // "error" is the decided error reply on a decision line and the delivery failure on reply_failed.
  if (r.type == DecisionLineType::reply_failed) read(line, "error", r.failure);
  else read(line, "error", r.error);
  read(line, "phase", r.phase);
  read(line, "after", r.after);
  read(line, "for_us", r.for_us);
  read(line, "until_us", r.until_us);
  read(line, "source", r.source);
  if (const auto p = line.find("profile"); p != line.end()) r.profile = *p;
  if (const auto s = line.find("seed"); s != line.end() && s->is_number_unsigned()) r.seed = s->get<std::uint64_t>();
  return out;
}

DecisionParse parse_decision_line(std::string_view text) noexcept {
  const auto parsed = parse_bounded(text);
  if (!parsed.ok()) {
    DecisionParse out;
    out.errc = DecisionErrc::not_json;
    return out;
  }
  return parse_decision_record(parsed.value);
}

void from_json(const nlohmann::json& j, DecisionRecord& r) { r = parse_decision_record(j).record; }

std::vector<DecisionRecord> decision_records(const std::vector<nlohmann::json>& lines) {
  std::vector<DecisionRecord> out;
  out.reserve(lines.size());
  for (const auto& line : lines) {
    auto parsed = parse_decision_record(line);
    if (parsed.ok()) out.push_back(std::move(parsed.record));
  }
  return out;
}

std::string_view to_string(DecisionKind kind) {
  switch (kind) {
    case DecisionKind::ok: return "ok";
    case DecisionKind::error: return "error";
    case DecisionKind::corrupt: return "corrupt";
    case DecisionKind::missing_id: return "missing_id";
    case DecisionKind::wrong_id: return "wrong_id";
    case DecisionKind::drop: return "drop";
  }
  return "ok";
}

std::optional<DecisionKind> parse_decision_kind(std::string_view name) {
  for (const auto k : kDecisionKinds) {
    if (to_string(k) == name) return k;
  }
  return std::nullopt;
}

}  // namespace rrkit
