#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include <catch2/catch.hpp>

#include "testkit/net.h"

namespace net_test {

namespace net = rrkit::net;

TEST_CASE("net: a free port lies below the ephemeral range, so a restarted process can bind it again", "[unit]") {
  // Outgoing connections take their source port from the ephemeral range; a Kafka node restarted on
  // a port from there failed with "address already in use" when a client connection had taken it.
  const auto [low, high] = net::ephemeral_range();
  REQUIRE(low <= high);
  REQUIRE(low > 10100);  // Linux's default (32768) and every usual setting leave room below
  std::set<std::uint16_t> seen;
  for (int i = 0; i < 50; ++i) {
    const auto port = net::free_port();
    CHECK(port >= 10000);
    CHECK(port < low);
    seen.insert(port);
  }
  // Random picks: 50 draws from ~22,000 ports are not all the same port.
  CHECK(seen.size() > 1);
}

TEST_CASE("net: a free port can be listened on, and port_open sees the listener", "[unit]") {
  const auto port = net::free_port();
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(::listen(fd, 1) == 0);
  CHECK(net::port_open(port));
  ::close(fd);
  CHECK_FALSE(net::port_open(port));
}

}  // namespace net_test
