#include "gateway/http_server.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <array>
#include <tuple>
#include <optional>
#include <variant>

#include "gateway/executors.h"
#include "gateway/tuple_awaitable.h"
#include "gateway/write_now.h"

namespace rrkit::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

// Closes after an answer sent before the request was read in full: stops sending, then reads
// and discards for a moment so the peer sees the answer instead of a reset.
asio::awaitable<void> linger_close(beast::tcp_stream& stream, std::chrono::milliseconds how_long) {
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream.expires_after(how_long);
  std::array<char, 2048> sink{};
  std::size_t total = 0;
  while (total < 64 * 1024 * 1024) {
    auto [ec, n] = co_await stream.async_read_some(asio::buffer(sink), tuple_awaitable);
    if (ec) break;
    total += n;
  }
}

// Reads and throws away a body announced by Content-Length, so the connection stays usable
// (daprd keeps its connections alive); header_parser is moved from.
asio::awaitable<bool> discard_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                   http::request_parser<http::string_body>& header_parser) {
  http::request_parser<http::buffer_body> parser(std::move(header_parser));
  std::array<char, 4096> sink{};
  stream.expires_after(30s);
  while (!parser.is_done()) {
    parser.get().body().data = sink.data();
    parser.get().body().size = sink.size();
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
    if (ec && ec != http::error::need_buffer) co_return false;
  }
  co_return true;
}

// Writes a message's bytes: at once when the socket takes them whole, else asynchronously.
asio::awaitable<bool> write_text(beast::tcp_stream& stream, const std::string& text) {
  const std::size_t sent = write_now(stream.socket(), text);
  if (sent == text.size()) co_return true;
  stream.expires_after(30s);
  auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(text) + sent, tuple_awaitable);
  co_return !wec;
}

// Writes an answer, promising Keep-Alive (the State's value) when the connection stays open; false
// when the connection is done (write failed, or not keep-alive).
asio::awaitable<bool> write_answer(beast::tcp_stream& stream, Response& res, const std::string& keep_alive) {
  const bool keep = res.keep_alive();
  if (keep) res.set(http::field::keep_alive, keep_alive);
  const std::string text = to_wire(res);
  const bool written = co_await write_text(stream, text);
  co_return written && keep;
}

asio::awaitable<bool> write_answer(beast::tcp_stream& stream, const Rendered& res) {
  const bool written = co_await write_text(stream, res.wire);
  co_return written && res.keep_alive;
}

asio::awaitable<bool> write_answer(beast::tcp_stream& stream, Answer& res, const std::string& keep_alive) {
  if (auto* rendered = std::get_if<Rendered>(&res)) co_return co_await write_answer(stream, *rendered);
  co_return co_await write_answer(stream, std::get<Response>(res), keep_alive);
}

Response too_large(State& state, Route route, unsigned version, Clock::time_point started, std::size_t limit) {
  HttpError e{413, "too_large", "body exceeds " + std::to_string(limit) + " bytes"};
  if (route == Route::send) {
    state.metrics.request(Outcome::too_large, seconds_since(started));
    log::info(state.logger, "request rejected", {{"status", 413}, {"error", e.code}});
  }
  return error_response(e, version, false);
}

// A header the parser refused. On the reply route (or a callback-only listener, where the
// target may not even be known) that is a delivery the gateway cannot take: DROP.
asio::awaitable<void> answer_bad_header(beast::tcp_stream& stream, Deliveries& deliveries,
                                        http::request_parser<http::string_body>& parser, unsigned roles,
                                        const boost::system::error_code& ec) {
  const bool delivery = roles == kCallback || route_of(parser.get().target(), roles) == Route::reply;
  Response res = delivery ? deliveries.drop_unreadable(ec.message())
                          : make_response(http::status::bad_request,
                                          {{"error", "bad_http"}, {"message", ec.message()}}, 11, false);
  stream.expires_after(5s);
  auto [wec, wn] = co_await http::async_write(stream, res, tuple_awaitable);
  if (!wec) co_await linger_close(stream, 2s);
}

