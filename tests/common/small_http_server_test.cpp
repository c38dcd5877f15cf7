// common/small_http_server.h through real sockets on 127.0.0.1: answers, keep-alive, the limits
// that protect it from outside input (413, 400, 500) and the connection observers.
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "common/small_http_server.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using rrkit::small_http::CloseReason;
using rrkit::small_http::Options;
using rrkit::small_http::Request;
using rrkit::small_http::Response;
using rrkit::small_http::Server;

namespace {

// One client connection, blocking, for the tests' own requests.
struct Client {
  explicit Client(std::uint16_t port) : socket(io) { socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port)); }
  bhttp::response<bhttp::string_body> send(const std::string& method, const std::string& target, const std::string& body = "",
                                           bool keep_alive = true) {
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.keep_alive(keep_alive);
    req.body() = body;
    req.prepare_payload();
    bhttp::write(socket, req);
    return read();
  }
  bhttp::response<bhttp::string_body> read() {
    bhttp::response<bhttp::string_body> res;
    bhttp::read(socket, buffer, res);
    return res;
  }
  // True when the server has closed the connection (a read ends with EOF, not data).
  bool closed_by_server() {
    char byte = 0;
    boost::system::error_code ec;
    socket.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }
  asio::io_context io;
  tcp::socket socket;
  beast::flat_buffer buffer;
};

template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds deadline = 20s) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// A started server; the test stops here when it cannot listen.
std::unique_ptr<Server> serve(Server::Handler handler, Options options) {
  auto server = std::make_unique<Server>(std::move(handler), std::move(options));
  std::string error;
  const bool started = server->start(error);
  INFO(error);
  REQUIRE(started);
  REQUIRE(server->port() != 0);
  return server;
}

// Connections opened and closed, by reason, as the server's observers report them.
struct ConnectionLog {
  std::atomic<int> opened{0};
  std::array<std::atomic<int>, 4> closed{};
  void observe(Options& options) {
    options.on_open = [this] { ++opened; };
    options.on_close = [this](CloseReason why) { ++closed[static_cast<std::size_t>(why)]; };
  }
  int closes(CloseReason why) const { return closed[static_cast<std::size_t>(why)].load(); }
};

Response echo(const Request& req) {
  Response res;
  res.body = req.method + " " + req.target + " " + req.body + " #" + std::to_string(req.nth_on_connection);
  res.content_type = "text/plain";
  return res;
}

}  // namespace

TEST_CASE("small HTTP server answers with the handler's response, several requests per connection", "[unit]") {
  Options options;
  options.server_header = "rr-test";
  const auto server = serve(echo, options);
  Client c(server->port());
  const auto first = c.send("POST", "/a", "one");
  CHECK(first.result_int() == 200);
  CHECK(first.body() == "POST /a one #1");
  CHECK(first[bhttp::field::content_type] == "text/plain");
  CHECK(first[bhttp::field::server] == "rr-test");
  CHECK(first.keep_alive());
  const auto second = c.send("GET", "/b", "", false);
  CHECK(second.body() == "GET /b  #2");
  CHECK(!second.keep_alive());
  CHECK(c.closed_by_server());
}

TEST_CASE("small HTTP server refuses a body over its limit with 413 and a reason, and goes on serving", "[unit]") {
  Options options;
  options.body_limit = 1024;
  const auto server = serve(echo, options);
  {
    Client c(server->port());
    const auto res = c.send("PUT", "/profile", std::string(1025, 'x'));
    CHECK(res.result_int() == 413);
    CHECK(res.body() == R"({"error":"body over 1 KiB"})");
    CHECK(c.closed_by_server());
  }
  Client c(server->port());
  CHECK(c.send("PUT", "/profile", std::string(1024, 'x')).result_int() == 200);
}

TEST_CASE("small HTTP server answers what is not HTTP with 400 and a reason, and goes on serving", "[unit]") {
  ConnectionLog connections;
  Options options;
  connections.observe(options);
  const auto server = serve(echo, options);
  {
    Client c(server->port());
    asio::write(c.socket, asio::buffer(std::string("NOT HTTP AT ALL\r\n\r\n")));
    const auto res = c.read();
    CHECK(res.result_int() == 400);
    CHECK(res.body().find("bad request: ") != std::string::npos);
    CHECK(c.closed_by_server());
  }
  CHECK(wait_until([&] { return connections.closes(CloseReason::error) == 1; }));
  Client c(server->port());
  CHECK(c.send("GET", "/after").result_int() == 200);
}

TEST_CASE("small HTTP server turns a handler's exception into 500 and tells its owner", "[unit]") {
  std::mutex mu;
  std::vector<std::string> reported;
  Options options;
  options.on_handler_error = [&](const Request& req, const std::string& what) {
    std::lock_guard lock(mu);
    reported.push_back(req.target + ": " + what);
  };
  const auto server = serve([](const Request& req) -> Response {
    if (req.target == "/boom") throw std::runtime_error("boom");
    return echo(req);
  }, options);
  Client c(server->port());
  const auto res = c.send("GET", "/boom");
  CHECK(res.result_int() == 500);
  CHECK(res.body() == "{\"error\":\"internal error: boom\"}\n");
  CHECK(c.send("GET", "/fine").result_int() == 200);  // the same connection, the same thread
  std::lock_guard lock(mu);
  CHECK(reported == std::vector<std::string>{"/boom: boom"});
}

TEST_CASE("small HTTP server closes an answered connection left idle, and says why", "[unit]") {
  ConnectionLog connections;
  Options options;
  options.idle_timeout = 200ms;
  connections.observe(options);
  const auto server = serve(echo, options);
  Client c(server->port());
  CHECK(c.send("GET", "/").result_int() == 200);
  CHECK(c.closed_by_server());  // blocks until the idle timeout closes the connection
  CHECK(wait_until([&] { return connections.closes(CloseReason::idle_timeout) == 1; }));
  CHECK(connections.opened.load() == 1);
}

TEST_CASE("small HTTP server can close without answering, as a server that died mid-request", "[unit]") {
  const auto server = serve([](const Request&) {
    Response res;
    res.close_without_answer = true;
    return res;
  }, Options{});
  Client c(server->port());
  bhttp::request<bhttp::string_body> req{bhttp::verb::get, "/", 11};
  req.prepare_payload();
  bhttp::write(c.socket, req);
  CHECK(c.closed_by_server());
}

TEST_CASE("small HTTP server names the address it cannot listen on", "[unit]") {
  Options options;
  options.host = "not-an-address";
  Server server(echo, options);
  std::string error;
  CHECK_FALSE(server.start(error));
  CHECK(error.find("not-an-address") != std::string::npos);
}

TEST_CASE("small HTTP server's 413 reason names the limit in the unit it was set in", "[unit]") {
  CHECK(rrkit::small_http::body_limit_text(1 << 20) == "body over 1 MiB");
  CHECK(rrkit::small_http::body_limit_text(2048) == "body over 2 KiB");
  CHECK(rrkit::small_http::body_limit_text(1000) == "body over 1000 bytes");
}
