#include "common/json_limits.h"

#include <string>

#include <catch2/catch.hpp>

namespace json_limits_test {

using rrkit::JsonErrc;

namespace {
std::string nested(std::size_t levels) {
  return "{\"a\":" + std::string(levels, '[') + std::string(levels, ']') + "}";
}
}  // namespace

TEST_CASE("json_limits: the 100,000-level body is refused as too deep, not parsed") {
  const auto r = rrkit::parse_bounded(nested(100000));
  CHECK(r.errc == JsonErrc::too_deep);
  CHECK(r.value.is_discarded());
}

TEST_CASE("json_limits: depth is counted at the limit and one past it") {
  // nested(n) has n arrays inside one object: depth n + 1.
  CHECK(rrkit::parse_bounded(nested(rrkit::kMaxJsonDepth - 1)).ok());
  CHECK(rrkit::parse_bounded(nested(rrkit::kMaxJsonDepth)).errc == JsonErrc::too_deep);
  CHECK(rrkit::json_depth("[]") == 1);
  CHECK(rrkit::json_depth("1") == 0);
}

TEST_CASE("json_limits: brackets inside strings and escaped quotes do not count") {
  const std::string text = R"({"s":"[[[[\"[[[[","t":["]]]]"]})";
  CHECK(rrkit::json_depth(text) == 2);
  const auto r = rrkit::parse_bounded(text, 2);
  REQUIRE(r.ok());
  CHECK(r.value["s"] == "[[[[\"[[[[");
}

TEST_CASE("json_limits: invalid JSON and trailing garbage are invalid, not too deep") {
  CHECK(rrkit::parse_bounded("{\"a\":").errc == JsonErrc::invalid);
  CHECK(rrkit::parse_bounded("{} x").errc == JsonErrc::invalid);
  CHECK(rrkit::parse_bounded("").errc == JsonErrc::invalid);
}

TEST_CASE("json_limits: nesting past the limit after a syntax error is still too deep, as the text says") {
  CHECK(rrkit::parse_bounded("[1 x " + std::string(200, '[')).errc == JsonErrc::too_deep);
  CHECK(rrkit::parse_bounded("[1 x " + std::string(20, '[')).errc == JsonErrc::invalid);
  CHECK(rrkit::parse_bounded(std::string(rrkit::kMaxJsonDepth + 1, '[')).errc == JsonErrc::too_deep);
}

TEST_CASE("json_limits: the document is what nlohmann's own parser builds") {
  const std::string texts[] = {
      R"({"a":1,"b":[true,false,null,-2,18446744073709551615,1.5e3,"s\u00e9"],"c":{"d":{}},"a":{"x":[]}})",
      R"([[],{},[[1]],"x"])", "12", "-0", R"("\ud83d\ude00")", " {\"k\" : [ 1 , 2 ] } ",
  };
  for (const std::string& text : texts) {
    INFO(text);
    const auto r = rrkit::parse_bounded(text);
    REQUIRE(r.ok());
    const auto reference = nlohmann::json::parse(text);
    CHECK(r.value == reference);
    CHECK(r.value.dump() == reference.dump());
    CHECK(r.value.type() == reference.type());
  }
}

TEST_CASE("json_limits: value depth without recursion, and a dump that cannot crash or throw") {
  nlohmann::json deep = nlohmann::json::array();
  for (int i = 0; i < 200000; ++i) {
    nlohmann::json outer = nlohmann::json::array();
    outer.push_back(std::move(deep));
    deep = std::move(outer);
  }
  CHECK(rrkit::json_value_depth(deep) > rrkit::kMaxJsonDepth);
  CHECK(rrkit::safe_dump(deep) == "\"<too deep>\"");
  CHECK(rrkit::json_value_depth(nlohmann::json{{"a", {1, 2}}}) == 2);
  // Invalid UTF-8 is replaced, not thrown.
  const nlohmann::json latin1 = std::string("caf\xe9");
  CHECK(rrkit::safe_dump(latin1) == "\"caf\xef\xbf\xbd\"");
}

TEST_CASE("json_limits: valid_utf8 accepts text and refuses what a strict dump would throw on") {
  CHECK(rrkit::valid_utf8("plain ascii"));
  CHECK(rrkit::valid_utf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  CHECK_FALSE(rrkit::valid_utf8("caf\xe9"));              // Latin-1
  CHECK_FALSE(rrkit::valid_utf8("\xc0\xaf"));             // overlong '/'
  CHECK_FALSE(rrkit::valid_utf8("\xed\xa0\x80"));         // surrogate
  CHECK_FALSE(rrkit::valid_utf8("\xf4\x90\x80\x80"));     // above U+10FFFF
  CHECK_FALSE(rrkit::valid_utf8("\xe2\x82"));             // truncated
  // Every string valid_utf8 accepts, nlohmann's strict dump serialises without throwing.
  CHECK_NOTHROW(nlohmann::json(std::string("caf\xc3\xa9")).dump());
  CHECK_THROWS(nlohmann::json(std::string("caf\xe9")).dump());
}

}  // namespace json_limits_test