// Counts a request from "headers read" to "answer written", for shutdown's drain; moves with the
// request from the reading coroutine to the session that writes the answer.
class InFlight {
 public:
  InFlight() = default;
  explicit InFlight(std::atomic<int>& n) : n_(&n) { ++n; }
  InFlight(InFlight&& other) noexcept : n_(std::exchange(other.n_, nullptr)) {}
  InFlight& operator=(InFlight&& other) noexcept {
    release();
    n_ = std::exchange(other.n_, nullptr);
    return *this;
  }
  InFlight(const InFlight&) = delete;
  InFlight& operator=(const InFlight&) = delete;
  ~InFlight() { release(); }

 private:
  void release() {
    if (n_) --*n_;
    n_ = nullptr;
  }
  std::atomic<int>* n_ = nullptr;
};

// What the session does next with its connection, once a request has been read and routed.
struct Step {
  enum class Kind { stop, next, answer, send };
  Kind kind = Kind::stop;   // stop: close; next: already answered, read the next request
  std::optional<Answer> res;          // answer: write it
  std::optional<Prepared> prepared;   // send: publish and wait for the reply
  InFlight in_flight;
};

// Reads one request and routes it. A coroutine of its own because GCC keeps every local of a
// coroutine in its frame for the frame's whole life: the parser, the request and the rejection
// answers live here and are freed before a request waits for its reply, so the session's frame,
// alive for every waiting request, holds only the stream, the buffer and the next step.
asio::awaitable<Step> read_request(beast::tcp_stream& stream, beast::flat_buffer& buffer, unsigned roles, bool first,
                                   State& state, Routes& routes, Deliveries& deliveries) {
  const Config& cfg = state.cfg;
  Step step;
  http::request_parser<http::string_body> parser;
  // Deliveries may carry large Kafka headers; clients get the usual 16 KiB.
  parser.header_limit(roles & kCallback ? 256 * 1024 : 16 * 1024);
  // No body limit while the header is read: an oversize Content-Length is judged below,
  // by route, so that it gets the route's answer (413, or DROP) instead of a header error.
  parser.body_limit(boost::none);
  if (buffer.size() == 0) {
    // A new connection must start its request soon; a kept-alive one may idle longer. A delivery
    // (a CloudEvent and daprd's headers) is a kilobyte or two: room for all of it.
    const std::chrono::milliseconds timeout = first ? cfg.header_timeout : cfg.idle_timeout;
    const auto room = buffer.prepare(roles & kCallback ? 4096 : 512);
    boost::system::error_code rec;
    std::size_t rn = 0;
    if (state.reaper.attached()) {  // one I/O thread: one timer for every connection's wait (read_reaper.h)
      std::tie(rec, rn) = co_await state.reaper.read_some(stream.socket(), room, timeout);
    } else {
      stream.expires_after(timeout);
      std::tie(rec, rn) = co_await stream.async_read_some(room, tuple_awaitable);
    }
    if (rec) co_return step;
    buffer.commit(rn);
  }
  boost::system::error_code hec = parse_buffered(parser, buffer);
  if (hec == http::error::need_more) {
    // Measured from the first byte: a client trickling its header is cut off here.
    stream.expires_after(cfg.header_timeout);
    auto [ec, hn] = co_await http::async_read_header(stream, buffer, parser, tuple_awaitable);
    hec = ec;
  }
  if (hec) {
    if (hec != http::error::end_of_stream && hec != beast::error::timeout && hec != asio::error::connection_reset &&
        hec != asio::error::operation_aborted) {
      co_await answer_bad_header(stream, deliveries, parser, roles, hec);
    }
    co_return step;
  }
  step.in_flight = InFlight(state.active);

  const Clock::time_point started = Clock::now();
  const Route route = route_of(parser.get().target(), roles);
  const std::size_t limit = body_limit(route, cfg.max_body, cfg.max_reply_body);
  if (const auto declared = parser.content_length(); declared && *declared > limit) {
    if (route == Route::reply) {
      const unsigned version = parser.get().version();
      const bool keep = parser.get().keep_alive();
      if (!co_await discard_body(stream, buffer, parser)) co_return step;  // parser is spent after this
      Response res = deliveries.drop_oversize(version, keep, *declared);
      if (co_await write_answer(stream, res, state.keep_alive)) step.kind = Step::Kind::next;
      co_return step;
    }
    Response res = too_large(state, route, parser.get().version(), started, limit);
    co_await write_answer(stream, res, state.keep_alive);
    co_await linger_close(stream, 2s);
    co_return step;
  }
  parser.body_limit(limit);  // a chunked body is counted as it arrives
  parser.eager(true);
  boost::system::error_code bec = parse_buffered(parser, buffer);
  if (bec == http::error::need_more) {
    stream.expires_after(30s);
    auto [ec, bn] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
    bec = ec;
  }
  if (bec == http::error::body_limit) {
    // The stream cannot be resynchronised after a refused chunked body: answer, then close.
    Response res = route == Route::reply ? deliveries.drop_oversize(parser.get().version(), false, limit + 1)
                                         : too_large(state, route, parser.get().version(), started, limit);
    co_await write_answer(stream, res, state.keep_alive);
    co_await linger_close(stream, 2s);
    co_return step;
  }
  if (bec) co_return step;
  auto routed = routes.route(parser.release(), roles, started);
  if (auto* p = std::get_if<Prepared>(&routed)) {
    step.kind = Step::Kind::send;
    step.prepared = std::move(*p);
  } else {
    step.kind = Step::Kind::answer;
    step.res = std::move(std::get<Answer>(routed));
  }
  co_return step;
}

}  // namespace

