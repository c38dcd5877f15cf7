#include "gateway/gateway.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/resource.h>

#include <cstdint>
#include <thread>
#include <vector>

#include "gateway/dapr_client.h"
#include "gateway/deliveries.h"
#include "gateway/executors.h"
#include "gateway/http_server.h"
#include "gateway/limits.h"
#include "gateway/readiness.h"
#include "gateway/routes.h"
#include "gateway/send_flow.h"
#include "gateway/state.h"

namespace rrkit::gateway {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

std::size_t descriptor_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY) return SIZE_MAX;
  return static_cast<std::size_t>(lim.rlim_cur);
}

// One I/O thread, and nothing else touches the io_context (no other thread posts to it or
// stops it): its scheduler and reactor need no locks. Several threads: the usual locking.
int concurrency_hint(const Config& cfg) {
  return cfg.single_thread() ? BOOST_ASIO_CONCURRENCY_HINT_UNSAFE : static_cast<int>(cfg.threads);
}

}  // namespace

// The wiring: every room built once, in the order they depend on each other.
struct Gateway::Impl {
  Impl(Config c, log::Logger l)
      : state(std::move(c), std::move(l)),
        ioc(concurrency_hint(state.cfg)),
        control(connection_executor(ioc, state.cfg.single_thread())),
        signals(control, SIGTERM, SIGINT),
        dapr(ioc, {state.cfg.dapr_host, state.cfg.dapr_http_port, state.cfg.dapr_api_token, state.cfg.dapr_connections,
                   state.cfg.single_thread()}),
        readiness(state, dapr),
        deliveries(state, readiness),
        send(state, dapr),
        routes(state, readiness, deliveries, send),
        server(state, ioc, control, routes, send, deliveries) {
    if (state.cfg.single_thread()) state.reaper.attach(ioc.get_executor());
  }
  // The reaper's timer goes before the io_context; the reaper itself outlives it (see state.h).
  ~Impl() { state.reaper.detach(); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  // Outlives the io_context: session frames that the io_context destroys still count themselves
  // out of it. The pending table is empty by then (shutdown closes it), so it holds no timer.
  State state;
  asio::io_context ioc;  // declared before every I/O object: destroyed after them
  asio::any_io_executor control;  // acceptors, signals, shutdown (a strand with several threads)
  asio::signal_set signals;
  DaprClient dapr;
  Readiness readiness;
  Deliveries deliveries;
  SendFlow send;
  Routes routes;
  HttpServer server;

  // Stops accepting, answers every waiting client (503 shutdown unless its reply is in), lets
  // the answers be written, then stops the loop.
  asio::awaitable<void> shutdown(int signal_number) {
    state.stopping = true;
    log::info(state.logger, "shutting down", {{"signal", signal_number}, {"pending", state.table.size()}});
    server.close();
    const auto waiting = state.table.close(Clock::now());
    for (const auto& notify : waiting) notify(Completion{Finish::shutdown, {}});
    asio::steady_timer timer(control);
    const auto give_up = Clock::now() + 10s;
    while (state.active.load() > 0 && Clock::now() < give_up) {
      timer.expires_after(10ms);
      co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    log::info(state.logger, "stopped",
              {{"answered_on_shutdown", waiting.size()}, {"unfinished", state.active.load()}});
    dapr.close_idle();
    ioc.stop();
  }

  int run() {
    const Config& cfg = state.cfg;
    const auto client_ep = parse_endpoint(cfg.listen);
    const auto callback_ep = parse_endpoint(cfg.callback_listen);
    if (!client_ep || !callback_ep) {
      log::error(state.logger, "invalid listen address",
                 {{"listen", cfg.listen}, {"callback_listen", cfg.callback_listen}});
      return 2;
    }
    const bool shared = client_ep->host == callback_ep->host && client_ep->port == callback_ep->port;
    const std::size_t fd_limit = descriptor_limit();
    const std::size_t want_client = cfg.max_client_connections == 0 ? SIZE_MAX : cfg.max_client_connections;
    const ConnectionCaps caps =
        connection_caps(fd_limit, want_client, cfg.max_callback_connections, cfg.dapr_connections, shared);
    const bool warn = caps.reduced && cfg.max_client_connections != 0;
    (warn ? log::warn : log::info)(
        state.logger, warn ? "connection caps lowered to fit the descriptor limit" : "connection caps",
        {{"client", caps.client}, {"callback", caps.callback}, {"descriptor_limit", fd_limit},
         {"dapr_connections", cfg.dapr_connections}, {"reserved", kReservedDescriptors}});
    server.set_caps(caps);
    if (shared) {
      if (!server.bind(*client_ep, kClient | kCallback)) return 2;
    } else if (!server.bind(*client_ep, kClient) || !server.bind(*callback_ep, kCallback)) {
      return 2;
    }
    signals.async_wait([this](const boost::system::error_code& ec, int sig) {
      if (!ec) asio::co_spawn(control, shutdown(sig), asio::detached);
    });
    asio::co_spawn(connection_executor(ioc, cfg.single_thread()), readiness.run(), asio::detached);
    log::info(state.logger, "started",
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
