#include <catch2/catch.hpp>

#include "common/base64.h"
#include "gateway/delivery.h"

namespace delivery_test {

using namespace rrkit::gateway;
using nlohmann::json;

namespace {
const json kReply = {{"correlationId", "0b6a1a3e-8c4f-4f5e-9b1a-2c3d4e5f6a7b"},
                     {"status", "ok"},
                     {"payload", {{"echo", {{"a", 1}}}, {"digest", "abc"}}}};
}

TEST_CASE("delivery: plain reply object") {
  auto r = parse_delivery(kReply.dump(), "correlationId");
  REQUIRE(r.delivery);
  CHECK(r.delivery->id == kReply["correlationId"]);
  CHECK(r.delivery->reply == kReply);
  CHECK_FALSE(r.delivery->probe);
}

TEST_CASE("delivery: CloudEvent with data object or JSON string") {
  json ce = {{"specversion", "1.0"}, {"type", "com.dapr.event.sent"}, {"source", "x"}, {"id", "e1"}, {"data", kReply}};
  auto r = parse_delivery(ce.dump(), "correlationId");
  REQUIRE(r.delivery);
  CHECK(r.delivery->reply == kReply);
  ce["data"] = kReply.dump();
  r = parse_delivery(ce.dump(), "correlationId");
  REQUIRE(r.delivery);
  CHECK(r.delivery->reply == kReply);
}

TEST_CASE("delivery: CloudEvent with data_base64 (rawPayload)") {
  // base64 of the exact bytes the replier sent
  const std::string raw = R"({"correlationId":"c-1","status":"ok"})";
  const std::string b64 = "eyJjb3JyZWxhdGlvbklkIjoiYy0xIiwic3RhdHVzIjoib2sifQ==";
  REQUIRE(rrkit::base64_decode(b64) == raw);
  json ce = {{"specversion", "1.0"}, {"datacontenttype", "application/octet-stream"}, {"data_base64", b64}};
  auto r = parse_delivery(ce.dump(), "correlationId");
  REQUIRE(r.delivery);
  CHECK(r.delivery->id == "c-1");
}

TEST_CASE("delivery: configurable id field") {
  auto r = parse_delivery(R"({"requestId":"r-9","v":1})", "requestId");
  REQUIRE(r.delivery);
  CHECK(r.delivery->id == "r-9");
  CHECK_FALSE(parse_delivery(R"({"requestId":"r-9","v":1})", "correlationId").delivery);
}

TEST_CASE("delivery: probes are recognised by id prefix or flag") {
  auto r = parse_delivery(R"({"correlationId":"probe-abc-123","rrkitProbe":true})", "correlationId");
  REQUIRE(r.delivery);
  CHECK(r.delivery->probe);
  r = parse_delivery(R"({"correlationId":"probe-other"})", "correlationId");
  REQUIRE(r.delivery);
  CHECK(r.delivery->probe);
  r = parse_delivery(R"({"rrkitProbe":true})", "correlationId");
  REQUIRE(r.delivery);
  CHECK(r.delivery->probe);
  CHECK(probe_prefix("inst1") == "probe-inst1-");
}

TEST_CASE("delivery: garbage is malformed with a reason") {
  const char* bad[] = {
      "",                                                       // empty
      "{not json",                                              // unparseable
      "[1,2,3]",                                                // not an object
      "\"text\"",                                               // a string
      R"({"status":"ok"})",                                     // no id
      R"({"correlationId":42})",                                // id not a string
      R"({"correlationId":""})",                                // empty id
      R"({"specversion":"1.0"})",                               // event without data
      R"({"specversion":"1.0","data":"{broken"})",              // data string not JSON
      R"({"specversion":"1.0","data":[1]})",                    // data not an object
      R"({"specversion":"1.0","data_base64":"!!!!"})",          // bad base64
      R"({"specversion":"1.0","data_base64":"bm90IGpzb24="})",  // base64 of "not json"
      R"({"specversion":"1.0","data_base64":7})",               // wrong type
  };
  for (const char* body : bad) {
    INFO(body);
    auto r = parse_delivery(body, "correlationId");
    CHECK_FALSE(r.delivery);
    CHECK_FALSE(r.error.empty());
  }
}


TEST_CASE("delivery: a reply nested too deep is malformed (DROP), in every envelope") {
  const std::string deep_value = std::string(100000, '[') + std::string(100000, ']');
  const std::string plain = R"({"correlationId":"c-1","payload":)" + deep_value + "}";
  const std::string in_data = R"({"specversion":"1.0","data":{"correlationId":"c-1","payload":)" + deep_value + "}}";
  const json as_string = {{"specversion", "1.0"}, {"data", plain}};
  const json as_b64 = {{"specversion", "1.0"}, {"data_base64", rrkit::base64_encode(plain)}};
  for (const std::string& body : {plain, in_data, as_string.dump(), as_b64.dump()}) {
    auto r = parse_delivery(body, "correlationId");
    CHECK_FALSE(r.delivery);
    CHECK(r.error.find("deeper") != std::string::npos);
  }
}

}  // namespace delivery_test
