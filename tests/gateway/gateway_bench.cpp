// rr-gateway figures on the real stack (not a test: prints numbers):
//   1. RSS and thread count of rr-gateway when idle and with N requests waiting at once
//      (the replier does not answer);
//   2. p50/p99 client-side latency of M sequential requests with an immediate replier;
//   3. how late a 504 comes: K sequential requests nobody answers, with a 200 ms timeout header,
//      answered this long after their timeout (seen from the client). The end-to-end tests only
//      bound this loosely, with margins a loaded machine keeps; this is the figure.
// Usage: gateway_bench [--waiting 10000] [--sequential 1000] [--timeouts 50]
#include <signal.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <cstdio>
#include <iostream>

#include "common/ids.h"
#include "tests/gateway/e2e_support.h"

using namespace rrkit;
using namespace rrkit::gateway_test;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

struct Tally {
  int done = 0;
  std::map<int, int> by_status;
};

int status_of(const std::string& response) {
  // "HTTP/1.1 503 ..."
  return response.size() > 12 ? std::atoi(response.c_str() + 9) : 0;
}

// One waiting client: a connection, one request, read until the server closes or answers.
asio::awaitable<void> waiting_client(std::uint16_t port, int timeout_ms, Tally& tally) {
  auto ex = co_await asio::this_coro::executor;
  tcp::socket socket(ex);
  auto [cec] = co_await socket.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                             asio::as_tuple(asio::use_awaitable));
  std::string response;
  if (!cec) {
    const std::string body = "{\"mode\":\"silent\",\"nonce\":\"" + new_uuid_v4() + "\"}";
    const std::string req = "POST /api/send HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                            "Content-Type: application/json\r\nX-Request-Timeout-Ms: " +
                            std::to_string(timeout_ms) + "\r\nContent-Length: " + std::to_string(body.size()) +
                            "\r\n\r\n" + body;
    auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(req), asio::as_tuple(asio::use_awaitable));
    if (!wec) {
      co_await asio::async_read(socket, asio::dynamic_buffer(response), asio::as_tuple(asio::use_awaitable));
    }
  }
  ++tally.done;
  ++tally.by_status[status_of(response)];
}

double percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  const auto idx = static_cast<std::size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(idx, v.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  int waiting = 10000;
  int sequential = 1000;
  int timeouts = 50;
  CLI::App app{"rr-gateway bench: memory/threads under waiting load, sequential latency"};
  app.add_option("--waiting", waiting, "requests waiting at once");
  app.add_option("--sequential", sequential, "sequential requests with an immediate replier");
  app.add_option("--timeouts", timeouts, "sequential requests left unanswered, for the 504's lateness");
  CLI11_PARSE(app, argc, argv);

  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);

  try {
    auto& shared = SharedStack::get();
    Replier replier(shared.kafka->brokers());
    InstanceOptions o;
    o.app_id = "gw-bench";
    // The burst of publishes queues for the daprd connections: with the default acquire wait
    // (100 ms) a loaded machine answers most of them 503 dapr_busy, and they never wait.
    o.extra_args = {"--max-pending", std::to_string(waiting + 100), "--timeout", "60s", "--log-level", "warn",
                    "--dapr-acquire-timeout", "60s"};
    Instance gw(o);
    std::string error;
    if (!gw.start(error)) {
      std::cerr << error << "\n";
      return 2;
    }
    const int pid = gw.gateway().pid();

    // Warm up: connections to daprd, the reply path.
    for (int i = 0; i < 50; ++i) send(gw.port(), {{"warm", i}});

    std::vector<double> ms;
    ms.reserve(static_cast<std::size_t>(sequential));
    int failures = 0;
    for (int i = 0; i < sequential; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = send(gw.port(), {{"i", i}, {"nonce", new_uuid_v4()}});
      ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
      if (r.status != 200) ++failures;
    }
    std::printf("sequential: %d requests, %d non-200, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms\n", sequential,
                failures, percentile(ms, 0.5), percentile(ms, 0.9), percentile(ms, 0.99), percentile(ms, 1.0));

    constexpr int kTimeoutMs = 200;
    std::vector<double> late_ms;
    int not_504 = 0;
    for (int i = 0; i < timeouts; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto r = send(gw.port(), {{"mode", "silent"}, {"i", i}}, kTimeoutMs);
      late_ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() -
                        kTimeoutMs);
      if (r.status != 504) ++not_504;
    }
    if (!late_ms.empty()) {
      std::printf("timeouts: %d requests with a %d ms timeout, %d non-504, answered after the timeout by p50 %.2f ms, "
                  "p99 %.2f ms, max %.2f ms (min %.2f ms)\n",
                  timeouts, kTimeoutMs, not_504, percentile(late_ms, 0.5), percentile(late_ms, 0.99),
                  percentile(late_ms, 1.0), percentile(late_ms, 0.0));
    }

    const auto idle = proc_status(pid);
    std::printf("idle (after the sequential run): RSS %ld kB, threads %ld\n", idle.rss_kb, idle.threads);

    replier.set_silent(true);
    asio::io_context ioc;
    Tally tally;
    for (int i = 0; i < waiting; ++i) asio::co_spawn(ioc, waiting_client(gw.port(), 120000, tally), asio::detached);
    std::thread client([&] { ioc.run(); });
    const auto t0 = std::chrono::steady_clock::now();
    const bool all_waiting = proc::wait_until(
        [&] {
          const auto pending = gw.metric("rr_gateway_pending").value;
          return pending && *pending >= waiting;
        },
        std::chrono::seconds(120), 200ms);
    const double fill_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto loaded = proc_status(pid);
    const auto pending = gw.metric("rr_gateway_pending");
    std::string pending_text = "unreadable (" + pending.error + ")";
    if (pending.value) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", *pending.value);
      pending_text = buf;
    }
    std::printf("waiting: %d requests pending=%s (reached: %s in %.1f s): RSS %ld kB, threads %ld\n", waiting,
                pending_text.c_str(), all_waiting ? "yes" : "NO", fill_s, loaded.rss_kb, loaded.threads);

    // Graceful shutdown under load: every waiting client must get an answer.
    const auto s0 = std::chrono::steady_clock::now();
    proc::signal_group(pid, SIGTERM);
    client.join();
    const double shut_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    proc::wait_gone(pid, std::chrono::seconds(10));
    std::printf("SIGTERM with %d waiting: all answered in %.2f s, exit %d; statuses:", tally.done, shut_s,
                gw.gateway().exit_status());
    for (const auto& [status, n] : tally.by_status) std::printf(" %d x%d", status, n);
    std::printf("\n");
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench failed: " << e.what() << "\n";
    return 2;
  }
}
