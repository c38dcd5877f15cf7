#include "gateway/delivery.h"

#include "common/base64.h"
#include "common/json_limits.h"

namespace rrkit::gateway {

std::string probe_prefix(const std::string& instance_id) { return "probe-" + instance_id + "-"; }

namespace {

using nlohmann::json;

DeliveryResult malformed(std::string why) { return {std::nullopt, std::move(why)}; }

// The reply itself, once unwrapped from the envelope.
DeliveryResult from_reply(json reply, const std::string& id_field) {
  if (!reply.is_object()) return malformed("reply is not a JSON object");
  Delivery d;
  const auto probe_flag = reply.find("rrkitProbe");
  d.probe = probe_flag != reply.end() && probe_flag->is_boolean() && probe_flag->get<bool>();
  const auto id = reply.find(id_field);
  if (id != reply.end() && id->is_string()) d.id = id->get<std::string>();
  if (d.id.rfind("probe-", 0) == 0) d.probe = true;
  if (d.id.empty() && !d.probe) return malformed("reply has no string field \"" + id_field + "\"");
  d.reply = std::move(reply);
  return {std::move(d), {}};
}

// Bounded: a deeply nested reply would crash the gateway when the client's answer is dumped,
// so it is malformed like any other reply the gateway cannot take.
DeliveryResult parse_json_text(std::string_view text, const std::string& id_field, const char* what) {
  auto parsed = rrkit::parse_bounded(text);
  if (parsed.errc == rrkit::JsonErrc::too_deep) {
    return malformed(std::string(what) + " is nested deeper than " + std::to_string(rrkit::kMaxJsonDepth) + " levels");
  }
  if (!parsed.ok()) return malformed(std::string(what) + " is not valid JSON");
  return from_reply(std::move(parsed.value), id_field);
}


// A CloudEvent is recognised by its envelope fields; a reply that happens to carry a
// field named `data` but also its id at the top level is taken as a plain reply.
bool is_event(const json& doc, const std::string& id_field) {
  return doc.contains("specversion") || doc.contains("data_base64") || (doc.contains("data") && !doc.contains(id_field));
}


}  // namespace

DeliveryResult parse_delivery(std::string_view body, const std::string& id_field) {
  // daprd puts about ten envelope members (id, source, time, trace context...) around every reply; only
  // four decide a delivery's shape, and building the others cost a tenth of rr-gateway's work per request.
  auto bounded = rrkit::parse_bounded_members(body, [&id_field](const std::string& key) {
    return key == "specversion" || key == "data" || key == "data_base64" || key == id_field;
  });
  if (bounded.errc == rrkit::JsonErrc::too_deep) {
    return malformed("delivery body is nested deeper than " + std::to_string(rrkit::kMaxJsonDepth) + " levels");
  }
  if (!bounded.ok()) return malformed("delivery body is not valid JSON");
  // A plain reply is the whole object: read it again, whole (a delivery from daprd is never one).
  if (bounded.dropped_members > 0 && !is_event(bounded.value, id_field)) bounded = rrkit::parse_bounded(body);
  return parse_delivery_value(std::move(bounded.value), id_field);
}

DeliveryResult parse_raw_reply(std::string_view bytes, const std::string& id_field) {
  return parse_json_text(bytes, id_field, "raw payload");
}

DeliveryResult parse_delivery_value(json doc, const std::string& id_field) {
  if (!doc.is_object()) return malformed("delivery body is not a JSON object");

  const bool has_b64 = doc.contains("data_base64");
  if (!is_event(doc, id_field)) return from_reply(std::move(doc), id_field);

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
  return from_reply(std::move(data), id_field);
}

}  // namespace rrkit::gateway
