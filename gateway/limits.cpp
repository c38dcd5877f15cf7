#include "gateway/limits.h"

#include <algorithm>
#include <cstdint>

namespace rrkit::gateway {

Route route_of(std::string_view target, unsigned roles) {
  const std::string_view path = target.substr(0, target.find('?'));
  if ((roles & kClient) && path == "/api/send") return Route::send;
  if ((roles & kCallback) && path == kReplyRoute) return Route::reply;
  return Route::other;
}

std::size_t body_limit(Route route, std::size_t max_body, std::size_t max_reply_body) {
  switch (route) {
    case Route::send: return max_body;
    case Route::reply: return max_reply_body;
    case Route::other: break;
  }
  return kOtherBodyLimit;
}

ConnectionCaps connection_caps(std::size_t fd_limit, std::size_t want_client, std::size_t want_callback,
                               std::size_t dapr_connections, bool shared_listener) {
  const std::size_t reserved = kReservedDescriptors + dapr_connections;
  std::size_t available = fd_limit > reserved ? fd_limit - reserved : 0;
  ConnectionCaps caps;
  if (shared_listener) {
    const std::size_t want = want_client > SIZE_MAX - want_callback ? SIZE_MAX : want_client + want_callback;
    caps.client = std::max<std::size_t>(1, std::min(want, available));
    caps.reduced = caps.client < want;
    return caps;
  }
  caps.callback = std::max<std::size_t>(1, std::min(want_callback, available));
  available = available > caps.callback ? available - caps.callback : 0;
  caps.client = std::max<std::size_t>(1, std::min(want_client, available));
  caps.reduced = caps.client < want_client || caps.callback < want_callback;
  return caps;
}

std::string keep_alive_value(std::chrono::milliseconds idle_timeout) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(idle_timeout).count();
  return "timeout=" + std::to_string(std::max<long long>(seconds, 0));
}

}  // namespace rrkit::gateway
