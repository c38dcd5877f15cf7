#pragma once
// The reply contract between the legacy system (rr-simulator) and its clients:
//   {"correlationId": "...", "status": "ok"|"error", "payload": {"echo": <request>, "digest": "<sha256>"}}
// The payload is a pure function of the request, so whoever receives a reply can
// prove it belongs to the request they sent (no reply reached the wrong client).
#include <string>

#include <nlohmann/json.hpp>

namespace rrkit {

inline constexpr const char* kDefaultIdField = "correlationId";

// Deterministic payload for a request: the request echoed back and the SHA-256
// of its canonical serialisation (nlohmann::json keeps object keys sorted).
nlohmann::json reply_payload_for(const nlohmann::json& request);

nlohmann::json make_reply(const std::string& correlation_id, bool ok, nlohmann::json payload);

// True when payload is exactly reply_payload_for(request).
bool payload_matches(const nlohmann::json& request, const nlohmann::json& payload);

}  // namespace rrkit
