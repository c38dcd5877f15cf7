#include <catch2/catch.hpp>

#include "gateway/config.h"
#include "gateway/send_request.h"

namespace send_request_test {

using namespace rrkit::gateway;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {
int status_of(const std::variant<json, HttpError>& v) {
  return std::holds_alternative<HttpError>(v) ? std::get<HttpError>(v).status : 200;
}
}  // namespace

TEST_CASE("send validation: accepts a JSON object") {
  auto v = validate_send("application/json", R"({"action":"x","data":{"n":1}})", 1024);
  REQUIRE(std::holds_alternative<json>(v));
  CHECK(std::get<json>(v)["action"] == "x");
  CHECK(status_of(validate_send("Application/JSON; charset=utf-8", "{}", 1024)) == 200);
  CHECK(status_of(validate_send("application/cloudevents+json", "{}", 1024)) == 200);
}

TEST_CASE("send validation: rejections with their codes") {
  CHECK(status_of(validate_send("application/json", "{\"a\":1", 1024)) == 400);
  CHECK(status_of(validate_send("application/json", "", 1024)) == 400);
  CHECK(status_of(validate_send("application/json", "[1,2]", 1024)) == 400);
  CHECK(status_of(validate_send("application/json", "42", 1024)) == 400);
  CHECK(status_of(validate_send("text/plain", "{}", 1024)) == 415);
  CHECK(status_of(validate_send("", "{}", 1024)) == 415);
  CHECK(status_of(validate_send("application/jsonx", "{}", 1024)) == 415);
  CHECK(status_of(validate_send("application/json", std::string(2000, ' '), 1024)) == 413);
  // Size is checked first: a huge body of the wrong type is still 413.
  CHECK(status_of(validate_send("text/plain", std::string(2000, 'x'), 1024)) == 413);
  const auto e = std::get<HttpError>(validate_send("application/json", "nope", 1024));
  CHECK(e.body()["error"] == "invalid_json");
  CHECK_FALSE(e.message.empty());
}

TEST_CASE("send validation: timeout header") {
  using ms = std::chrono::milliseconds;
  CHECK(std::get<ms>(request_timeout(std::nullopt, 5000ms, 60000ms)) == 5000ms);
  CHECK(std::get<ms>(request_timeout("250", 5000ms, 60000ms)) == 250ms);
  CHECK(std::get<ms>(request_timeout("999999", 5000ms, 60000ms)) == 60000ms);  // capped
  for (const char* bad : {"", "abc", "-5", "0", "12ms", "1.5"}) {
    INFO(bad);
    auto r = request_timeout(std::string_view(bad), 5000ms, 60000ms);
    REQUIRE(std::holds_alternative<HttpError>(r));
    CHECK(std::get<HttpError>(r).status == 400);
  }
}

TEST_CASE("send validation: the gateway's id overwrites the client's") {
  auto out = stamp_request({{"correlationId", "mine"}, {"a", 1}}, "correlationId", "new-id");
  CHECK(out["correlationId"] == "new-id");
  CHECK(out["a"] == 1);
  CHECK(stamp_request({{"a", 1}}, "rid", "x")["rid"] == "x");
}

namespace {
// stamp_send's text, which must parse to stamp_request's document of the same body.
std::string stamped_text(std::string_view body, const std::string& field = "correlationId") {
  auto out = stamp_send("application/json", body, 1 << 20, field, "00000000-0000-4000-8000-000000000001");
  REQUIRE(std::holds_alternative<std::string>(out));
  auto doc = validate_send("application/json", body, 1 << 20);
  REQUIRE(std::holds_alternative<json>(doc));
  CHECK(json::parse(std::get<std::string>(out)) ==
        stamp_request(std::get<json>(std::move(doc)), field, "00000000-0000-4000-8000-000000000001"));
  return std::get<std::string>(out);
}
}  // namespace

TEST_CASE("send validation: an object without the id field is published in the client's own bytes") {
  const std::string id = R"("correlationId":"00000000-0000-4000-8000-000000000001")";
  // Key order, whitespace and number spellings are the client's; the id goes first.
  CHECK(stamped_text(R"({"z":1,"a":[1.50, 2e3],"big":123456789012345678901234567890})") ==
        "{" + id + R"(,"z":1,"a":[1.50, 2e3],"big":123456789012345678901234567890})");
  CHECK(stamped_text(" \r\n\t{ \"a\" : { \"correlationId\": 1 } }\n") ==
        " \r\n\t{" + id + ", \"a\" : { \"correlationId\": 1 } }\n");
  // An empty object gets no comma.
  CHECK(stamped_text("{}") == "{" + id + "}");
  CHECK(stamped_text("{ \t\n}") == "{" + id + " \t\n}");
  // Strings with escapes and non-ASCII text stay as written.
  CHECK(stamped_text(R"({"s":"\u00e9\n\"","t":"é"})") == "{" + id + R"(,"s":"\u00e9\n\"","t":"é"})");
  // A field name that JSON must escape is escaped.
  CHECK(stamped_text(R"({"a":1})", "re\"ply id") ==
        R"({"re\"ply id":"00000000-0000-4000-8000-000000000001","a":1})");
}

