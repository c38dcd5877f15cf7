#include "common/reply.h"

#include "common/digest.h"

namespace rrkit {

nlohmann::json reply_payload_for(const nlohmann::json& request) {
  return nlohmann::json{{"echo", request}, {"digest", sha256_hex(request.dump())}};
}

nlohmann::json make_reply(const std::string& correlation_id, bool ok, nlohmann::json payload) {
  return nlohmann::json{
      {"correlationId", correlation_id}, {"status", ok ? "ok" : "error"}, {"payload", std::move(payload)}};
}

bool payload_matches(const nlohmann::json& request, const nlohmann::json& payload) {
  return payload.is_object() && payload.contains("digest") && payload.contains("echo") &&
         payload["echo"] == request && payload["digest"] == sha256_hex(request.dump());
}

}  // namespace rrkit