struct HttpServer::Resumed {
  beast::flat_buffer buffer;  // bytes the client pipelined behind the request
  Rendered answer;
  InFlight in_flight;  // released once the answer is written
};

// The connection of a request waiting for its reply: socket, buffer and counts, no coroutine.
class HttpServer::Parked final : public ParkedConnection {
 public:
  Parked(HttpServer& server, tcp::socket client, beast::flat_buffer buffer, unsigned roles, ConnectionToken token,
         InFlight in_flight)
      : ParkedConnection(std::move(client)),
        server_(server),
        buffer_(std::move(buffer)),
        roles_(roles),
        token_(std::move(token)),
        in_flight_(std::move(in_flight)) {}

  void resume(std::optional<Rendered> answer) override {
    if (!answer) {  // the client went away while waiting: nobody to answer
      boost::system::error_code ignored;
      socket.shutdown(tcp::socket::shutdown_send, ignored);
      return;
    }
    auto resumed = std::make_unique<Resumed>(Resumed{std::move(buffer_), std::move(*answer), std::move(in_flight_)});
    auto ex = socket.get_executor();
    asio::co_spawn(ex, server_.session(std::move(socket), roles_, std::move(token_), std::move(resumed)),
                   asio::detached);
  }

 private:
  HttpServer& server_;
  beast::flat_buffer buffer_;
  unsigned roles_;
  ConnectionToken token_;
  InFlight in_flight_;
};

bool HttpServer::bind(const Endpoint& ep, unsigned roles) {
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(ep.host, ec);
  if (ec) {
    log::error(state_.logger, "invalid listen address", {{"host", ep.host}, {"error", ec.message()}});
    return false;
  }
  auto acc = std::make_unique<tcp::acceptor>(control_);
  const tcp::endpoint endpoint(address, ep.port);
  acc->open(endpoint.protocol(), ec);
  if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acc->bind(endpoint, ec);
  if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    log::error(state_.logger, "cannot listen", {{"host", ep.host}, {"port", ep.port}, {"error", ec.message()}});
    return false;
  }
  log::info(state_.logger, "listening",
            {{"host", ep.host}, {"port", acc->local_endpoint().port()},
             {"client_api", (roles & kClient) != 0}, {"dapr_callbacks", (roles & kCallback) != 0}});
  asio::co_spawn(control_, accept_loop(*acc, roles), asio::detached);
  acceptors_.push_back(std::move(acc));
  return true;
}

