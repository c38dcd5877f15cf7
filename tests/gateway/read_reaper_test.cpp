#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "gateway/read_reaper.h"

namespace read_reaper_test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using rrkit::gateway::ReadReaper;
using Clock = ReadReaper::Clock;
using namespace std::chrono_literals;

struct Result {
  boost::system::error_code ec;
  std::size_t n = 0;
  Clock::time_point done;
};

// Connections on the loopback whose server sides are read through one reaper.
struct Rig {
  ReadReaper reaper;  // outlives the io_context, as in the gateway's State
  asio::io_context ioc{1};
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  std::vector<std::unique_ptr<tcp::socket>> clients, servers;
  Rig() { reaper.attach(ioc.get_executor()); }
  ~Rig() { reaper.detach(); }

  std::size_t connect() {
    clients.push_back(std::make_unique<tcp::socket>(ioc));
    servers.push_back(std::make_unique<tcp::socket>(ioc));
    clients.back()->connect(acceptor.local_endpoint());
    acceptor.accept(*servers.back());
    return servers.size() - 1;
  }

  // Starts a read of connection i through the reaper; `out` is set when it completes.
  void start(std::size_t i, Clock::duration timeout, std::optional<Result>& out) {
    asio::co_spawn(
        ioc,
        [this, i, timeout, &out]() -> asio::awaitable<void> {
          std::array<char, 64> buf{};
          auto [ec, n] = co_await reaper.read_some(*servers[i], asio::buffer(buf), timeout);
          out = Result{ec, n, Clock::now()};
        },
        asio::detached);
  }

  // Runs the loop until `done` holds; ctest's timeout is the backstop should it never.
  template <typename Pred>
  void run_until(Pred done) {
    ioc.restart();
    while (!done() && ioc.run_one() > 0) {
    }
    REQUIRE(done());
  }

  Result read(std::size_t i, Clock::duration timeout) {
    std::optional<Result> r;
    start(i, timeout, r);
    run_until([&] { return r.has_value(); });
    return *r;
  }
};

TEST_CASE("read reaper: a read that gets nothing is cut off at its timeout, and the connection stays usable") {
  Rig rig;
  const auto c = rig.connect();
  const auto start = Clock::now();
  const auto r = rig.read(c, 50ms);
  CHECK(r.ec == boost::beast::error::timeout);
  CHECK(r.done >= start + 50ms);
  CHECK(rig.reaper.waiting() == 0);
  asio::write(*rig.clients[c], asio::buffer(std::string_view("GET /")));
  const auto again = rig.read(c, 10s);
  CHECK_FALSE(again.ec);
  CHECK(again.n == 5);
}

TEST_CASE("read reaper: reads that complete arm the one timer once, not once per read") {
  Rig rig;
  const auto a = rig.connect();
  const auto b = rig.connect();
  for (int i = 0; i < 100; ++i) {
    for (const auto c : {a, b}) {
      asio::write(*rig.clients[c], asio::buffer(std::string_view("x")));
      const auto r = rig.read(c, 60s);
      REQUIRE_FALSE(r.ec);
      CHECK(r.n == 1);
    }
  }
  CHECK(rig.reaper.arms() == 1);
  CHECK(rig.reaper.waiting() == 0);
}

TEST_CASE("read reaper: each read is cut off at its own deadline, whatever its lane and its neighbours") {
  Rig rig;
  const auto idle = rig.connect();
  const auto quick = rig.connect();
  const auto answered = rig.connect();
  const auto start = Clock::now();
  std::optional<Result> r_idle, r_quick, r_answered;
  rig.start(idle, 60s, r_idle);         // armed for a minute: the shorter lane must arm it earlier
  rig.start(answered, 150ms, r_answered);
  rig.start(quick, 50ms, r_quick);
  asio::write(*rig.clients[answered], asio::buffer(std::string_view("ok")));
  rig.run_until([&] { return r_quick.has_value() && r_answered.has_value(); });
  CHECK_FALSE(r_answered->ec);
  CHECK(r_answered->n == 2);
  CHECK(r_quick->ec == boost::beast::error::timeout);
  CHECK(r_quick->done >= start + 50ms);
  CHECK(r_quick->done < start + 30s);
  CHECK_FALSE(r_idle.has_value());
  CHECK(rig.reaper.waiting() == 1);
  // The one still waiting is not cut off by its neighbours' deadlines.
  asio::write(*rig.clients[idle], asio::buffer(std::string_view("late")));
  rig.run_until([&] { return r_idle.has_value(); });
  CHECK_FALSE(r_idle->ec);
  CHECK(r_idle->n == 4);
}

TEST_CASE("read reaper: a timer that fires for a read already done is armed for the next one's deadline") {
  Rig rig;
  const auto first = rig.connect();
  const auto second = rig.connect();
  asio::write(*rig.clients[first], asio::buffer(std::string_view("x")));
  REQUIRE_FALSE(rig.read(first, 30ms).ec);  // the timer stays armed for 30 ms from then
  const auto start = Clock::now();
  const auto r = rig.read(second, 150ms);
  CHECK(r.ec == boost::beast::error::timeout);
  CHECK(r.done >= start + 150ms);
  CHECK(rig.reaper.arms() == 2);
}

TEST_CASE("read reaper: a read whose coroutine is destroyed while it waits leaves its lane") {
  ReadReaper reaper;
  std::optional<Result> never;
  {
    asio::io_context ioc{1};
    reaper.attach(ioc.get_executor());
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket client(ioc), server(ioc);
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          std::array<char, 64> buf{};
          auto [ec, n] = co_await reaper.read_some(server, asio::buffer(buf), 60s);
          never = Result{ec, n, Clock::now()};
        },
        asio::detached);
    while (reaper.waiting() == 0 && ioc.run_one() > 0) {
    }
    REQUIRE(reaper.waiting() == 1);
    reaper.detach();
  }  // the io_context goes with the waiting coroutine's frame, and with it the read's entry
  CHECK(reaper.waiting() == 0);
  CHECK_FALSE(never.has_value());
}

}  // namespace read_reaper_test
