#include "gateway/bulk_publish.h"

#include <nlohmann/json.hpp>

#include "common/json_limits.h"

namespace rrkit::gateway {

std::string bulk_publish_target(const std::string& pubsub, const std::string& topic) {
  return "/v1.0-alpha1/publish/bulk/" + url_encode(pubsub) + "/" + url_encode(topic) + "?metadata.rawPayload=true";
}

std::string bulk_publish_body(std::span<const BulkPublishEntry> entries) {
  std::size_t size = 2;
  for (const auto& e : entries) size += e.body.size() + e.entry_id.size() + 96 + 64 * e.metadata.size();
  std::string out;
  out.reserve(size);
  out += '[';
  bool first = true;
  for (const auto& e : entries) {
    if (!first) out += ',';
    first = false;
    nlohmann::json metadata = nlohmann::json::object();
    for (const auto& [name, value] : e.metadata) metadata[name] = value;
    nlohmann::json entry = {{"entryId", e.entry_id}, {"event", e.body}, {"contentType", "text/plain"},
                            {"metadata", std::move(metadata)}};
    out += entry.dump();  // throws on a body that is not UTF-8 (see the header)
  }
  out += ']';
  return out;
}

BulkFailures parse_bulk_failures(std::string_view answer, std::size_t max_entries) {
  BulkFailures out;
  const auto parsed = parse_bounded(answer);
  if (!parsed.ok()) {
    out.problem = parsed.errc == JsonErrc::too_deep ? "nested too deeply" : "not JSON";
    return out;
  }
  const nlohmann::json& doc = parsed.value;
  if (!doc.is_object()) {
    out.problem = "not a JSON object";
    return out;
  }
  if (auto code = doc.find("errorCode"); code != doc.end() && code->is_string()) out.error_code = code->get<std::string>();
  const auto failed = doc.find("failedEntries");
  if (failed == doc.end() || !failed->is_array()) {
    out.problem = "no failedEntries array";
    return out;
  }
  for (const auto& f : *failed) {
    if (out.failed.size() >= max_entries) {
      out.failed.clear();
      out.problem = "more failed entries than the call had";
      return out;
    }
    if (!f.is_object()) continue;
    const auto id = f.find("entryId");
    if (id == f.end() || !id->is_string()) continue;
    BulkFailures::Failed item{id->get<std::string>(), ""};
    if (auto err = f.find("error"); err != f.end() && err->is_string()) item.error = err->get<std::string>();
    out.failed.push_back(std::move(item));
  }
  out.names_entries = !out.failed.empty();
  if (!out.names_entries) out.problem = "failedEntries names no entry";
  return out;
}

}  // namespace rrkit::gateway
