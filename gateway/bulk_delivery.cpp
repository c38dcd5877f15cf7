#include "gateway/bulk_delivery.h"

#include <algorithm>
#include <cctype>

#include "common/base64.h"
#include "common/json_limits.h"

namespace rrkit::gateway {

using nlohmann::json;

namespace {

BulkEntry malformed_entry(std::string entry_id, std::string why) {
  return {std::move(entry_id), DeliveryResult{std::nullopt, std::move(why)}};
}

BulkEntry parse_entry(json& entry, std::size_t index, const std::string& id_field) {
  const std::string where = "entry " + std::to_string(index);
  if (!entry.is_object()) return malformed_entry({}, where + " is not a JSON object");
  const auto id = entry.find("entryId");
  if (id == entry.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    return malformed_entry({}, where + " has no entryId");
  }
  std::string entry_id = id->get<std::string>();
  if (const auto ct = entry.find("contentType"); ct != entry.end()) {
    if (!ct->is_string()) return malformed_entry(std::move(entry_id), where + ": contentType is not a string");
    if (!json_content_type(ct->get_ref<const std::string&>())) {
      return malformed_entry(std::move(entry_id),
                             where + ": content type " + ct->get<std::string>() + " cannot carry a JSON reply");
    }
  }
  const auto event = entry.find("event");
  if (event == entry.end()) return malformed_entry(std::move(entry_id), where + " has no event");
  if (event->is_string()) {
    // A rawPayload subscription: daprd base64-encodes the bytes the replier produced.
    const auto raw = rrkit::base64_decode(event->get_ref<const std::string&>());
    if (!raw) return malformed_entry(std::move(entry_id), where + ": event is not valid base64");
    return {std::move(entry_id), parse_raw_reply(*raw, id_field)};
  }
  if (event->is_object()) return {std::move(entry_id), parse_delivery_value(std::move(*event), id_field)};
  return malformed_entry(std::move(entry_id), where + ": event is neither a base64 string nor an object");
}

}  // namespace

bool json_content_type(std::string_view content_type) {
  std::string t(content_type.substr(0, content_type.find(';')));
  t.erase(std::remove_if(t.begin(), t.end(), [](unsigned char c) { return std::isspace(c) != 0; }), t.end());
  std::transform(t.begin(), t.end(), t.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t.empty() || t == "application/octet-stream" || t == "application/json" || t == "text/json") return true;
  return t.size() > 5 && t.compare(t.size() - 5, 5, "+json") == 0;
}

BulkDelivery parse_bulk_delivery(std::string_view body, const std::string& id_field) {
  BulkDelivery out;
  auto bounded = rrkit::parse_bounded(body);
  if (bounded.errc == rrkit::JsonErrc::too_deep) {
    out.error = "bulk delivery body is nested deeper than " + std::to_string(rrkit::kMaxJsonDepth) + " levels";
    return out;
  }
  if (!bounded.ok()) {
    out.error = "bulk delivery body is not valid JSON";
    return out;
  }
  json& doc = bounded.value;
  if (!doc.is_object()) {
    out.error = "bulk delivery body is not a JSON object";
    return out;
  }
  const auto entries = doc.find("entries");
  // Go writes an empty batch as null.
  if (entries != doc.end() && entries->is_null()) return out;
  if (entries == doc.end() || !entries->is_array()) {
    out.error = "bulk delivery body has no entries array";
    return out;
  }
  out.entries.reserve(entries->size());
  std::size_t index = 0;
  for (json& entry : *entries) out.entries.push_back(parse_entry(entry, index++, id_field));
  return out;
}

}  // namespace rrkit::gateway
