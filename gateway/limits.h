#pragma once
// rr-gateway's resource limits as pure functions (no sockets, no clocks), so that each rule is
// unit-tested: which body limit a request gets, how many connections each listener may hold
// within the process's descriptor limit, and what an idle keep-alive connection is promised.
#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>

namespace rrkit::gateway {

inline constexpr const char* kReplyRoute = "/dapr/replies";

// Listener roles (a bit set: one listener may serve both).
enum Role : unsigned { kClient = 1, kCallback = 2 };

// The routes whose bodies are limited differently.
enum class Route { send, reply, other };

// The route of a request target (query ignored) on a listener with these roles.
Route route_of(std::string_view target, unsigned roles);

// Largest body accepted on a route: --max-body for sends, --max-reply-body for deliveries,
// a small fixed limit elsewhere (those routes take no body).
inline constexpr std::size_t kOtherBodyLimit = 64 * 1024;
std::size_t body_limit(Route route, std::size_t max_body, std::size_t max_reply_body);

// Descriptors kept out of both listeners' caps: the listeners themselves, epoll, timers, logs,
// and a margin for the daprd pool reconnecting while an old socket is still closing.
inline constexpr std::size_t kReservedDescriptors = 64;

struct ConnectionCaps {
  std::size_t client = 0;    // the client listener (or the shared one)
  std::size_t callback = 0;  // the callback listener (0 when shared with the client listener)
  bool reduced = false;      // the wanted caps did not fit and were lowered
};

// Caps that leave the daprd pool and the reserve their descriptors whatever the clients do.
// The callback listener is served first (a blocked delivery blocks a reply partition); a
// shared listener gets one cap for both roles. Never below 1 per listener.
ConnectionCaps connection_caps(std::size_t fd_limit, std::size_t want_client, std::size_t want_callback,
                               std::size_t dapr_connections, bool shared_listener);

// The Keep-Alive header value promised on keep-alive answers: whole seconds, rounded down so a
// client that believes it never reuses a connection the gateway is about to close.
std::string keep_alive_value(std::chrono::milliseconds idle_timeout);

}  // namespace rrkit::gateway
