// to_wire() must write the bytes Beast's own serializer writes: it replaces it on every answer
// and every publish.
#include <catch2/catch.hpp>

#include <sstream>

#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/ostream.hpp>
#include <boost/beast/http/error.hpp>
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

TEST_CASE("http message: render_response writes the bytes of the Beast answer it stands for") {
  const http::status statuses[] = {http::status::ok, http::status::bad_gateway, http::status::service_unavailable,
                                   http::status::gateway_timeout, http::status::internal_server_error};
  const Field id{"X-Correlation-Id", "00000000-0000-4000-8000-000000000001"};
  const Field both[] = {id, {"Retry-After", "1"}};
  const std::span<const Field> field_sets[] = {{}, std::span(both, 1), both};
  int checked = 0;
  for (const auto status : statuses) {
    for (const unsigned version : {10U, 11U}) {
      for (const bool keep : {true, false}) {
        for (const auto fields : field_sets) {
          for (const std::string body : {"", R"({"correlationId":"c-1","response":{"a":[1,2]}})"}) {
            INFO(static_cast<int>(status) << " HTTP/" << version << " keep " << keep << " fields " << fields.size());
            // As rr-gateway built it before: the message, its fields, then Keep-Alive when it stays open.
            Response res = make_response(status, body, version, keep);
            for (const auto& [name, value] : fields) res.insert(name, value);
            if (res.keep_alive()) res.set(http::field::keep_alive, "timeout=120");
            const Rendered rendered = render_response(status, body, version, keep, fields, "timeout=120");
            CHECK(rendered.wire == beast_bytes(res));
            CHECK(rendered.keep_alive == res.keep_alive());
            ++checked;
          }
        }
      }
    }
  }
  CHECK(checked == 5 * 2 * 2 * 3 * 2);
}

namespace {

void append(boost::beast::flat_buffer& buffer, std::string_view text) { boost::beast::ostream(buffer) << text; }

// The header, then the whole message, as the session reads them.
boost::system::error_code parse_request(http::request_parser<http::string_body>& parser,
                                        boost::beast::flat_buffer& buffer) {
  if (!parser.is_header_done()) {
    if (auto ec = parse_buffered(parser, buffer)) return ec;
  }
  parser.eager(true);
  return parse_buffered(parser, buffer);
}

const std::string kPost =
    "POST /api/send HTTP/1.1\r\nHost: gw\r\nContent-Type: application/json\r\nContent-Length: 14\r\n\r\n"
    R"({"payload":1})" "\n";

}  // namespace

TEST_CASE("http message: parse_buffered reads a request that is all in the buffer, and leaves what follows") {
  boost::beast::flat_buffer buffer;
  const std::string next = "GET /healthz HTTP/1.1\r\nHost: gw\r\n\r\n";
  append(buffer, kPost + next);
  http::request_parser<http::string_body> parser;
  REQUIRE_FALSE(parse_buffered(parser, buffer));  // the header only: the body waits for its limit
  CHECK(parser.is_header_done());
  CHECK_FALSE(parser.is_done());
  parser.eager(true);
  REQUIRE_FALSE(parse_buffered(parser, buffer));
  REQUIRE(parser.is_done());
  CHECK(parser.get().target() == "/api/send");
  CHECK(parser.get().body() == "{\"payload\":1}\n");
  CHECK(boost::beast::buffers_to_string(buffer.data()) == next);  // pipelined: untouched

  http::request_parser<http::string_body> second;
  REQUIRE_FALSE(parse_request(second, buffer));
  CHECK(second.get().target() == "/healthz");
  CHECK(buffer.size() == 0);
}

TEST_CASE("http message: parse_buffered asks for more at every split point, then reads the same request") {
  for (const std::string& text : {kPost}) {
    for (std::size_t cut = 0; cut < text.size(); ++cut) {
      CAPTURE(cut);
      boost::beast::flat_buffer buffer;
      append(buffer, text.substr(0, cut));
      http::request_parser<http::string_body> parser;
      CHECK(parse_request(parser, buffer) == http::error::need_more);
      CHECK_FALSE(parser.is_done());
      append(buffer, text.substr(cut));
      REQUIRE_FALSE(parse_request(parser, buffer));
      REQUIRE(parser.is_done());
      CHECK(parser.get().method() == http::verb::post);
      CHECK(parser.get().body() == "{\"payload\":1}\n");
      CHECK(buffer.size() == 0);
    }
  }
}

TEST_CASE("http message: parse_buffered returns the parser's own verdict on bad bytes and limits") {
  boost::beast::flat_buffer bad;
  append(bad, "POST /api/send HTTP/1.1\r\nBad Header\r\n\r\n");
  http::request_parser<http::string_body> p1;
  const auto ec = parse_buffered(p1, bad);
  CHECK(ec);
  CHECK(ec != http::error::need_more);

  boost::beast::flat_buffer big;
  append(big, "GET / HTTP/1.1\r\nX-Long: " + std::string(200, 'x') + "\r\n\r\n");
  http::request_parser<http::string_body> p2;
  p2.header_limit(64);
  CHECK(parse_buffered(p2, big) == http::error::header_limit);

  boost::beast::flat_buffer body;
  append(body, "POST / HTTP/1.1\r\nContent-Length: 16\r\n\r\n0123456789abcdef");
  http::request_parser<http::string_body> p3;
  p3.body_limit(8);  // Beast judges a declared length when the header ends
  CHECK(parse_buffered(p3, body) == http::error::body_limit);

  boost::beast::flat_buffer empty;
  http::request_parser<http::string_body> p4;
  CHECK(parse_buffered(p4, empty) == http::error::need_more);
}

TEST_CASE("http message: parse_buffered leaves a chunked body, all of it, to Beast's read") {
  // Beast's read gives the parser what the buffer holds before it reads more: the chunk parser must not
  // see the same bytes twice once the last chunk has begun (a Beast assertion, found by fuzz_http_request).
  const std::string head = "POST /api/send HTTP/1.1\r\nHost: gw\r\nTransfer-Encoding: chunked\r\n\r\n";
  const std::string chunks = "4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n";
  boost::beast::flat_buffer buffer;
  append(buffer, head + chunks);
  http::request_parser<http::string_body> parser;
  REQUIRE_FALSE(parse_buffered(parser, buffer));
  parser.eager(true);
  CHECK(parse_buffered(parser, buffer) == http::error::need_more);
  CHECK(parse_buffered(parser, buffer) == http::error::need_more);  // again, with nothing new: still untouched
  CHECK(boost::beast::buffers_to_string(buffer.data()) == chunks);
  // What Beast's read then does: the same bytes and the rest, to the parser.
  append(buffer, "\r\n");
  boost::system::error_code ec;
  buffer.consume(parser.put(buffer.data(), ec));
  REQUIRE_FALSE(ec);
  CHECK(parser.is_done());
  CHECK(parser.get().body() == "{\"a\":1}");
}

}  // namespace http_message_test