#pragma once
#include <chrono>
#include <cstdint>
#include <utility>

namespace rrkit::net {
// A TCP port on 127.0.0.1 that was free a moment ago, taken from below the kernel's ephemeral range
// (see ephemeral_range). A process the harness restarts (a Kafka node, a daprd, a gateway) binds the
// port it had before; a port from the ephemeral range can meanwhile become the source port of any
// outgoing connection on the machine, and the restart then fails with "address already in use".
std::uint16_t free_port();
// The kernel's range for outgoing connections' source ports (/proc/sys/net/ipv4/ip_local_port_range),
// or Linux's default 32768..60999 when it cannot be read.
std::pair<std::uint16_t, std::uint16_t> ephemeral_range();
// True when a TCP connect to 127.0.0.1:port succeeds.
bool port_open(std::uint16_t port);
}  // namespace rrkit::net
