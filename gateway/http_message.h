#pragma once
// The HTTP message types every room of the gateway answers with, and the one JSON answer builder,
// so that each room's handlers are plain functions from a request to a response.
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>

#include <string>

#include <nlohmann/json.hpp>

#include "gateway/pending_table.h"
#include "gateway/send_request.h"

namespace rrkit::gateway {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// A JSON answer (Content-Type, Server, Content-Length set).
Response make_response(http::status status, const nlohmann::json& body, unsigned version, bool keep_alive);
Response error_response(const HttpError& e, unsigned version, bool keep_alive);

double seconds_since(Clock::time_point t);

// The bytes Beast's serializer makes of a message, in one string. Serialised outside any
// asynchronous operation, a message goes out as one plain write: Beast's layered asynchronous
// write (message, then serializer steps, then stream transfers over concatenated buffer views)
// cost about as many instructions per message as the gateway's JSON work.
template <bool isRequest>
std::string to_wire(http::message<isRequest, http::string_body>& msg) {
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

}  // namespace rrkit::gateway
