#include "common/small_http_server.h"

#include <exception>
#include <optional>
#include <thread>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/json_limits.h"

namespace rrkit::small_http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::string body_limit_text(std::size_t limit) {
  constexpr std::size_t kMiB = 1 << 20, kKiB = 1 << 10;
  if (limit >= kMiB && limit % kMiB == 0) return "body over " + std::to_string(limit / kMiB) + " MiB";
  if (limit >= kKiB && limit % kKiB == 0) return "body over " + std::to_string(limit / kKiB) + " KiB";
  return "body over " + std::to_string(limit) + " bytes";
}

namespace {

bool is_http_error(const boost::system::error_code& ec) {
  return ec.category() == bhttp::make_error_code(bhttp::error::end_of_stream).category();
}

// What a failed read means for the connection, and the answer it still deserves (if any): a request
// over the body limit gets 413 and one that is not HTTP gets 400, each with a reason, so that a
// client sending bad input learns why instead of seeing the connection drop.
struct ReadFailure {
  CloseReason reason = CloseReason::error;
  std::optional<Response> answer;
};

ReadFailure classify_read_error(const boost::system::error_code& ec, bool answered_before, std::size_t body_limit) {
  if (ec == beast::error::timeout) return {answered_before ? CloseReason::idle_timeout : CloseReason::read_timeout, {}};
  if (ec == bhttp::error::end_of_stream || ec == asio::error::eof) return {CloseReason::done, {}};
  if (ec == bhttp::error::body_limit) {
    return {CloseReason::error, Response{413, "application/json", safe_dump({{"error", body_limit_text(body_limit)}}), {}, {}, false}};
  }
  // A client that hung up mid-request is owed nothing; any other parse error is a bad request.
  if (is_http_error(ec) && ec != bhttp::error::partial_message) {
    return {CloseReason::error, Response{400, "application/json", safe_dump({{"error", "bad request: " + ec.message()}}), {}, {}, false}};
  }
  return {CloseReason::error, {}};
}

}  // namespace

struct Server::Impl {
  Impl(Handler h, Options o) : handler(std::move(h)), options(std::move(o)) {}
  Handler handler;
  Options options;
  asio::io_context io{1};
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::uint16_t port = 0;

  // The handler's answer; an exception becomes 500 so that one request cannot end the server's thread
  // (a detached coroutine's exception would end the whole program).
  Response answer(const Request& req) {
    try {
      return handler(req);
    } catch (const std::exception& e) {
      if (options.on_handler_error) options.on_handler_error(req, e.what());
      return Response{500, "application/json", safe_dump({{"error", std::string("internal error: ") + e.what()}}) + "\n",
                      {}, {}, false};
    }
  }

  asio::awaitable<bool> write(beast::tcp_stream& stream, const Response& out, unsigned version, bool keep_alive) {
    bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(out.status), version};
    if (!options.server_header.empty()) res.set(bhttp::field::server, options.server_header);
    res.set(bhttp::field::content_type, out.content_type);
    for (const auto& [name, value] : out.headers) res.set(name, value);
    res.keep_alive(keep_alive);
    res.body() = out.body;
    res.prepare_payload();
    stream.expires_after(options.write_timeout);
    auto [ec, n] = co_await bhttp::async_write(stream, res, kTuple);
    co_return !ec;
  }

  asio::awaitable<CloseReason> serve(beast::tcp_stream& stream) {
    beast::flat_buffer buffer;
    std::uint64_t answered = 0;
    auto last_answer = Clock::now();
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options.body_limit);
      const bool idle = answered > 0 && options.idle_timeout.count() > 0;
      stream.expires_after(idle ? options.idle_timeout : options.read_timeout);
      auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
      if (ec) {
        const ReadFailure failure = classify_read_error(ec, answered > 0, options.body_limit);
        if (failure.answer) co_await write(stream, *failure.answer, parser.get().version(), false);
        co_return failure.reason;
      }
      const auto& req = parser.get();
      Request in{std::string(req.method_string()), std::string(req.target()), req.body(), answered + 1,
                 answered > 0 ? Clock::now() - last_answer : Clock::duration{}};
      const Response out = answer(in);
      if (out.delay.count() > 0) {
        asio::steady_timer timer(co_await asio::this_coro::executor);
        timer.expires_after(out.delay);
        co_await timer.async_wait(kTuple);
      }
      if (out.close_without_answer) co_return CloseReason::done;
      if (!co_await write(stream, out, req.version(), req.keep_alive())) co_return CloseReason::error;
      if (!req.keep_alive()) co_return CloseReason::done;
      last_answer = Clock::now();
      ++answered;
    }
  }

  asio::awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    if (options.on_open) options.on_open();
    const CloseReason reason = co_await serve(stream);
    if (options.on_close) options.on_close(reason);
  }

  asio::awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(kTuple);
      if (ec == asio::error::operation_aborted) co_return;
      // Any other accept error (a client that reset before accept, too many open files) concerns one
      // connection: the listener goes on.
      if (ec) continue;
      asio::co_spawn(io, session(std::move(socket)), asio::detached);
    }
  }
};

Server::Server(Handler handler, Options options) : impl_(std::make_unique<Impl>(std::move(handler), std::move(options))) {}

Server::~Server() { stop(); }

bool Server::start(std::string& error) {
  const auto& host = impl_->options.host;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(host, ec);
  if (ec) {
    error = "listen address '" + host + "': " + ec.message();
    return false;
  }
  const tcp::endpoint ep(address, impl_->options.port);
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec) impl_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error = "listen " + host + ":" + std::to_string(impl_->options.port) + ": " + ec.message();
    return false;
  }
  impl_->port = impl_->acceptor.local_endpoint().port();
  asio::co_spawn(impl_->io, impl_->accept_loop(), asio::detached);
  impl_->thread = std::thread([this] { impl_->io.run(); });
  return true;
}

std::uint16_t Server::port() const { return impl_->port; }

void Server::stop() {
  impl_->io.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

}  // namespace rrkit::small_http
