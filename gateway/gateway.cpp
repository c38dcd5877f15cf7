#include "gateway/gateway.h"

#include <openssl/crypto.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include <sys/resource.h>

#include <array>
#include <atomic>
#include <optional>
#include <variant>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "common/json_limits.h"
#include "gateway/dapr_client.h"
#include "gateway/delivery.h"
#include "gateway/limits.h"
#include "gateway/metrics.h"
#include "gateway/pending_table.h"
#include "gateway/send_request.h"

namespace rrkit::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;
using nlohmann::json;
using namespace std::chrono_literals;
constexpr auto tuple_awaitable = asio::as_tuple(asio::use_awaitable);

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

Response make_response(http::status status, const json& body, unsigned version, bool keep_alive) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::server, "rr-gateway");
  res.keep_alive(keep_alive);
  res.body() = rrkit::safe_dump(body);
  res.prepare_payload();
  return res;
}

Response error_response(const HttpError& e, unsigned version, bool keep_alive) {
  return make_response(static_cast<http::status>(e.status), e.body(), version, keep_alive);
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The waiting side of a pending request; lives on its session's strand, shared with the
// request's publish task (which runs there too).
struct Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<Completion> result;
  std::unique_ptr<DaprResult> publish_failure;  // set by the publish task; a pointer keeps waiters small
  // Set once the client is answered: a publish still waiting for a daprd connection is then
  // never sent (read by the Dapr client on another strand, hence atomic).
  std::atomic<bool> abandoned{false};
  bool readable = false;  // the client's socket became readable while waiting
};

// Counts an open connection of a listener for as long as its session lives.
class ConnectionToken {
 public:
  explicit ConnectionToken(std::atomic<std::size_t>& open) : open_(&open) { ++*open_; }
  ConnectionToken(ConnectionToken&& other) noexcept : open_(std::exchange(other.open_, nullptr)) {}
  ConnectionToken& operator=(ConnectionToken&&) = delete;
  ConnectionToken(const ConnectionToken&) = delete;
  ~ConnectionToken() {
    if (open_) --*open_;
  }

 private:
  std::atomic<std::size_t>* open_;
};

std::size_t descriptor_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
  return static_cast<std::size_t>(lim.rlim_cur);
}

}  // namespace

struct Gateway::Impl {
  Impl(Config c, log::Logger l)
      : cfg(std::move(c)),
        logger(std::move(l)),
        ioc(static_cast<int>(cfg.threads)),
        control(asio::make_strand(ioc)),
        signals(control, SIGTERM, SIGINT),
        table({cfg.max_pending, cfg.late_window, cfg.late_window_max}),
        dapr(ioc, {cfg.dapr_host, cfg.dapr_http_port, cfg.dapr_api_token, cfg.dapr_connections}),
        own_probe_prefix(probe_prefix(cfg.instance_id)) {}

  Config cfg;
  log::Logger logger;
  asio::io_context ioc;  // declared before every I/O object: destroyed after them
  asio::strand<asio::io_context::executor_type> control;  // acceptors, signals, shutdown
  asio::signal_set signals;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  PendingTable table;
  Metrics metrics;
  DaprClient dapr;
  std::string own_probe_prefix;
  std::atomic<bool> stopping{false};
  std::atomic<bool> dapr_healthy{false};
  std::atomic<bool> subscription_live{false};
  std::atomic<int> active{0};  // requests between "headers read" and "answer written"
  ConnectionCaps caps;
  std::atomic<std::size_t> client_open{0};    // connections of the client (or shared) listener
  std::atomic<std::size_t> callback_open{0};  // connections of a separate callback listener
  std::atomic<std::size_t> refusing{0};       // over-cap connections being answered 503

  // ---- setup ---------------------------------------------------------------

