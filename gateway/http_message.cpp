#include "gateway/http_message.h"

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/serializer.hpp>

#include "common/json_limits.h"

namespace rrkit::gateway {

Response make_response(http::status status, const nlohmann::json& body, unsigned version, bool keep_alive) {
  return make_response(status, rrkit::safe_dump(body), version, keep_alive);
}

Response make_response(http::status status, std::string body, unsigned version, bool keep_alive) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::server, "rr-gateway");
  res.keep_alive(keep_alive);
  res.body() = std::move(body);
  res.prepare_payload();
  return res;
}

Response error_response(const HttpError& e, unsigned version, bool keep_alive) {
  return make_response(static_cast<http::status>(e.status), e.body(), version, keep_alive);
}

namespace {

template <bool isRequest>
std::string beast_wire(http::message<isRequest, http::string_body>& msg) {
  std::string text;
  text.reserve(256 + msg.body().size());
  http::serializer<isRequest, http::string_body> sr{msg};
  boost::system::error_code ec;
  while (!ec && !sr.is_done()) {
    sr.next(ec, [&](boost::system::error_code&, const auto& buffers) {
      std::size_t n = 0;
      for (const auto b : boost::beast::buffers_range_ref(buffers)) {
        text.append(static_cast<const char*>(b.data()), b.size());
        n += b.size();
      }
      sr.consume(n);
    });
  }
  return text;
}

// The header fields in order, the blank line and the body, after the start line.
template <bool isRequest>
std::string& append_rest(std::string& text, const http::message<isRequest, http::string_body>& msg) {
  for (const auto& f : msg) {
    text.append(f.name_string().data(), f.name_string().size());
    text.append(": ", 2);
    text.append(f.value().data(), f.value().size());
    text.append("\r\n", 2);
  }
  text.append("\r\n", 2);
  text.append(msg.body());
  return text;
}

void append_version(std::string& text, unsigned version) {
  text.append("HTTP/", 5);
  text.push_back(static_cast<char>('0' + version / 10));
  text.push_back('.');
  text.push_back(static_cast<char>('0' + version % 10));
}

// "HTTP/1.1 200 OK\r\n"
void append_status_line(std::string& text, unsigned version, unsigned code, std::string_view reason) {
  append_version(text, version);
  text.push_back(' ');
  text.push_back(static_cast<char>('0' + code / 100 % 10));
  text.push_back(static_cast<char>('0' + code / 10 % 10));
  text.push_back(static_cast<char>('0' + code % 10));
  text.push_back(' ');
  text.append(reason.data(), reason.size());
  text.append("\r\n", 2);
}

}  // namespace

std::string to_wire(Response& msg) {
  if (msg.chunked()) return beast_wire(msg);
  std::string text;
  text.reserve(192 + msg.body().size());
  const auto reason = msg.reason();
  append_status_line(text, msg.version(), msg.result_int(), std::string_view(reason.data(), reason.size()));
  return append_rest(text, msg);
}

std::string to_wire(Request& msg) {
  if (msg.chunked()) return beast_wire(msg);
  std::string text;
  text.reserve(256 + msg.body().size());
  const auto method = msg.method_string();
  text.append(method.data(), method.size());
  text.push_back(' ');
  text.append(msg.target().data(), msg.target().size());
  text.push_back(' ');
  append_version(text, msg.version());
  text.append("\r\n", 2);
  return append_rest(text, msg);
}

Rendered render_response(http::status status, std::string_view body, unsigned version, bool keep_alive,
                         std::span<const Field> fields, std::string_view keep_alive_value) {
  Rendered out{{}, keep_alive};
  std::string& text = out.wire;
  text.reserve(200 + body.size());
  const auto reason = http::obsolete_reason(status);
  append_status_line(text, version, static_cast<unsigned>(status), std::string_view(reason.data(), reason.size()));
  text.append("Content-Type: application/json\r\nServer: rr-gateway\r\n");
  // What Beast's keep_alive() writes: HTTP/1.1 states only a close, HTTP/1.0 only a keep-alive.
  if (version >= 11 && !keep_alive) text.append("Connection: close\r\n");
  if (version < 11 && keep_alive) text.append("Connection: keep-alive\r\n");
  text.append("Content-Length: ");
  text.append(std::to_string(body.size()));
  text.append("\r\n", 2);
  for (const auto& [name, value] : fields) {
    text.append(name).append(": ", 2).append(value).append("\r\n", 2);
  }
  if (keep_alive) text.append("Keep-Alive: ").append(keep_alive_value).append("\r\n", 2);
  text.append("\r\n", 2);
  text.append(body);
  return out;
}

template <bool isRequest>
boost::system::error_code parse_buffered(http::parser<isRequest, http::string_body>& parser,
                                         boost::beast::flat_buffer& buffer) {
  // Gives the parser what the buffer holds until done says so, or the bytes run out.
  const auto feed = [&](auto done) -> boost::system::error_code {
    boost::system::error_code ec;
    while (!done() && buffer.size() > 0) {
      const std::size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec) return ec;
      if (used == 0) break;
    }
    return done() ? boost::system::error_code() : http::error::need_more;
  };
  // The header alone first, even for an eager parser, which would otherwise go on into the body
  // within the same put.
  if (!parser.is_header_done()) {
    const bool eager = parser.eager();
    parser.eager(false);
    const auto ec = feed([&] { return parser.is_header_done(); });
    parser.eager(eager);
    if (ec) return ec;
  }
  if (!parser.eager() || parser.is_done()) return {};
  // A chunked body is left to Beast's read. That read first gives the parser what the buffer holds
  // before it reads more, and Beast's chunk parser must not see the same bytes twice once the last
  // chunk has begun (it asserts there: found by fuzz_http_request).
  if (parser.chunked()) return http::error::need_more;
  return feed([&] { return parser.is_done(); });
}

template boost::system::error_code parse_buffered<true>(http::request_parser<http::string_body>&,
                                                        boost::beast::flat_buffer&);
template boost::system::error_code parse_buffered<false>(http::response_parser<http::string_body>&,
                                                         boost::beast::flat_buffer&);

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace rrkit::gateway