void HttpServer::close() {
  for (auto& acc : acceptors_) {
    boost::system::error_code ignored;
    acc->close(ignored);
  }
}

asio::awaitable<void> HttpServer::accept_loop(tcp::acceptor& acc, unsigned roles) {
  asio::steady_timer backoff(control_);
  while (!state_.stopping) {
    auto [ec, socket] = co_await acc.async_accept(connection_executor(ioc_, state_.cfg.single_thread()), tuple_awaitable);
    if (ec) {
      if (state_.stopping || ec == asio::error::operation_aborted) co_return;
      // Out of descriptors and the like: say so and retry instead of dying.
      log::warn(state_.logger, "accept failed", {{"error", ec.message()}});
      backoff.expires_after(50ms);
      co_await backoff.async_wait(tuple_awaitable);
      continue;
    }
    // A separate callback listener has its own count, so clients can never starve deliveries.
    const bool callback_only = roles == kCallback;
    auto& open = callback_only ? state_.callback_open : state_.client_open;
    const std::size_t cap = callback_only ? caps_.callback : caps_.client;
    auto ex = socket.get_executor();
    if (open.load() >= cap) {
      state_.metrics.connection_refused(callback_only);
      // Answered on a best-effort basis; beyond a few at once they are just closed.
      if (refusing_.load() < 64) asio::co_spawn(ex, refuse(std::move(socket)), asio::detached);
      continue;
    }
    asio::co_spawn(ex, session(std::move(socket), roles, ConnectionToken(open), nullptr), asio::detached);
  }
}

// An over-cap connection: a short 503 and a close, without reading a request.
asio::awaitable<void> HttpServer::refuse(tcp::socket socket) {
  ConnectionToken token(refusing_);
  beast::tcp_stream stream(std::move(socket));
  Response res = make_response(http::status::service_unavailable,
                               {{"error", "too_many_connections"}, {"message", "connection limit reached"}}, 11, false);
  res.set(http::field::retry_after, "1");
  stream.expires_after(2s);
  auto [wec, wn] = co_await http::async_write(stream, res, tuple_awaitable);
  if (!wec) co_await linger_close(stream, 1s);
}

asio::awaitable<void> HttpServer::session(tcp::socket socket, unsigned roles, ConnectionToken token,
                                          std::unique_ptr<Resumed> resumed) {
  try {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    bool keep = true;
    bool first = true;  // a new connection must start its request within the header timeout
    if (resumed) {  // back from a wait: its answer first, then the connection goes on
      first = false;
      buffer = std::move(resumed->buffer);
      keep = co_await write_answer(stream, resumed->answer);
      resumed.reset();
    }
    for (; keep; first = false) {
      Step step = co_await read_request(stream, buffer, roles, first, state_, routes_, deliveries_);
      if (step.kind == Step::Kind::next) continue;
      if (step.kind == Step::Kind::stop) break;
      if (step.kind == Step::Kind::send) {
        if (buffer.size() == 0) buffer.shrink_to_fit();  // nothing pipelined: no need to hold 512 B
        auto parked = std::make_shared<Parked>(*this, stream.release_socket(), std::move(buffer), roles,
                                               std::move(token), std::move(step.in_flight));
        send_.park(std::move(*step.prepared), std::move(parked));
        co_return;  // the connection lives on in the send flow, and comes back with its answer
      }
      if (!co_await write_answer(stream, *step.res, state_.keep_alive)) break;
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  } catch (const std::exception& e) {
    log::error(state_.logger, "session failed", {{"error", e.what()}});
  }
}

}  // namespace rrkit::gateway