  bool bind(const Endpoint& ep, unsigned roles) {
    boost::system::error_code ec;
    const auto address = asio::ip::make_address(ep.host, ec);
    if (ec) {
      log::error(logger, "invalid listen address", {{"host", ep.host}, {"error", ec.message()}});
      return false;
    }
    auto acc = std::make_unique<tcp::acceptor>(control);
    const tcp::endpoint endpoint(address, ep.port);
    acc->open(endpoint.protocol(), ec);
    if (!ec) acc->set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acc->bind(endpoint, ec);
    if (!ec) acc->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      log::error(logger, "cannot listen", {{"host", ep.host}, {"port", ep.port}, {"error", ec.message()}});
      return false;
    }
    log::info(logger, "listening",
              {{"host", ep.host}, {"port", acc->local_endpoint().port()},
               {"client_api", (roles & kClient) != 0}, {"dapr_callbacks", (roles & kCallback) != 0}});
    asio::co_spawn(control, accept_loop(*acc, roles), asio::detached);
    acceptors.push_back(std::move(acc));
    return true;
  }

  asio::awaitable<void> accept_loop(tcp::acceptor& acc, unsigned roles) {
    asio::steady_timer backoff(control);
    while (!stopping) {
      auto [ec, socket] = co_await acc.async_accept(asio::make_strand(ioc), tuple_awaitable);
      if (ec) {
        if (stopping || ec == asio::error::operation_aborted) co_return;
        // Out of descriptors and the like: say so and retry instead of dying.
        log::warn(logger, "accept failed", {{"error", ec.message()}});
        backoff.expires_after(50ms);
        co_await backoff.async_wait(tuple_awaitable);
        continue;
      }
      // A separate callback listener has its own count, so clients can never starve deliveries.
      const bool callback_only = roles == kCallback;
      auto& open = callback_only ? callback_open : client_open;
      const std::size_t cap = callback_only ? caps.callback : caps.client;
      auto ex = socket.get_executor();
      if (open.load() >= cap) {
        metrics.connection_refused(callback_only);
        // Answered on a best-effort basis; beyond a few at once they are just closed.
        if (refusing.load() < 64) asio::co_spawn(ex, refuse(std::move(socket)), asio::detached);
        continue;
      }
      asio::co_spawn(ex, session(std::move(socket), roles, ConnectionToken(open)), asio::detached);
    }
  }

  // An over-cap connection: a short 503 and a close, without reading a request.
  asio::awaitable<void> refuse(tcp::socket socket) {
    ConnectionToken token(refusing);
    beast::tcp_stream stream(std::move(socket));
    Response res = make_response(http::status::service_unavailable,
                                 {{"error", "too_many_connections"}, {"message", "connection limit reached"}}, 11, false);
    res.set(http::field::retry_after, "1");
    stream.expires_after(2s);
    auto [wec, wn] = co_await http::async_write(stream, res, tuple_awaitable);
    if (!wec) co_await linger_close(stream, 1s);
  }

  // Closes after an answer sent before the request was read in full: stops sending, then reads
  // and discards for a moment so the peer sees the answer instead of a reset.
  static asio::awaitable<void> linger_close(beast::tcp_stream& stream, std::chrono::milliseconds how_long) {
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

  // ---- one connection ------------------------------------------------------

  asio::awaitable<void> session(tcp::socket socket, unsigned roles, ConnectionToken token) {
    (void)token;  // counts this connection until the session ends
    try {
      beast::tcp_stream stream(std::move(socket));
      beast::flat_buffer buffer;
      for (bool first = true;; first = false) {
        http::request_parser<http::string_body> parser;
        // Deliveries may carry large Kafka headers; clients get the usual 16 KiB.
        parser.header_limit(roles & kCallback ? 256 * 1024 : 16 * 1024);
        // No body limit while the header is read: an oversize Content-Length is judged below,
        // by route, so that it gets the route's answer (413, or DROP) instead of a header error.
        parser.body_limit(boost::none);
        if (buffer.size() == 0) {
          // A new connection must start its request soon; a kept-alive one may idle longer.
          stream.expires_after(first ? cfg.header_timeout : cfg.idle_timeout);
          auto [rec, rn] = co_await stream.async_read_some(buffer.prepare(512), tuple_awaitable);
          if (rec) break;
          buffer.commit(rn);
        }
        // Measured from the first byte: a client trickling its header is cut off here.
        stream.expires_after(cfg.header_timeout);
        auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, tuple_awaitable);
        if (hec) {
          if (hec != http::error::end_of_stream && hec != beast::error::timeout &&
              hec != asio::error::connection_reset && hec != asio::error::operation_aborted) {
            co_await answer_bad_header(stream, parser, roles, hec);
          }
          break;
        }
        struct Active {
          std::atomic<int>& n;
          explicit Active(std::atomic<int>& a) : n(a) { ++n; }
          ~Active() { --n; }
        } in_flight(active);

        const Clock::time_point started = Clock::now();
        const Route route = route_of(parser.get().target(), roles);
        const std::size_t limit = body_limit(route, cfg.max_body, cfg.max_reply_body);
        if (const auto declared = parser.content_length(); declared && *declared > limit) {
          if (route == Route::reply) {
            const unsigned version = parser.get().version();
            const bool keep = parser.get().keep_alive();
            if (!co_await discard_body(stream, buffer, parser)) break;  // parser is spent after this
            Response res = drop_oversize(version, keep, *declared);
            if (!co_await write_answer(stream, res)) break;
            continue;
          }
          Response res = too_large(route, parser.get().version(), started, limit);
          co_await write_answer(stream, res);
          co_await linger_close(stream, 2s);
          break;
        }
        parser.body_limit(limit);  // a chunked body is counted as it arrives
        stream.expires_after(30s);
        auto [bec, bn] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
        if (bec == http::error::body_limit) {
          // The stream cannot be resynchronised after a refused chunked body: answer, then close.
          Response res = route == Route::reply ? drop_oversize(parser.get().version(), false, limit + 1)
                                               : too_large(route, parser.get().version(), started, limit);
          co_await write_answer(stream, res);
          co_await linger_close(stream, 2s);
          break;
        }
        if (bec) break;
        std::optional<Response> res;
        std::optional<Prepared> to_send;
        {
          // Everything up to the publish happens in plain functions, and the request is
          // destroyed at the end of this block, before any wait: a waiting request then
          // holds only the little it needs.
          const Request req = parser.release();
          if (route == Route::send && req.method() == http::verb::post) {
            auto prepared = prepare_send(req, started);
            if (auto* p = std::get_if<Prepared>(&prepared)) {
              to_send = std::move(*p);
            } else {
              res = std::move(std::get<Response>(prepared));
            }
          } else {
            res = dispatch(req, roles, started);
          }
        }
        if (to_send) {
          if (buffer.size() == 0) buffer.shrink_to_fit();  // nothing pipelined: no need to hold 512 B
          res = co_await handle_send(std::move(*to_send), stream);
        }
        if (!res) break;  // the client went away while waiting: nobody to answer
        if (!co_await write_answer(stream, *res)) break;
      }
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } catch (const std::exception& e) {
      log::error(logger, "session failed", {{"error", e.what()}});
    }
  }

  // Writes an answer, promising Keep-Alive: timeout=N when the connection stays open; false
  // when the connection is done (write failed, or not keep-alive).
  asio::awaitable<bool> write_answer(beast::tcp_stream& stream, Response& res) {
    const bool keep = res.keep_alive();
    if (keep) res.set("Keep-Alive", keep_alive_value(cfg.idle_timeout));
    stream.expires_after(30s);
    auto [wec, wn] = co_await http::async_write(stream, res, tuple_awaitable);
    co_return !wec && keep;
  }

  Response too_large(Route route, unsigned version, Clock::time_point started, std::size_t limit) {
    HttpError e{413, "too_large", "body exceeds " + std::to_string(limit) + " bytes"};
    if (route == Route::send) {
      metrics.request(Outcome::too_large, seconds_since(started));
      log::info(logger, "request rejected", {{"status", 413}, {"error", e.code}});
    }
    return error_response(e, version, false);
  }

  // A delivery the gateway cannot take is DROPped: daprd retries every other refusal, holding
  // the reply partition (and every later reply on it) for as long as it does.
  Response drop_oversize(unsigned version, bool keep, std::uint64_t bytes) {
    metrics.reply(ReplyClass::malformed);
    log::warn(logger, "oversize reply dropped", {{"bytes", bytes}, {"limit", cfg.max_reply_body}});
    return make_response(http::status::ok, {{"status", "DROP"}}, version, keep && !stopping);
  }

  // Reads and throws away a body announced by Content-Length, so the connection stays usable
  // (daprd keeps its connections alive); header_parser is moved from.
  static asio::awaitable<bool> discard_body(beast::tcp_stream& stream, beast::flat_buffer& buffer,
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

  // A header the parser refused. On the reply route (or a callback-only listener, where the
  // target may not even be known) that is a delivery the gateway cannot take: DROP.
  asio::awaitable<void> answer_bad_header(beast::tcp_stream& stream, http::request_parser<http::string_body>& parser,
                                          unsigned roles, const boost::system::error_code& ec) {
    const bool delivery = roles == kCallback || route_of(parser.get().target(), roles) == Route::reply;
    if (delivery) {
      metrics.reply(ReplyClass::malformed);
      log::warn(logger, "unreadable delivery dropped", {{"error", ec.message()}});
    }
    Response res = delivery ? make_response(http::status::ok, {{"status", "DROP"}}, 11, false)
                            : make_response(http::status::bad_request,
                                            {{"error", "bad_http"}, {"message", ec.message()}}, 11, false);
    stream.expires_after(5s);
    auto [wec, wn] = co_await http::async_write(stream, res, tuple_awaitable);
    if (!wec) co_await linger_close(stream, 2s);
  }

  // Every route but POST /api/send (session hands that to prepare_send/handle_send).
  Response dispatch(const Request& req, unsigned roles, Clock::time_point started) {
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    const unsigned v = req.version();
    const bool keep = req.keep_alive() && !stopping;
    auto method_not_allowed = [&](const char* allow) {
      Response r = make_response(http::status::method_not_allowed,
                                 {{"error", "method_not_allowed"}, {"message", std::string("use ") + allow}}, v, keep);
      r.set(http::field::allow, allow);
      return r;
    };

    if ((roles & kClient) && path == "/api/send") {
      metrics.request(Outcome::bad_request, seconds_since(started));
      return method_not_allowed("POST");
    }
    if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
      if (req.method() != http::verb::get) return method_not_allowed("GET");
      if (path == "/healthz") return make_response(http::status::ok, {{"status", "ok"}}, v, keep);
      if (path == "/readyz") return readyz(v, keep);
      Response r{http::status::ok, v};
      r.set(http::field::content_type, "text/plain; version=0.0.4");
      r.keep_alive(keep);
      r.body() = metrics.render(table.size(), std::chrono::duration<double>(table.oldest_age(Clock::now())).count(),
                                client_open.load(), callback_open.load());
      r.prepare_payload();
      return r;
    }
    if ((roles & kCallback) && (path == "/dapr/subscribe" || path == kReplyRoute)) {
      if (!cfg.app_api_token.empty()) {
        const auto it = req.find("dapr-api-token");
        const std::string given = it == req.end() ? std::string() : std::string(it->value());
        if (given.size() != cfg.app_api_token.size() ||
            CRYPTO_memcmp(given.data(), cfg.app_api_token.data(), given.size()) != 0) {
          metrics.reply(ReplyClass::forged);
          log::warn(logger, "callback rejected: bad dapr-api-token", {{"path", path}});
          return make_response(http::status::unauthorized,
                                  {{"error", "unauthorized"}, {"message", "missing or wrong dapr-api-token"}}, v, keep);
        }
      }
      if (path == "/dapr/subscribe") {
        if (req.method() != http::verb::get) return method_not_allowed("GET");
        return make_response(http::status::ok, subscriptions(), v, keep);
      }
      if (req.method() != http::verb::post) return method_not_allowed("POST");
      return handle_delivery(req, v, keep);
    }
    return make_response(http::status::not_found, {{"error", "not_found"}, {"message", "no route " + path}}, v, keep);
  }

  json subscriptions() const {
    return json::array({{{"pubsubname", cfg.pubsub},
                         {"topic", cfg.subscribed_reply_topic()},
                         {"route", kReplyRoute},
                         {"metadata", {{"rawPayload", "true"}}}}});
  }

  Response readyz(unsigned v, bool keep) const {
    const bool healthy = dapr_healthy.load();
    const bool live = subscription_live.load();
    const bool ready = healthy && live && !stopping;
    return make_response(ready ? http::status::ok : http::status::service_unavailable,
                         {{"ready", ready}, {"daprHealthy", healthy}, {"subscriptionLive", live},
                          {"stopping", stopping.load()}},
                         v, keep);
  }

  // ---- POST /api/send ------------------------------------------------------
  //
  // Split so that a waiting request costs little: prepare_send and the answer builders are
  // plain functions (their temporaries never live in a coroutine frame), and handle_send
  // keeps only a Prepared and a Waiter across its suspensions.

  // What a send needs after its request is gone.
  struct Prepared {
    CorrelationId id;
    std::string target;  // daprd publish target; moved out when published
    std::string body;    // the stamped request; moved out when published
    Clock::time_point started;
    Clock::time_point deadline;
    std::chrono::milliseconds timeout;
    unsigned version;
    bool keep;
  };

  // Validation and the publish call's target and body; a Response when the request is
  // answered without publishing.
  std::variant<Response, Prepared> prepare_send(const Request& req, Clock::time_point started) {
    const unsigned v = req.version();
    const bool keep = req.keep_alive();
    auto reject = [&](const HttpError& e, Outcome o) {
      metrics.request(o, seconds_since(started));
      log::info(logger, "request rejected", {{"status", e.status}, {"error", e.code}, {"message", e.message}});
      // During shutdown a kept-alive client is told to go (and the connection ends), like every other answer.
      return error_response(e, v, keep && !stopping);
    };
    if (stopping) return reject({503, "shutdown", "gateway is shutting down"}, Outcome::shutdown);

    const auto ct = req.find(http::field::content_type);
    auto validated = validate_send(ct == req.end() ? std::string_view() : std::string_view(ct->value()), req.body(),
                                   cfg.max_body);
    if (auto* e = std::get_if<HttpError>(&validated)) {
      const Outcome o = e->status == 413 ? Outcome::too_large
                        : e->status == 415 ? Outcome::unsupported_media
                                           : Outcome::bad_request;
      return reject(*e, o);
    }
    const auto th = req.find("X-Request-Timeout-Ms");
    auto timeout = request_timeout(th == req.end() ? std::nullopt : std::optional<std::string_view>(th->value()),
                                   cfg.timeout, cfg.max_timeout);
    if (auto* e = std::get_if<HttpError>(&timeout)) return reject(*e, Outcome::bad_request);
    const auto timeout_ms = std::get<std::chrono::milliseconds>(timeout);

    Prepared p{new_correlation_id(), {}, {}, started, started + timeout_ms, timeout_ms, v, keep};
    p.target = "/v1.0/publish/" + url_encode(cfg.pubsub) + "/" + url_encode(cfg.request_topic) +
               "?metadata.rawPayload=true&metadata.partitionKey=" + url_encode(p.id.str()) +
               "&metadata.correlationId=" + url_encode(p.id.str());
    if (cfg.reply_mode == ReplyMode::reply_to) {
      p.target += "&metadata.replyTo=" + url_encode(cfg.subscribed_reply_topic());
    }
    p.body = stamp_request(std::get<json>(std::move(validated)), cfg.id_field, p.id.str()).dump();
    return p;
  }

  Response answer(const Prepared& p, http::status status, const json& body, Outcome o) {
    metrics.request(o, seconds_since(p.started));
    Response r = make_response(status, body, p.version, p.keep && !stopping);
    r.set("X-Correlation-Id", p.id.str());
    log::info(logger, "request answered",
              {{"cid", p.id.str()}, {"status", static_cast<int>(status)}, {"outcome", to_string(o)},
               {"ms", seconds_since(p.started) * 1000.0}});
    return r;
  }

  Response timeout_answer(const Prepared& p) {
    return answer(p, http::status::gateway_timeout,
                  {{"correlationId", p.id.str()}, {"error", "timeout"}, {"timeoutMs", p.timeout.count()}},
                  Outcome::timeout);
  }

  // The answer when the table refused the entry; nullopt when it was inserted.
  std::optional<Response> register_pending(const Prepared& p, const std::shared_ptr<Waiter>& waiter) {
    PendingTable::Notify notify = [waiter](Completion c) {
      asio::post(waiter->timer.get_executor(), [waiter, c = std::move(c)]() mutable {
        waiter->result = std::move(c);
        waiter->timer.cancel();
      });
    };
    switch (table.insert(p.id, p.started, std::move(notify))) {
      case PendingTable::Insert::inserted: return std::nullopt;
      case PendingTable::Insert::full: {
        Response r = answer(p, http::status::service_unavailable,
                            {{"correlationId", p.id.str()}, {"error", "overloaded"},
                             {"message", "max pending requests (" + std::to_string(cfg.max_pending) + ") reached"}},
                            Outcome::overloaded);
        r.set(http::field::retry_after, "1");
        return r;
      }
      case PendingTable::Insert::closed:
        return answer(p, http::status::service_unavailable, {{"correlationId", p.id.str()}, {"error", "shutdown"}},
                      Outcome::shutdown);
      case PendingTable::Insert::duplicate_id:  // a UUIDv4 collision: practically impossible, still not silent
        break;
    }
    return answer(p, http::status::internal_server_error, {{"correlationId", p.id.str()}, {"error", "id_collision"}},
                  Outcome::publish_failed);
  }

  // After a failed publish: the answer if we removed the entry ourselves, nullopt when someone
  // else (a reply, or shutdown) removed it first and their answer is on its way to the waiter.
  std::optional<Response> publish_failed(const Prepared& p, const DaprResult& published) {
    const bool timed_out = published.kind == DaprResult::Kind::timeout;
    if (!table.finish(p.id, timed_out ? Finish::timed_out : Finish::publish_failed, Clock::now())) return std::nullopt;
    // Busy is the overload answer (like 503 overloaded): not a warning per request, which at
    // thousands per second would cost the CPU the overloaded gateway lacks.
    const bool busy = published.kind == DaprResult::Kind::busy;
    (busy ? log::info : log::warn)(logger, "publish failed",
              {{"cid", p.id.str()}, {"status", published.status}, {"error", published.error},
               {"dapr", published.body.substr(0, 512)}});
    if (timed_out) return timeout_answer(p);
    if (busy) {
      // Nothing was sent: the client may retry at once, elsewhere or a moment later.
      Response r = answer(p, http::status::service_unavailable,
                          {{"correlationId", p.id.str()},
                           {"error", "dapr_busy"},
                           {"message", "no connection to daprd free within " +
                                           std::to_string(cfg.dapr_acquire_timeout.count()) + " ms"}},
                          Outcome::publish_failed);
      r.set(http::field::retry_after, "1");
      return r;
    }
    const bool unreachable = published.kind == DaprResult::Kind::unreachable;
    return answer(p, unreachable ? http::status::service_unavailable : http::status::bad_gateway,
                  {{"correlationId", p.id.str()},
                   {"error", unreachable ? "dapr_unavailable" : "publish_rejected"},
                   {"message", published.error.empty() ? "daprd answered " + std::to_string(published.status) + ": " +
                                                             published.body.substr(0, 512)
                                                       : published.error}},
                  Outcome::publish_failed);
  }

  Response completed_answer(const Prepared& p, Completion& done) {
    if (done.how == Finish::replied) {
      return answer(p, http::status::ok, {{"correlationId", p.id.str()}, {"response", std::move(done.reply)}},
                    Outcome::ok);
    }
    return answer(p, http::status::service_unavailable,
                  {{"correlationId", p.id.str()}, {"error", "shutdown"}, {"message", "gateway is shutting down"}},
                  Outcome::shutdown);
  }

  // Readable while waiting: true when the client closed (EOF / reset), false when it merely
  // pipelined more bytes.
  static bool client_closed(tcp::socket& socket) {
    char byte = 0;
    boost::system::error_code ec;
    const std::size_t n = socket.receive(asio::buffer(&byte, 1), tcp::socket::message_peek, ec);
    return ec || n == 0;
  }

  // The publish of one request, beside its waiter on the session's strand: the waiter answers
  // the client at the deadline whatever the publish is doing, and a publish still waiting for
  // a daprd connection by then is never sent (the waiter's abandoned flag).
  asio::awaitable<void> publish(std::shared_ptr<Waiter> waiter, std::string target, std::string body,
                                Clock::time_point deadline) {
    const Clock::time_point publish_start = Clock::now();
    DaprResult published =
        co_await dapr.call("POST", std::move(target), std::move(body), deadline,
                           {publish_start + cfg.dapr_acquire_timeout, &waiter->abandoned});
    if (published.kind == DaprResult::Kind::abandoned) co_return;
    metrics.publish(seconds_since(publish_start));
    if (published.ok()) co_return;
    waiter->publish_failure = std::make_unique<DaprResult>(std::move(published));
    waiter->timer.cancel();
  }

  // Publishes and waits for the reply, the deadline, a failed publish or the client leaving,
  // whichever comes first; nullopt when the client left (nobody to answer).
  asio::awaitable<std::optional<Response>> handle_send(Prepared p, beast::tcp_stream& stream) {
    const auto ex = co_await asio::this_coro::executor;
    auto waiter = std::make_shared<Waiter>(ex);
    if (auto refused = register_pending(p, waiter)) co_return std::move(*refused);

    // The reply may arrive before daprd even answers the publish: the waiter holds it.
    asio::co_spawn(ex, publish(waiter, std::move(p.target), std::move(p.body), p.deadline), asio::detached);

    // One plain wait on the timer: the reply's notify cancels it, and so do a failed publish and
    // the socket becoming readable (the client closing, or pipelining), watched once by a callback.
    tcp::socket& socket = stream.socket();
    socket.async_wait(tcp::socket::wait_read, [waiter](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled when the wait ends, or the socket failed: nothing to watch
      waiter->readable = true;
      waiter->timer.cancel();
    });
    bool lost_race = false;  // our removal attempt failed: the winner's notify is on its way
    std::optional<Response> res;
    for (;;) {
      // Checked before every wait: a cancel that came while we were not waiting is not lost.
      if (waiter->result) break;
      if (waiter->publish_failure && !lost_race) {
        res = publish_failed(p, *waiter->publish_failure);
        if (res) break;
        lost_race = true;
        continue;
      }
      if (waiter->readable) {
        waiter->readable = false;  // not re-armed: a client that pipelines is no longer watched
        if (client_closed(socket)) {
          if (table.finish(p.id, Finish::client_gone, Clock::now())) {
            metrics.request(Outcome::client_gone, seconds_since(p.started));
            log::info(logger, "client gone before the reply", {{"cid", p.id.str()}});
            break;
          }
          lost_race = true;
        }
        continue;
      }
      waiter->timer.expires_at(lost_race ? Clock::time_point::max() : p.deadline);
      const auto [tec] = co_await waiter->timer.async_wait(tuple_awaitable);
      if (tec || lost_race || waiter->result || waiter->publish_failure || waiter->readable) continue;
      if (table.finish(p.id, Finish::timed_out, Clock::now())) {
        res = timeout_answer(p);
        break;
      }
      lost_race = true;
    }
    waiter->abandoned = true;  // answered (or gone): a publish not yet sent must not be
    boost::system::error_code ignored;
    socket.cancel(ignored);  // ends the readable watch, if still armed
    if (waiter->result) res = completed_answer(p, *waiter->result);
    co_return res;
  }

  // ---- deliveries from daprd -------------------------------------------------

  Response handle_delivery(const Request& req, unsigned v, bool keep) {
    static const json kSuccess = {{"status", "SUCCESS"}};
    static const json kDrop = {{"status", "DROP"}};
    auto parsed = parse_delivery(req.body(), cfg.id_field);
    if (!parsed.delivery) {
      metrics.reply(ReplyClass::malformed);
      log::warn(logger, "malformed reply dropped", {{"error", parsed.error}, {"bytes", req.body().size()}});
      return make_response(http::status::ok, kDrop, v, keep);
    }
    Delivery& d = *parsed.delivery;
    if (d.probe) {
      metrics.reply(ReplyClass::probe);
      if (d.id.rfind(own_probe_prefix, 0) == 0 && !subscription_live.exchange(true)) {
        log::info(logger, "reply subscription live", {{"cid", d.id}, {"topic", cfg.subscribed_reply_topic()}});
      }
      return make_response(http::status::ok, kSuccess, v, keep);
    }
    auto classified = table.classify_reply(CorrelationId(d.id), Clock::now());
    metrics.reply(classified.cls);
    if (classified.cls == ReplyClass::matched) {
      log::debug(logger, "reply matched", {{"cid", d.id}});
      classified.notify(Completion{Finish::replied, std::move(d.reply)});
    } else {
      // In broadcast mode every other instance's reply is "unknown" here: expected, so not a warning.
      const bool expected = classified.cls == ReplyClass::unknown && cfg.reply_mode == ReplyMode::broadcast;
      (expected ? log::debug : log::info)(logger, "reply not delivered",
                                          {{"cid", d.id}, {"class", to_string(classified.cls)}});
    }
    return make_response(http::status::ok, kSuccess, v, keep);
  }

  // ---- readiness -------------------------------------------------------------

  // Keeps dapr_healthy current and, until a self-addressed probe has come back through
  // Kafka and daprd, keeps sending probes: only then can no early reply be lost.
  asio::awaitable<void> readiness_loop() {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    while (!stopping) {
      const DaprResult health = co_await dapr.call("GET", "/v1.0/healthz", "", Clock::now() + 1s);
      const bool healthy = health.ok();
      if (healthy != dapr_healthy.exchange(healthy)) {
        log::info(logger, healthy ? "daprd healthy" : "daprd unhealthy",
                  {{"status", health.status}, {"error", health.error}});
      }
      if (!healthy) {
        if (subscription_live.exchange(false)) log::warn(logger, "reply subscription no longer proven");
      } else if (!subscription_live) {
        const std::string probe_id = own_probe_prefix + new_uuid_v4();
        const json probe = {{cfg.id_field, probe_id}, {"rrkitProbe", true}};
        const auto r = co_await dapr.call("POST",
                                          "/v1.0/publish/" + url_encode(cfg.pubsub) + "/" +
                                              url_encode(cfg.subscribed_reply_topic()) +
                                              "?metadata.rawPayload=true&metadata.partitionKey=" + url_encode(probe_id),
                                          probe.dump(), Clock::now() + 2s);
        log::debug(logger, "probe published", {{"cid", probe_id}, {"ok", r.ok()}, {"status", r.status}});
      }
      timer.expires_after(subscription_live ? 1s : 250ms);
      co_await timer.async_wait(tuple_awaitable);
    }
  }

  // ---- shutdown --------------------------------------------------------------

  asio::awaitable<void> shutdown(int signal_number) {
    stopping = true;
    log::info(logger, "shutting down", {{"signal", signal_number}, {"pending", table.size()}});
    for (auto& acc : acceptors) {
      boost::system::error_code ignored;
      acc->close(ignored);
    }
    const auto waiting = table.close(Clock::now());
    for (const auto& notify : waiting) notify(Completion{Finish::shutdown, {}});
    // Let every answer (replies, 503s) be written before the loop stops.
    asio::steady_timer timer(control);
    const auto give_up = Clock::now() + 10s;
    while (active.load() > 0 && Clock::now() < give_up) {
      timer.expires_after(10ms);
      co_await timer.async_wait(tuple_awaitable);
    }
    log::info(logger, "stopped", {{"answered_on_shutdown", waiting.size()}, {"unfinished", active.load()}});
    dapr.close_idle();
    ioc.stop();
  }

  int run() {
    const auto client_ep = parse_endpoint(cfg.listen);
    const auto callback_ep = parse_endpoint(cfg.callback_listen);
    if (!client_ep || !callback_ep) {
      log::error(logger, "invalid listen address", {{"listen", cfg.listen}, {"callback_listen", cfg.callback_listen}});
      return 2;
    }
    const bool shared = client_ep->host == callback_ep->host && client_ep->port == callback_ep->port;
    const std::size_t fd_limit = descriptor_limit();
    const std::size_t want_client = cfg.max_client_connections == 0 ? SIZE_MAX : cfg.max_client_connections;
    caps = connection_caps(fd_limit, want_client, cfg.max_callback_connections, cfg.dapr_connections, shared);
    const bool warn = caps.reduced && cfg.max_client_connections != 0;
    (warn ? log::warn : log::info)(
        logger, warn ? "connection caps lowered to fit the descriptor limit" : "connection caps",
        {{"client", caps.client}, {"callback", caps.callback}, {"descriptor_limit", fd_limit},
         {"dapr_connections", cfg.dapr_connections}, {"reserved", kReservedDescriptors}});
    if (shared) {
      if (!bind(*client_ep, kClient | kCallback)) return 2;
    } else if (!bind(*client_ep, kClient) || !bind(*callback_ep, kCallback)) {
      return 2;
    }
    signals.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (!ec) asio::co_spawn(control, shutdown(sig), asio::detached);
    });
    asio::co_spawn(asio::make_strand(ioc), readiness_loop(), asio::detached);
    log::info(logger, "started",
              {{"instance", cfg.instance_id}, {"dapr_http_port", cfg.dapr_http_port}, {"pubsub", cfg.pubsub},
               {"request_topic", cfg.request_topic}, {"reply_topic", cfg.subscribed_reply_topic()},
               {"reply_mode", cfg.reply_mode == ReplyMode::reply_to ? "reply-to" : "broadcast"},
               {"threads", cfg.threads}});
    std::vector<std::thread> extra;
    for (unsigned i = 1; i < cfg.threads; ++i) extra.emplace_back([this] { ioc.run(); });
    ioc.run();
    for (auto& t : extra) t.join();
    return 0;
  }
};

Gateway::Gateway(Config config, log::Logger logger) : impl_(std::make_unique<Impl>(std::move(config), std::move(logger))) {}
Gateway::~Gateway() = default;
int Gateway::run() { return impl_->run(); }

}  // namespace rrkit::gateway
