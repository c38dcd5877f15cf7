#include "testkit/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <strings.h>

namespace rrkit::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

std::string Response::header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  }
  return {};
}

Response call(const Request& req) {
  Response out;
  net::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  bhttp::request<bhttp::string_body> msg;
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);

  msg.method(bhttp::string_to_verb(req.method));
  msg.target(req.target);
  msg.version(11);
  msg.set(bhttp::field::host, req.host + ":" + std::to_string(req.port));
  msg.set(bhttp::field::connection, "close");
  for (const auto& [k, v] : req.headers) msg.set(k, v);
  if (!req.body.empty() || req.method == "POST" || req.method == "PUT") {
    msg.set(bhttp::field::content_type, req.content_type);
    msg.body() = req.body;
    msg.prepare_payload();
  }

  boost::system::error_code ec;
  const auto address = net::ip::make_address(req.host, ec);
  if (ec) {
    out.ec = ec;
    return out;
  }
  stream.expires_after(req.timeout);
  // One deadline for the whole exchange: connect, write, read.
  stream.async_connect(tcp::endpoint(address, req.port), [&](const boost::system::error_code& e) {
    if (e) {
      out.ec = e;
      return;
    }
    bhttp::async_write(stream, msg, [&](const boost::system::error_code& we, std::size_t) {
      if (we) {
        out.ec = we;
        return;
      }
      bhttp::async_read(stream, buffer, parser, [&](const boost::system::error_code& re, std::size_t) {
        if (re) {
          out.ec = re;
          return;
        }
        const auto& res = parser.get();
        out.status = static_cast<int>(res.result_int());
        out.body = res.body();
        for (const auto& f : res) out.headers.emplace_back(std::string(f.name_string()), std::string(f.value()));
      });
    });
  });
  ioc.run();
  return out;
}

}  // namespace rrkit::http
