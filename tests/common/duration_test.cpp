#include <catch2/catch.hpp>

#include "common/duration.h"

namespace duration_test {

using namespace std::chrono_literals;

TEST_CASE("durations parse with units") {
  CHECK(rrkit::parse_duration("250ms") == std::chrono::microseconds(250ms));
  CHECK(rrkit::parse_duration("5s") == std::chrono::microseconds(5s));
  CHECK(rrkit::parse_duration("1.5s") == std::chrono::microseconds(1500ms));
  CHECK(rrkit::parse_duration("2m") == std::chrono::microseconds(120s));
  CHECK(rrkit::parse_duration("100us") == std::chrono::microseconds(100));
  CHECK(rrkit::parse_duration("40") == std::chrono::microseconds(40ms));
}

TEST_CASE("bad durations are rejected") {
  CHECK_FALSE(rrkit::parse_duration(""));
  CHECK_FALSE(rrkit::parse_duration("-5s"));
  CHECK_FALSE(rrkit::parse_duration("5 parsecs"));
  CHECK_FALSE(rrkit::parse_duration("ms"));
  CHECK_FALSE(rrkit::parse_duration("1e400s"));
}

TEST_CASE("durations format back") {
  CHECK(rrkit::format_duration(std::chrono::microseconds(5s)) == "5s");
  CHECK(rrkit::format_duration(std::chrono::microseconds(250ms)) == "250ms");
  CHECK(rrkit::format_duration(std::chrono::microseconds(7)) == "7us");
}

}  // namespace duration_test
