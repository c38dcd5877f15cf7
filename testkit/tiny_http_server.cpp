#include "testkit/tiny_http_server.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <thread>

namespace rrkit::test {

namespace net = boost::asio;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

struct TinyHttpServer::Impl {
  net::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  Handler handler;
  std::thread thread;
};

namespace {

net::awaitable<void> serve(tcp::socket socket, TinyHttpServer::Handler* handler) {
  boost::beast::tcp_stream stream(std::move(socket));
  boost::beast::flat_buffer buffer;
  for (;;) {
    bhttp::request<bhttp::string_body> req;
    stream.expires_after(std::chrono::seconds(60));
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, req, net::as_tuple(net::use_awaitable));
    if (ec) co_return;
    const TinyResponse out = (*handler)(TinyRequest{std::string(req.method_string()), std::string(req.target()), req.body()});
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(out.status), req.version()};
    res.set(bhttp::field::content_type, out.content_type);
    res.keep_alive(req.keep_alive());
    res.body() = out.body;
    res.prepare_payload();
    auto [wec, wn] = co_await bhttp::async_write(stream, res, net::as_tuple(net::use_awaitable));
    if (wec || !res.keep_alive()) co_return;
  }
}

net::awaitable<void> accept_loop(tcp::acceptor& acceptor, TinyHttpServer::Handler* handler) {
  for (;;) {
    auto [ec, socket] = co_await acceptor.async_accept(net::as_tuple(net::use_awaitable));
    if (ec) co_return;
    net::co_spawn(acceptor.get_executor(), serve(std::move(socket), handler), net::detached);
  }
}

}  // namespace

TinyHttpServer::TinyHttpServer(Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  net::co_spawn(impl_->ioc, accept_loop(impl_->acceptor, &impl_->handler), net::detached);
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

TinyHttpServer::~TinyHttpServer() {
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t TinyHttpServer::port() const { return impl_->acceptor.local_endpoint().port(); }

}  // namespace rrkit::test