TEST_CASE("send validation: a body that sets the id field, or that the scan refuses, goes through the document") {
  // The client's id is replaced, not duplicated; the document's serialisation is published.
  CHECK(stamped_text(R"({"b":2,"correlationId":"mine","a":1})") ==
        R"({"a":1,"b":2,"correlationId":"00000000-0000-4000-8000-000000000001"})");
  CHECK(stamped_text(R"({"correlationId":null})") == R"({"correlationId":"00000000-0000-4000-8000-000000000001"})");
  // An escaped spelling of the field's name is the same key.
  CHECK(stamped_text(R"({"correlation\u0049d":7})") == R"({"correlationId":"00000000-0000-4000-8000-000000000001"})");
  // A byte-order mark: nlohmann takes it, Boost.JSON's scan does not.
  CHECK(stamped_text("\xEF\xBB\xBF{\"a\":1}") == R"({"a":1,"correlationId":"00000000-0000-4000-8000-000000000001"})");
}

TEST_CASE("send validation: stamp_send gives validate_send's verdicts") {
  const std::string deep = "{\"a\":" + std::string(200, '[') + std::string(200, ']') + "}";
  const std::pair<std::string, std::string> cases[] = {
      {"application/json", "{\"a\":1"}, {"application/json", ""},       {"application/json", "[1,2]"},
      {"application/json", "42"},       {"text/plain", "{}"},          {"application/json", std::string(2000, ' ')},
      {"application/json", deep},       {"application/json", "{\"a\":1} x"}, {"application/json", "{\"a\":\"\xff\"}"},
      {"application/json", "{\"a\":1e999}"}};
  for (const auto& [type, body] : cases) {
    INFO(body.substr(0, 40));
    const auto stamped = stamp_send(type, body, 1024, "correlationId", "x");
    const auto validated = validate_send(type, body, 1024);
    REQUIRE(std::holds_alternative<HttpError>(stamped));
    REQUIRE(std::holds_alternative<HttpError>(validated));
    CHECK(std::get<HttpError>(stamped).status == std::get<HttpError>(validated).status);
    CHECK(std::get<HttpError>(stamped).code == std::get<HttpError>(validated).code);
  }
}

TEST_CASE("config: endpoints") {
  auto ep = parse_endpoint("127.0.0.1:8080");
  REQUIRE(ep);
  CHECK(ep->host == "127.0.0.1");
  CHECK(ep->port == 8080);
  CHECK(parse_endpoint(":9000")->host == "0.0.0.0");
  CHECK_FALSE(parse_endpoint("localhost"));
  CHECK_FALSE(parse_endpoint("h:70000"));
  CHECK_FALSE(parse_endpoint("h:12x"));
}

TEST_CASE("send validation: a deeply nested body is too_deep, not a crash") {
  // The body that used to kill rr-gateway: 200 KB, under the default --max-body.
  const std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  auto v = validate_send("application/json", deep, 1048576);
  REQUIRE(std::holds_alternative<HttpError>(v));
  const auto e = std::get<HttpError>(v);
  CHECK(e.status == 400);
  CHECK(e.code == "too_deep");
  // Deep but within the limit is fine, and the stamped body dumps.
  const std::string ok = "{\"a\":" + std::string(100, '[') + std::string(100, ']') + "}";
  auto fine = validate_send("application/json", ok, 1048576);
  REQUIRE(std::holds_alternative<json>(fine));
  CHECK_FALSE(stamp_request(std::get<json>(std::move(fine)), "correlationId", "x").dump().empty());
  // Unbalanced deep garbage is refused before the parser sees it, too.
  CHECK(std::get<HttpError>(validate_send("application/json", std::string(5000, '{'), 1048576)).code == "too_deep");
}

}  // namespace send_request_test
