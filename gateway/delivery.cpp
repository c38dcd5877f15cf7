#include "gateway/delivery.h"

#include "common/base64.h"
#include "common/json_limits.h"
#include "gateway/envelope_scan.h"

namespace rrkit::gateway {

std::string probe_prefix(const std::string& instance_id) { return "probe-" + instance_id + "-"; }

namespace {

using nlohmann::json;

DeliveryResult malformed(std::string why) { return {std::nullopt, std::move(why)}; }

// The rules for a reply object, whichever way it was read: its string id field (empty when absent or not a
// string) and its rrkitProbe flag (true only when the boolean true) decide; text is the reply as JSON.
DeliveryResult reply_of(std::string id, bool probe_flag, const std::string& id_field, std::string text) {
  Delivery d;
  d.probe = probe_flag || id.rfind("probe-", 0) == 0;
  d.id = std::move(id);
  if (d.id.empty() && !d.probe) return malformed("reply has no string field \"" + id_field + "\"");
  d.reply = std::move(text);
  return {std::move(d), {}};
}

// The reply itself, once unwrapped from the envelope.
DeliveryResult from_reply(const json& reply, const std::string& id_field) {
  if (!reply.is_object()) return malformed("reply is not a JSON object");
  const auto probe_flag = reply.find("rrkitProbe");
  const auto id = reply.find(id_field);
  return reply_of(id != reply.end() && id->is_string() ? id->get<std::string>() : std::string(),
                  probe_flag != reply.end() && probe_flag->is_boolean() && probe_flag->get<bool>(), id_field,
                  rrkit::safe_dump(reply));
}

// The members a delivery is read by, in scan_members' order.
enum Member : std::size_t { kId, kProbe, kBase64, kSpecversion, kData };

// The same rules as from_reply, on a scanned text (members kId and kProbe).
DeliveryResult reply_from_scan(ScannedObject& scanned, std::string_view text, const std::string& id_field) {
  if (!scanned.object) return malformed("reply is not a JSON object");
  auto& id = scanned.members[kId];
  const auto& probe_flag = scanned.members[kProbe];
  return reply_of(id && id->kind == ScannedMember::Kind::string ? std::move(id->text) : std::string(),
                  probe_flag && probe_flag->kind == ScannedMember::Kind::boolean && probe_flag->truth, id_field,
                  std::string(text));
}

// from_reply without building the reply: nullopt when the scanner refuses the text (parse_bounded decides then).
std::optional<DeliveryResult> from_reply_text(std::string_view text, const std::string& id_field) {
  const std::string_view keys[] = {id_field, "rrkitProbe"};
  auto scanned = scan_members(text, keys);
  if (!scanned) return std::nullopt;
  return reply_from_scan(*scanned, text, id_field);
}

// Bounded: a deeply nested reply would crash the gateway when the client's answer is dumped,
// so it is malformed like any other reply the gateway cannot take.
DeliveryResult parse_json_text(std::string_view text, const std::string& id_field, const char* what) {
  if (auto fast = from_reply_text(text, id_field)) return std::move(*fast);
  auto parsed = rrkit::parse_bounded(text);
  if (parsed.errc == rrkit::JsonErrc::too_deep) {
    return malformed(std::string(what) + " is nested deeper than " + std::to_string(rrkit::kMaxJsonDepth) + " levels");
  }
  if (!parsed.ok()) return malformed(std::string(what) + " is not valid JSON");
  return from_reply(parsed.value, id_field);
}


// A CloudEvent is recognised by its envelope fields; a reply that happens to carry a
// field named `data` but also its id at the top level is taken as a plain reply.
bool is_event(const json& doc, const std::string& id_field) {
  return doc.contains("specversion") || doc.contains("data_base64") || (doc.contains("data") && !doc.contains(id_field));
}


}  // namespace

DeliveryResult parse_delivery(std::string_view body, const std::string& id_field) {
  // Read first without building a document: what daprd delivers to the gateway's rawPayload subscription
  // (the reply's bytes in data_base64), and plain replies, whose text is the reply. The steps are
  // parse_delivery_value's.
  const std::string_view keys[] = {id_field, "rrkitProbe", "data_base64", "specversion", "data"};
  if (auto scanned = scan_members(body, keys); scanned && scanned->object) {
    const auto& m = scanned->members;
    if (m[kBase64]) {
      if (m[kBase64]->kind != ScannedMember::Kind::string) return malformed("data_base64 is not a string");
      const auto raw = rrkit::base64_decode(m[kBase64]->text);
      if (!raw) return malformed("data_base64 is not valid base64");
      return parse_json_text(*raw, id_field, "data_base64 content");
    }
    const bool event = m[kSpecversion] || (m[kData] && !m[kId]);
    if (!event) return reply_from_scan(*scanned, body, id_field);
  }
  // A CloudEvent carrying its reply in `data`, or a text the scanner refused: the whole document.
  auto bounded = rrkit::parse_bounded(body);
  if (bounded.errc == rrkit::JsonErrc::too_deep) {
    return malformed("delivery body is nested deeper than " + std::to_string(rrkit::kMaxJsonDepth) + " levels");
  }
  if (!bounded.ok()) return malformed("delivery body is not valid JSON");
  return parse_delivery_value(std::move(bounded.value), id_field);
}

DeliveryResult parse_raw_reply(std::string_view bytes, const std::string& id_field) {
  return parse_json_text(bytes, id_field, "raw payload");
}

DeliveryResult parse_delivery_value(json doc, const std::string& id_field) {
  if (!doc.is_object()) return malformed("delivery body is not a JSON object");

  const bool has_b64 = doc.contains("data_base64");
  if (!is_event(doc, id_field)) return from_reply(doc, id_field);

  if (has_b64) {
    const auto& b = doc["data_base64"];
    if (!b.is_string()) return malformed("data_base64 is not a string");
    const auto raw = rrkit::base64_decode(b.get<std::string>());
    if (!raw) return malformed("data_base64 is not valid base64");
    return parse_json_text(*raw, id_field, "data_base64 content");
  }
  if (!doc.contains("data")) return malformed("CloudEvent carries neither data nor data_base64");
  json data = std::move(doc["data"]);
  // Publishers that send JSON as text end up with a JSON string in `data`.
  if (data.is_string()) return parse_json_text(data.get<std::string>(), id_field, "CloudEvent data string");
  return from_reply(data, id_field);
}

}  // namespace rrkit::gateway
