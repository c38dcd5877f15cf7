#include "testkit/net.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <stdexcept>

namespace rrkit::net {

std::pair<std::uint16_t, std::uint16_t> ephemeral_range() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  long low = 0;
  long high = 0;
  if (in >> low >> high && low >= 1024 && high <= 65535 && low <= high)
    return {static_cast<std::uint16_t>(low), static_cast<std::uint16_t>(high)};
  return {32768, 60999};
}

namespace {

// Binds 127.0.0.1:port (0: any) and returns the bound port, or 0 when it is taken.
std::uint16_t try_bind(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  return ok ? ntohs(addr.sin_port) : std::uint16_t{0};
}

}  // namespace

std::uint16_t free_port() {
  // Ports from 10000 up to the ephemeral range; a random start keeps concurrent runs (and several
  // harnesses on one machine) from trying the same ports in the same order.
  const auto [eph_low, eph_high] = ephemeral_range();
  constexpr std::uint16_t kLow = 10000;
  if (eph_low > kLow + 100) {
    thread_local std::mt19937 rng{std::random_device{}()};
    std::uniform_int_distribution<int> pick(kLow, eph_low - 1);
    for (int attempt = 0; attempt < 200; ++attempt) {
      const auto port = static_cast<std::uint16_t>(pick(rng));
      if (try_bind(port) == port) return port;
    }
  }
  // No room below the ephemeral range (or all of it taken): any free port.
  if (const auto port = try_bind(0); port != 0) return port;
  throw std::runtime_error("cannot find a free port");
}

bool port_open(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace rrkit::net
