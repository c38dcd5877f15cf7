#include <catch2/catch.hpp>

#include <boost/beast/http.hpp>

#include "gateway/dapr_client.h"
#include "gateway/http_message.h"

namespace dapr_client_test {

using namespace rrkit::gateway;

TEST_CASE("dapr client: the publish target is Dapr's publish API with a raw payload") {
  CHECK(publish_target("rr-pubsub", "rr.requests", {}) == "/v1.0/publish/rr-pubsub/rr.requests?metadata.rawPayload=true");
  CHECK(publish_target("rr-pubsub", "rr.requests", {{"partitionKey", "id-1"}, {"correlationId", "id-1"}}) ==
        "/v1.0/publish/rr-pubsub/rr.requests?metadata.rawPayload=true&metadata.partitionKey=id-1"
        "&metadata.correlationId=id-1");
}

TEST_CASE("dapr client: every part of the publish target is percent-encoded") {
  // A topic or value with '/', '&' or '=' must not change which topic or metadata daprd sees.
  CHECK(publish_target("a b", "t/1", {{"replyTo", "x&y=z"}}) ==
        "/v1.0/publish/a%20b/t%2F1?metadata.rawPayload=true&metadata.replyTo=x%26y%3Dz");
}

TEST_CASE("dapr client: url_encode keeps the unreserved bytes and escapes every other one") {
  CHECK(url_encode("") == "");
  CHECK(url_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(url_encode("3f2a-Z") == "3f2a-Z");
  CHECK(url_encode("a b") == "a%20b");
  CHECK(url_encode("%") == "%25");
  CHECK(url_encode("\xc3\xa9t\xc3\xa9") == "%C3%A9t%C3%A9");  // UTF-8 bytes, one escape each
  CHECK(url_encode(std::string("x\0y", 3)) == "x%00y");
  CHECK(url_encode("/&=?#+") == "%2F%26%3D%3F%23%2B");
}

namespace http = boost::beast::http;

// The message the request bytes replaced, built and serialised by Beast as the client did before.
std::string beast_request(http::verb method, const std::string& target, const std::string& host,
                          const std::string& token, const std::string& body) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, host);
  req.keep_alive(true);
  if (!token.empty()) req.set("dapr-api-token", token);
  if (!body.empty() || method == http::verb::post) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  return to_wire(req);
}

TEST_CASE("dapr client: a request's bytes are those Beast wrote for the same message") {
  const std::string target = publish_target("rr-pubsub", "rr.requests", {{"partitionKey", "id-1"}});
  const std::string body = R"({"correlationId":"id-1","payload":"x"})";
  CHECK(request_wire("POST", target, "127.0.0.1:3500", "", body) ==
        beast_request(http::verb::post, target, "127.0.0.1:3500", "", body));
  CHECK(request_wire("POST", target, "127.0.0.1:3500", "secret", body) ==
        beast_request(http::verb::post, target, "127.0.0.1:3500", "secret", body));
  CHECK(request_wire("POST", target, "localhost:3501", "", "") ==
        beast_request(http::verb::post, target, "localhost:3501", "", ""));
  CHECK(request_wire("GET", "/v1.0/healthz", "127.0.0.1:3500", "", "") ==
        beast_request(http::verb::get, "/v1.0/healthz", "127.0.0.1:3500", "", ""));
  CHECK(request_wire("GET", "/v1.0/healthz", "127.0.0.1:3500", "", "") ==
        "GET /v1.0/healthz HTTP/1.1\r\nHost: 127.0.0.1:3500\r\n\r\n");
  CHECK(request_wire("POST", "/p", "h:1", "t", "{}") ==
        "POST /p HTTP/1.1\r\nHost: h:1\r\ndapr-api-token: t\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\n\r\n{}");
}

}  // namespace dapr_client_test
