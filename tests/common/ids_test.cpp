#include <catch2/catch.hpp>

#include <set>

#include "common/ids.h"

namespace ids_test {

TEST_CASE("correlation ids are distinct UUIDv4 strings") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = rrkit::new_uuid_v4();
    REQUIRE(rrkit::looks_like_uuid(id));
    CHECK(id[14] == '4');  // version nibble
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);  // RFC 4122 variant
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("looks_like_uuid rejects other shapes") {
  CHECK_FALSE(rrkit::looks_like_uuid(""));
  CHECK_FALSE(rrkit::looks_like_uuid("not-a-uuid"));
  CHECK_FALSE(rrkit::looks_like_uuid("0123456789abcdef0123456789abcdef0123"));
}

}  // namespace ids_test
