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

#include <atomic>
#include <optional>
#include <variant>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "gateway/dapr_client.h"
#include "gateway/delivery.h"
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

enum Role : unsigned { kClient = 1, kCallback = 2 };

constexpr const char* kReplyRoute = "/dapr/replies";

Response make_response(http::status status, const json& body, unsigned version, bool keep_alive) {
  Response res{status, version};
  res.set(http::field::content_type, "application/json");
  res.set(http::field::server, "rr-gateway");
  res.keep_alive(keep_alive);
  res.body() = body.dump(-1, ' ', false, json::error_handler_t::replace);
  res.prepare_payload();
  return res;
}

Response error_response(const HttpError& e, unsigned version, bool keep_alive) {
  return make_response(static_cast<http::status>(e.status), e.body(), version, keep_alive);
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// The waiting side of a pending request; lives on its session's strand.
struct Waiter {
  explicit Waiter(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  std::optional<Completion> result;
  bool readable = false;  // the client's socket became readable while waiting
};

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
      auto ex = socket.get_executor();
      asio::co_spawn(ex, session(std::move(socket), roles), asio::detached);
    }
  }

  // ---- one connection ------------------------------------------------------

  asio::awaitable<void> session(tcp::socket socket, unsigned roles) {
    try {
      beast::tcp_stream stream(std::move(socket));
      beast::flat_buffer buffer;
      for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(16 * 1024);
        stream.expires_after(120s);  // idle keep-alive connections are closed after this
        auto [hec, hn] = co_await http::async_read_header(stream, buffer, parser, tuple_awaitable);
        if (hec) {
          if (hec != http::error::end_of_stream && hec != beast::error::timeout &&
              hec != asio::error::connection_reset && hec != asio::error::operation_aborted) {
            stream.expires_after(5s);
            Response bad = make_response(http::status::bad_request,
                                         {{"error", "bad_http"}, {"message", hec.message()}}, 11, false);
            co_await http::async_write(stream, bad, tuple_awaitable);
          }
          break;
        }
        struct Active {
          std::atomic<int>& n;
          explicit Active(std::atomic<int>& a) : n(a) { ++n; }
          ~Active() { --n; }
        } in_flight(active);

        const Clock::time_point started = Clock::now();
        const std::string target(parser.get().target());
        const bool is_send = target.substr(0, target.find('?')) == "/api/send";
        // Deliveries carry the reply inside a (possibly base64) envelope: allow for that.
        parser.body_limit(is_send ? cfg.max_body : cfg.max_body * 2 + 64 * 1024);
        stream.expires_after(30s);
        auto [bec, bn] = co_await http::async_read(stream, buffer, parser, tuple_awaitable);
        if (bec == http::error::body_limit) {
          HttpError e{413, "too_large", "body exceeds " + std::to_string(is_send ? cfg.max_body : cfg.max_body * 2) +
                                            " bytes"};
          if (is_send) {
            metrics.request(Outcome::too_large, seconds_since(started));
            log::info(logger, "request rejected", {{"status", 413}, {"error", e.code}});
          }
          Response res = error_response(e, parser.get().version(), false);
          stream.expires_after(5s);
          co_await http::async_write(stream, res, tuple_awaitable);
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
          if ((roles & kClient) && is_send && req.method() == http::verb::post) {
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
        const bool keep = res->keep_alive();
        stream.expires_after(30s);
        auto [wec, wn] = co_await http::async_write(stream, *res, tuple_awaitable);
        if (wec || !keep) break;
      }
      boost::system::error_code ignored;
      stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    } catch (const std::exception& e) {
      log::error(logger, "session failed", {{"error", e.what()}});
    }
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
      r.body() = metrics.render(table.size(), std::chrono::duration<double>(table.oldest_age(Clock::now())).count());
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
      return error_response(e, v, keep);
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
    log::warn(logger, "publish failed",
              {{"cid", p.id.str()}, {"status", published.status}, {"error", published.error},
               {"dapr", published.body.substr(0, 512)}});
    if (timed_out) return timeout_answer(p);
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

  // Publishes and waits for the reply, the deadline or the client leaving, whichever comes
  // first; nullopt when the client left (nobody to answer).
  asio::awaitable<std::optional<Response>> handle_send(Prepared p, beast::tcp_stream& stream) {
    auto waiter = std::make_shared<Waiter>(co_await asio::this_coro::executor);
    if (auto refused = register_pending(p, waiter)) co_return std::move(*refused);

    // Publish. The reply may arrive before daprd even answers the publish: the waiter holds it.
    const Clock::time_point publish_start = Clock::now();
    const DaprResult published = co_await dapr.call("POST", std::move(p.target), std::move(p.body), p.deadline);
    metrics.publish(seconds_since(publish_start));
    if (!published.ok()) {
      if (auto failed = publish_failed(p, published)) co_return std::move(*failed);
    } else {
      log::debug(logger, "request published", {{"cid", p.id.str()}, {"timeoutMs", p.timeout.count()}});
    }

    // One plain wait on the timer: the reply's notify cancels it, and so does the socket
    // becoming readable (the client closing, or pipelining), watched once by a callback.
    tcp::socket& socket = stream.socket();
    socket.async_wait(tcp::socket::wait_read, [waiter](const boost::system::error_code& ec) {
      if (ec) return;  // cancelled when the wait ends, or the socket failed: nothing to watch
      waiter->readable = true;
      waiter->timer.cancel();
    });
    bool lost_race = false;  // our removal attempt failed: the winner's notify is on its way
    std::optional<Response> res;
    while (!waiter->result) {
      waiter->timer.expires_at(lost_race ? Clock::time_point::max() : p.deadline);
      const auto [tec] = co_await waiter->timer.async_wait(tuple_awaitable);
      if (waiter->result) break;
      if (waiter->readable) {
        waiter->readable = false;  // not re-armed: a client that pipelines is no longer watched
        if (!client_closed(socket)) continue;
        if (table.finish(p.id, Finish::client_gone, Clock::now())) {
          metrics.request(Outcome::client_gone, seconds_since(p.started));
          log::info(logger, "client gone before the reply", {{"cid", p.id.str()}});
          break;
        }
        lost_race = true;
        continue;
      }
      if (!tec && !lost_race) {
        if (table.finish(p.id, Finish::timed_out, Clock::now())) {
          res = timeout_answer(p);
          break;
        }
        lost_race = true;
      }
    }
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
