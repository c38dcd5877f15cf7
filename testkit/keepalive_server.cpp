#include "testkit/keepalive_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <thread>

#include <nlohmann/json.hpp>

namespace rrkit::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

struct KeepAliveServer::Impl {
  Impl(KeepAliveServer& o, KeepAliveServerOptions opts) : owner(o), options(std::move(opts)) {}
  KeepAliveServer& owner;
  KeepAliveServerOptions options;
  net::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
  std::thread thread;

  net::awaitable<void> serve(tcp::socket socket) {
    ++owner.open_;
    struct Closed {
      std::atomic<std::uint64_t>& open;
      ~Closed() { --open; }
    } closed{owner.open_};
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    auto last_answer = std::chrono::steady_clock::now();
    bool answered_once = false;
    for (;;) {
      bhttp::request<bhttp::string_body> req;
      // Between requests the idle timeout runs; the stream closes the socket (FIN) when it fires.
      stream.expires_after(options.idle_close && answered_once ? *options.idle_close : std::chrono::seconds(60));
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, req, kTuple);
      if (ec == beast::error::timeout && answered_once) ++owner.idle_closes_;
      if (ec) co_return;
      const auto now = std::chrono::steady_clock::now();
      const std::uint64_t nth = ++owner.requests_;
      {
        const auto j = nlohmann::json::parse(req.body(), nullptr, false);
        if (j.is_object() && j.contains("nonce") && j["nonce"].is_string()) {
          std::lock_guard lock(owner.mu_);
          ++owner.seen_[j["nonce"].get<std::string>()];
        }
      }
      if (options.stale_after && answered_once && now - last_answer >= *options.stale_after) {
        ++owner.stale_closes_;
        co_return;  // closes the socket: the request is lost with no answer
      }
      if (options.drop_answer_of == nth) co_return;
      if (options.never_answer) {
        net::steady_timer hold(co_await net::this_coro::executor);
        hold.expires_after(std::chrono::minutes(10));
        co_await hold.async_wait(kTuple);
        co_return;
      }
      if (options.answer_delay.count() > 0) {
        net::steady_timer delay(co_await net::this_coro::executor);
        delay.expires_after(options.answer_delay);
        co_await delay.async_wait(kTuple);
      }
      bhttp::response<bhttp::string_body> res{bhttp::status::ok, req.version()};
      res.set(bhttp::field::content_type, "application/json");
      if (!options.keep_alive_header.empty()) res.set(bhttp::field::keep_alive, options.keep_alive_header);
      res.keep_alive(req.keep_alive());
      res.body() = nlohmann::json{{"correlationId", "id-" + std::to_string(nth)}}.dump();
      res.prepare_payload();
      stream.expires_after(std::chrono::seconds(10));
      auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
      if (wec || !res.keep_alive()) co_return;
      last_answer = std::chrono::steady_clock::now();
      answered_once = true;
    }
  }

  net::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec) co_return;
      ++owner.connections_;
      net::co_spawn(ioc, serve(std::move(socket)), net::detached);
    }
  }
};

KeepAliveServer::KeepAliveServer(KeepAliveServerOptions options)
    : impl_(std::make_unique<Impl>(*this, std::move(options))) {
  net::co_spawn(impl_->ioc, impl_->accept_loop(), net::detached);
  impl_->thread = std::thread([this] { impl_->ioc.run(); });
}

KeepAliveServer::~KeepAliveServer() {
  impl_->ioc.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

std::uint16_t KeepAliveServer::port() const { return impl_->acceptor.local_endpoint().port(); }

std::uint64_t KeepAliveServer::times_seen(const std::string& nonce) const {
  std::lock_guard lock(mu_);
  const auto it = seen_.find(nonce);
  return it == seen_.end() ? 0 : it->second;
}

}  // namespace rrkit::test
