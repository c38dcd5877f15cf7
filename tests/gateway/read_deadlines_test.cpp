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
#include <tuple>
#include <vector>

#include "gateway/read_deadline.h"
#include "gateway/read_reaper.h"

// The two ways rr-gateway keeps a read's deadline without a timer armed and cancelled per read:
// ReadDeadline (one timer per pooled daprd connection) and ReadReaper (one timer for every client and
// delivery connection).
namespace read_deadlines_test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using rrkit::gateway::ReadDeadline;
using rrkit::gateway::ReadReaper;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// A connected pair on the loopback: the gateway reads `server`.
struct Pair {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  tcp::socket client{ioc};
  tcp::socket server{ioc};
  std::shared_ptr<ReadDeadline> deadline = ReadDeadline::make(ioc.get_executor());
  Pair() {
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }

  struct Read {
    boost::system::error_code ec;
    std::size_t n = 0;
    Clock::time_point done;
  };

  // One read through the deadline, run to completion; ctest's timeout is the backstop should it hang.
  Read read(Clock::time_point by) {
    std::optional<Read> got;
    std::array<char, 64> buf{};
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
          auto [ec, n] = co_await deadline->read_some(server, asio::buffer(buf), by);
          got = Read{ec, n, Clock::now()};
        },
        asio::detached);
    ioc.restart();
    while (!got && ioc.run_one() > 0) {
    }
    REQUIRE(got);
    return *got;
  }
};

TEST_CASE("read deadline: a read that gets nothing is cut off at its deadline with a timeout") {
  Pair p;
  const auto start = Clock::now();
  const auto r = p.read(start + 50ms);
  CHECK(r.ec == boost::beast::error::timeout);
  CHECK(r.done >= start + 50ms);
  CHECK(p.deadline->expired());
  // The connection is still usable: bytes sent afterwards are read.
  asio::write(p.client, asio::buffer(std::string_view("GET /")));
  const auto again = p.read(Clock::now() + 10s);
  CHECK_FALSE(again.ec);
  CHECK(again.n == 5);
  CHECK_FALSE(p.deadline->expired());
}

TEST_CASE("read deadline: reads that complete arm the timer once, not once per read") {
  Pair p;
  for (int i = 0; i < 100; ++i) {
    asio::write(p.client, asio::buffer(std::string_view("x")));
    const auto r = p.read(Clock::now() + 60s);  // each deadline later than the one before
    REQUIRE_FALSE(r.ec);
    CHECK(r.n == 1);
  }
  CHECK(p.deadline->arms() == 1);
  CHECK(p.deadline->armed());
}

TEST_CASE("read deadline: an earlier deadline than the armed one cuts the read off at its own time") {
  Pair p;
  asio::write(p.client, asio::buffer(std::string_view("x")));
  REQUIRE_FALSE(p.read(Clock::now() + 60s).ec);  // armed for a minute from now
  const auto start = Clock::now();
  const auto r = p.read(start + 50ms);
  CHECK(r.ec == boost::beast::error::timeout);
  CHECK(r.done >= start + 50ms);
  CHECK(r.done < start + 30s);
  CHECK(p.deadline->arms() == 2);
}

TEST_CASE("read deadline: a timer that fires early for a later read is armed again for that read's deadline") {
  Pair p;
  asio::write(p.client, asio::buffer(std::string_view("x")));
  REQUIRE_FALSE(p.read(Clock::now() + 30ms).ec);  // the timer is armed for 30 ms from now
  // The next read's deadline is later: the timer fires at the 30 ms, finds the read's deadline not
  // reached, and is armed for it; the read is cut off at its own deadline, not at the first.
  const auto start = Clock::now();
  const auto r = p.read(start + 150ms);
  CHECK(r.ec == boost::beast::error::timeout);
  CHECK(r.done >= start + 150ms);
  CHECK(p.deadline->arms() == 2);
}

TEST_CASE("read deadline: a timer that fires with no read waiting leaves the next read to arm it") {
  Pair p;
  asio::write(p.client, asio::buffer(std::string_view("x")));
  REQUIRE_FALSE(p.read(Clock::now() + 20ms).ec);
  // Let the timer fire with nothing to cut off.
  while (p.deadline->armed()) {
    p.ioc.restart();
    REQUIRE(p.ioc.run_one_for(5s) > 0);
  }
  CHECK_FALSE(p.deadline->expired());
  asio::write(p.client, asio::buffer(std::string_view("y")));
  const auto r = p.read(Clock::now() + 60s);
  CHECK_FALSE(r.ec);
  CHECK(p.deadline->armed());
  CHECK(p.deadline->arms() == 2);
}

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

}  // namespace read_deadlines_test
