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
