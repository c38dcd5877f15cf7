// to_wire() must write the bytes Beast's own serializer writes: it replaces it on every answer
// and every publish.
#include <catch2/catch.hpp>

#include <sstream>

#include <boost/beast/http/write.hpp>

#include "gateway/http_message.h"

namespace http_message_test {

using namespace rrkit::gateway;

namespace {

template <class Message>
std::string beast_bytes(const Message& msg) {
  std::ostringstream out;
  out << msg;
  return out.str();
}

}  // namespace

TEST_CASE("http message: to_wire writes the bytes of Beast's serializer for answers, publishes and a chunked body") {
  Response ok = make_response(http::status::ok, {{"correlationId", "c-1"}, {"response", {{"a", 1}}}}, 11, true);
  ok.set("X-Correlation-Id", "c-1");
  ok.set("Keep-Alive", "timeout=120");
  CHECK(to_wire(ok) == beast_bytes(ok));

  Response gone = make_response(http::status::gateway_timeout, {{"error", "timeout"}}, 10, false);
  CHECK(to_wire(gone) == beast_bytes(gone));
  CHECK(to_wire(gone).rfind("HTTP/1.0 504 Gateway Timeout\r\n", 0) == 0);

  Response reasoned{http::status::service_unavailable, 11};
  reasoned.reason("Busy Here");
  reasoned.set(http::field::retry_after, "1");
  reasoned.prepare_payload();
  CHECK(to_wire(reasoned) == beast_bytes(reasoned));

  Request publish{http::verb::post, "/v1.0/publish/rr-pubsub/rr.requests?metadata.rawPayload=true", 11};
  publish.set(http::field::host, "127.0.0.1:3500");
  publish.keep_alive(true);
  publish.set(http::field::content_type, "application/json");
  publish.body() = R"({"correlationId":"c-2"})";
  publish.prepare_payload();
  CHECK(to_wire(publish) == beast_bytes(publish));

  Request health{http::verb::get, "/v1.0/healthz", 11};
  health.prepare_payload();
  CHECK(to_wire(health) == beast_bytes(health));

  Response chunked{http::status::ok, 11};
  chunked.chunked(true);
  chunked.body() = "abc";
  CHECK(to_wire(chunked) == beast_bytes(chunked));
}

}  // namespace http_message_test
