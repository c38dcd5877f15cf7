#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/error.hpp>

#include <array>
#include <chrono>
#include <optional>
#include <string_view>
#include <tuple>

#include "gateway/read_deadline.h"

namespace read_deadline_test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using rrkit::gateway::ReadDeadline;
using Clock = ReadDeadline::Clock;
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

}  // namespace read_deadline_test
