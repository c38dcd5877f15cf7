#pragma once
#include <chrono>
#include <cstdint>

namespace rrkit::net {
// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
std::uint16_t free_port();
// True when a TCP connect to 127.0.0.1:port succeeds.
bool port_open(std::uint16_t port);
}  // namespace rrkit::net
