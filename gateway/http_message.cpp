#include "gateway/http_message.h"

#include "common/json_limits.h"

namespace rrkit::gateway {

Response make_response(http::status status, const nlohmann::json& body, unsigned version, bool keep_alive) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::server, "rr-gateway");
  res.keep_alive(keep_alive);
  res.body() = rrkit::safe_dump(body);
  res.prepare_payload();
  return res;
}

Response error_response(const HttpError& e, unsigned version, bool keep_alive) {
  return make_response(static_cast<http::status>(e.status), e.body(), version, keep_alive);
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace rrkit::gateway
