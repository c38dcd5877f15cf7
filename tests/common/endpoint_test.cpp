#include "common/endpoint.h"

#include <catch2/catch.hpp>

namespace endpoint_test {

using rrkit::parse_endpoint;

TEST_CASE("endpoint: HOST:PORT, [V6]:PORT and :PORT", "[unit][endpoint]") {
  auto ep = parse_endpoint("127.0.0.1:8080");
  REQUIRE(ep);
  CHECK(ep->host == "127.0.0.1");
  CHECK(ep->port == 8080);
  ep = parse_endpoint("[::1]:9");
  REQUIRE(ep);
  CHECK(ep->host == "::1");
  CHECK(ep->port == 9);
  ep = parse_endpoint(":0");
  REQUIRE(ep);
  CHECK(ep->host.empty());
  CHECK(ep->port == 0);
  ep = parse_endpoint("localhost:65535");
  REQUIRE(ep);
  CHECK(ep->port == 65535);
}

TEST_CASE("endpoint: a port that is not all digits in 0..65535 is refused", "[unit][endpoint]") {
  for (const char* bad : {"localhost", "h:", "h:65536", "h:99999999999999999999", "h:12x", "h:+80", "h:-1", "h: 80",
                          "h:0x50", ""}) {
    INFO(bad);
    CHECK_FALSE(parse_endpoint(bad));
  }
}

}  // namespace endpoint_test
