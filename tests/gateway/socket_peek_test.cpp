#include <catch2/catch.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <poll.h>

#include <array>
#include <chrono>

#include "gateway/socket_peek.h"

namespace socket_peek_test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using rrkit::gateway::Peek;
using rrkit::gateway::peek_socket;

// A connected pair on the loopback: `server` is what the gateway holds of a waiting client.
struct Pair {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)};
  tcp::socket client{ioc};
  tcp::socket server{ioc};
  Pair() {
    client.connect(acceptor.local_endpoint());
    acceptor.accept(server);
  }
};

// Waits, with a deadline, until the loopback has carried what the client did to the server's socket.
bool readable_within(tcp::socket& s, std::chrono::milliseconds deadline) {
  pollfd fd{s.native_handle(), POLLIN, 0};
  return ::poll(&fd, 1, static_cast<int>(deadline.count())) == 1;
}

TEST_CASE("client watch: a waiting client that sent nothing more is seen at once, without blocking") {
  // The gateway's watch can be woken with nothing to read (epoll reports a socket readable after its
  // bytes were read). The look used to block on the waiter's strand until the client sent a byte or
  // left: a request whose reply was in waited for its client's own 30 s timeout. Were it to block
  // again, this case would hang until ctest's timeout.
  Pair p;
  CHECK(peek_socket(p.server) == Peek::nothing);
  CHECK(peek_socket(p.server) == Peek::nothing);
}

TEST_CASE("client watch: pipelined bytes are seen and left for the next read") {
  Pair p;
  asio::write(p.client, asio::buffer(std::string_view("GET /")));
  REQUIRE(readable_within(p.server, std::chrono::seconds(5)));
  // The look must not take the bytes.
  std::array<char, 5> got{};
  for (int i = 0; i < 2; ++i) CHECK(peek_socket(p.server) == Peek::bytes);
  asio::read(p.server, asio::buffer(got));
  CHECK(std::string_view(got.data(), got.size()) == "GET /");
  CHECK(peek_socket(p.server) == Peek::nothing);
}

TEST_CASE("client watch: a client that closed or reset is gone") {
  SECTION("closed") {
    Pair p;
    p.client.close();
    REQUIRE(readable_within(p.server, std::chrono::seconds(5)));
    CHECK(peek_socket(p.server) == Peek::closed);
  }
  SECTION("reset") {
    Pair p;
    p.client.set_option(asio::socket_base::linger(true, 0));  // close() sends a reset
    p.client.close();
    REQUIRE(readable_within(p.server, std::chrono::seconds(5)));
    CHECK(peek_socket(p.server) == Peek::closed);
  }
  SECTION("shut down for sending, after a pipelined byte: the byte comes first") {
    Pair p;
    asio::write(p.client, asio::buffer(std::string_view("x")));
    p.client.shutdown(tcp::socket::shutdown_send);
    REQUIRE(readable_within(p.server, std::chrono::seconds(5)));
    CHECK(peek_socket(p.server) == Peek::bytes);
  }
}

}  // namespace socket_peek_test
