#include "simulator/control_server.h"

#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/json_limits.h"

namespace rrkit::simulator {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

struct ControlServer::Impl {
  Handler handler;
  log::Logger logger;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::uint16_t port = 0;

  asio::awaitable<void> session(beast::tcp_stream stream) {
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(1 << 20);  // profiles are small; refuse anything bigger
      stream.expires_after(30s);
      auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == http::error::body_limit) {
          http::response<http::string_body> res{http::status::payload_too_large, 11};
          res.set(http::field::content_type, "application/json");
          res.body() = R"({"error":"body over 1 MiB"})";
          res.prepare_payload();
          co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
        }
        co_return;
      }
      const auto& req = parser.get();
      ControlRequest creq{std::string(req.method_string()), std::string(req.target()), req.body()};
      ControlResponse cres;
      try {
        cres = handler(creq);
      } catch (const std::exception& e) {
        // The io thread must survive whatever one request does; a detached coroutine's exception
        // would otherwise end the whole simulator.
        log::error(logger, "control request failed", {{"target", creq.target}, {"error", e.what()}});
        cres = ControlResponse{500, "application/json", safe_dump({{"error", std::string("internal error: ") + e.what()}}) + "\n"};
      }
      http::response<http::string_body> res{static_cast<http::status>(cres.status), req.version()};
      res.set(http::field::server, "rr-simulator");
      res.set(http::field::content_type, cres.content_type);
      res.keep_alive(req.keep_alive());
      res.body() = cres.body;
      res.prepare_payload();
      stream.expires_after(30s);
      auto [wec, wn] = co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
      if (wec || !res.keep_alive()) co_return;
    }
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        continue;
      }
      asio::co_spawn(io, session(beast::tcp_stream(std::move(socket))), asio::detached);
    }
  }
};

ControlServer::ControlServer(Handler handler, log::Logger logger) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->logger = std::move(logger);
}

ControlServer::~ControlServer() { stop(); }

bool ControlServer::start(const std::string& host, std::uint16_t port, std::string& error) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    error = "control listen address '" + host + "': " + ec.message();
    return false;
  }
  const tcp::endpoint ep(address, port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "control listen " + host + ":" + std::to_string(port) + ": " + ec.message();
    return false;
  }
  impl_->port = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return true;
}

std::uint16_t ControlServer::port() const { return impl_->port; }

void ControlServer::stop() {
  if (!impl_) return;
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace rrkit::simulator
