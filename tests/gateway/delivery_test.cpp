#include <catch2/catch.hpp>

#include "common/base64.h"
#include "common/json_limits.h"
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

namespace delivery_test {

TEST_CASE("delivery: read without the envelope's other members, the same result as from the whole document") {
  const std::string id = kReply["correlationId"];
  const std::string b64 = rrkit::base64_encode(kReply.dump());
  const std::string bodies[] = {
      // as daprd delivers to a rawPayload subscription: trace context, nested and array members dropped
      R"({"data_base64":")" + b64 + R"(","datacontenttype":"application/octet-stream","id":"e","pubsubname":"p",)"
          R"("source":"s","specversion":"1.0","time":"t","topic":"r","traceid":"00-1","traceparent":"00-1",)"
          R"("tracestate":"","type":"com.dapr.event.sent","x":{"y":[1,{"z":null}],"w":true},"v":[[],{}]})",
      // duplicate keys: the last one wins, kept or dropped members alike
      R"({"specversion":"1.0","data":{"correlationId":"a"},"id":"1","data":)" + kReply.dump() + R"(,"id":{"n":[2]}})",
      R"({"data_base64":"!!","specversion":"1.0","data_base64":")" + b64 + R"("})",
      // plain replies with members beyond the four: read again whole, every member kept
      R"({"correlationId":")" + id + R"(","payload":{"a":[1,2.5,-3,18446744073709551615]},"note":"x"})",
      R"({"correlationId":")" + id + R"(","data":{"a":1},"extra":[{"b":"c"}]})",
      R"({"rrkitProbe":true,"correlationId":"probe-i-1","other":{}})",
      // not a delivery
      R"({"id":"e","source":{"a":[1]}})", R"({"specversion":"1.0","data":[1],"id":"e"})", R"([{"data":1}])",
      R"({"a":1} trailing)", R"({"a":[1,}})", "",
  };
  for (const std::string& body : bodies) {
    INFO(body);
    const auto fast = parse_delivery(body, "correlationId");
    auto whole = rrkit::parse_bounded(body);
    const auto reference = whole.ok() ? parse_delivery_value(std::move(whole.value), "correlationId")
                                      : DeliveryResult{std::nullopt, "delivery body is not valid JSON"};
    CHECK(fast.error == reference.error);
    REQUIRE(fast.delivery.has_value() == reference.delivery.has_value());
    if (!fast.delivery) continue;
    CHECK(fast.delivery->id == reference.delivery->id);
    CHECK(fast.delivery->probe == reference.delivery->probe);
    CHECK(fast.delivery->reply == reference.delivery->reply);
    CHECK(fast.delivery->reply.dump() == reference.delivery->reply.dump());
  }
  // The plain reply keeps the members the envelope reading drops.
  const auto plain = parse_delivery(bodies[3], "correlationId");
  REQUIRE(plain.delivery);
  CHECK(plain.delivery->reply.contains("payload"));
  CHECK(plain.delivery->reply.contains("note"));
  CHECK(parse_delivery(bodies[0], "correlationId").delivery->reply == kReply);
  CHECK(parse_delivery(bodies[9], "correlationId").error == "delivery body is not valid JSON");
}

}  // namespace delivery_test
