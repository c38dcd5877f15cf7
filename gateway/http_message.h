#pragma once
// The HTTP message types every room of the gateway answers with, and the one JSON answer builder,
// so that each room's handlers are plain functions from a request to a response.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <nlohmann/json.hpp>

#include "gateway/pending_table.h"
#include "gateway/send_request.h"

namespace rrkit::gateway {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// A JSON answer (Content-Type, Server, Content-Length set).
Response make_response(http::status status, const nlohmann::json& body, unsigned version, bool keep_alive);
// The same with the body already serialised (valid JSON text).
Response make_response(http::status status, std::string body, unsigned version, bool keep_alive);
Response error_response(const HttpError& e, unsigned version, bool keep_alive);

// An answer already in its bytes on the wire, and whether its connection stays open after it.
struct Rendered {
  std::string wire;
  bool keep_alive = false;
};

using Field = std::pair<std::string_view, std::string_view>;

// What a connection writes back: a Beast message, or one already rendered (the answers written once
// per request: a parked request's, a delivery's).
using Answer = std::variant<Response, Rendered>;

// The bytes that write_answer sends for make_response(status, body, version, keep_alive) with the
// fields inserted after it, in order: written directly instead of through Beast's field list, which
// allocates and indexes every field. keep_alive_value is the Keep-Alive field's value, written when
// the connection stays open.
Rendered render_response(http::status status, std::string_view body, unsigned version, bool keep_alive,
                         std::span<const Field> fields, std::string_view keep_alive_value);

double seconds_since(Clock::time_point t);

// The bytes of a message on the wire, in one string, so that it goes out as one plain write:
// Beast's layered asynchronous write (message, then serializer steps, then stream transfers over
// concatenated buffer views), and even its serializer into a string, cost about as many
// instructions per message as the gateway's JSON work. The same bytes as Beast's serializer
// (a chunked message is left to it).
std::string to_wire(Response& msg);
std::string to_wire(Request& msg);

// Parses what the buffer already holds, consuming what it used: up to the end of the header when
// the parser is not eager, else as much of the message as is there. http::error::need_more when bytes
// are missing; an asynchronous read then goes on from where this stopped. Most requests, deliveries
// and daprd's answers arrive whole in a connection's first read and are parsed here without another
// read: no timer set, no completion scheduled, no coroutine resumed. Any other error is the parser's
// verdict on the bytes (a bad header, a header or body over its limit). A chunked body is not parsed
// here: need_more, and Beast's asynchronous read parses it (the bytes stay in the buffer).
// Instantiated for requests (the gateway's listeners) and responses (daprd's answers).
template <bool isRequest>
boost::system::error_code parse_buffered(http::parser<isRequest, http::string_body>& parser,
                                         boost::beast::flat_buffer& buffer);

}  // namespace rrkit::gateway
