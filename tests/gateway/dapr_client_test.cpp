#include <catch2/catch.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http.hpp>

#include <arpa/inet.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "gateway/dapr_client.h"
#include "gateway/http_message.h"

namespace dapr_client_test {

using namespace rrkit::gateway;

TEST_CASE("dapr client: the publish target is Dapr's publish API with a raw payload") {
  CHECK(publish_target("rr-pubsub", "rr.requests", {}) == "/v1.0/publish/rr-pubsub/rr.requests?metadata.rawPayload=true");
  CHECK(publish_target("rr-pubsub", "rr.requests", {{"partitionKey", "id-1"}, {"correlationId", "id-1"}}) ==
        "/v1.0/publish/rr-pubsub/rr.requests?metadata.rawPayload=true&metadata.partitionKey=id-1"
        "&metadata.correlationId=id-1");
}

TEST_CASE("dapr client: every part of the publish target is percent-encoded") {
  // A topic or value with '/', '&' or '=' must not change which topic or metadata daprd sees.
  CHECK(publish_target("a b", "t/1", {{"replyTo", "x&y=z"}}) ==
        "/v1.0/publish/a%20b/t%2F1?metadata.rawPayload=true&metadata.replyTo=x%26y%3Dz");
}

TEST_CASE("dapr client: url_encode keeps the unreserved bytes and escapes every other one") {
  CHECK(url_encode("") == "");
  CHECK(url_encode("AZaz09-._~") == "AZaz09-._~");
  CHECK(url_encode("3f2a-Z") == "3f2a-Z");
  CHECK(url_encode("a b") == "a%20b");
  CHECK(url_encode("%") == "%25");
  CHECK(url_encode("\xc3\xa9t\xc3\xa9") == "%C3%A9t%C3%A9");  // UTF-8 bytes, one escape each
  CHECK(url_encode(std::string("x\0y", 3)) == "x%00y");
  CHECK(url_encode("/&=?#+") == "%2F%26%3D%3F%23%2B");
}

namespace http = boost::beast::http;

// The message the request bytes replaced, built and serialised by Beast as the client did before.
std::string beast_request(http::verb method, const std::string& target, const std::string& host,
                          const std::string& token, const std::string& body) {
  http::request<http::string_body> req{method, target, 11};
  req.set(http::field::host, host);
  req.keep_alive(true);
  if (!token.empty()) req.set("dapr-api-token", token);
  if (!body.empty() || method == http::verb::post) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  return to_wire(req);
}

TEST_CASE("dapr client: a request's bytes are those Beast wrote for the same message") {
  const std::string target = publish_target("rr-pubsub", "rr.requests", {{"partitionKey", "id-1"}});
  const std::string body = R"({"correlationId":"id-1","payload":"x"})";
  CHECK(request_wire("POST", target, "127.0.0.1:3500", "", body) ==
        beast_request(http::verb::post, target, "127.0.0.1:3500", "", body));
  CHECK(request_wire("POST", target, "127.0.0.1:3500", "secret", body) ==
        beast_request(http::verb::post, target, "127.0.0.1:3500", "secret", body));
  CHECK(request_wire("POST", target, "localhost:3501", "", "") ==
        beast_request(http::verb::post, target, "localhost:3501", "", ""));
  CHECK(request_wire("GET", "/v1.0/healthz", "127.0.0.1:3500", "", "") ==
        beast_request(http::verb::get, "/v1.0/healthz", "127.0.0.1:3500", "", ""));
  CHECK(request_wire("GET", "/v1.0/healthz", "127.0.0.1:3500", "", "") ==
        "GET /v1.0/healthz HTTP/1.1\r\nHost: 127.0.0.1:3500\r\n\r\n");
  CHECK(request_wire("POST", "/p", "h:1", "t", "{}") ==
        "POST /p HTTP/1.1\r\nHost: h:1\r\ndapr-api-token: t\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\r\n\r\n{}");
}

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// A stand-in for daprd on a loopback port, for one connection: it reads one request (header and a
// Content-Length body), then `answer` writes what it likes on the socket (in parts, or nothing).
class OneAnswer {
 public:
  explicit OneAnswer(std::function<void(tcp::socket&)> answer)
      : acceptor_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        thread_([this, answer = std::move(answer)] {
          tcp::socket socket(ioc_);
          acceptor_.accept(socket);
          socket.set_option(tcp::no_delay(true));
          std::string in;
          const std::size_t header = asio::read_until(socket, asio::dynamic_buffer(in), "\r\n\r\n");
          const auto at = in.find("Content-Length: ");
          const std::size_t length = at == std::string::npos ? 0 : std::stoul(in.substr(at + 16));
          if (in.size() < header + length) {
            asio::read(socket, asio::dynamic_buffer(in), asio::transfer_exactly(header + length - in.size()));
          }
          answer(socket);
          boost::system::error_code ignored;
          socket.shutdown(tcp::socket::shutdown_both, ignored);
        }) {}
  ~OneAnswer() { thread_.join(); }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }

 private:
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::thread thread_;
};

// The descriptor, in this process, of the client's end of a connection whose server end is `server`:
// the test's client and its stand-in daprd share the process, so the client's socket can be looked at.
int client_descriptor(const tcp::socket& server) {
  const std::uint16_t client_port = server.remote_endpoint().port();
  const std::uint16_t server_port = server.local_endpoint().port();
  for (int fd = 0; fd < 4096; ++fd) {
    sockaddr_in local{};
    sockaddr_in peer{};
    socklen_t local_len = sizeof local;
    socklen_t peer_len = sizeof peer;
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0 || local.sin_family != AF_INET) continue;
    if (ntohs(local.sin_port) != client_port) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 || ntohs(peer.sin_port) != server_port) continue;
    return fd;
  }
  return -1;
}

// Waits (5 s at most) until the client has taken off its socket every byte the server sent so far:
// the server's send queue is empty (all of it reached the client's socket) and so is the client's
// receive queue (the client read it).
bool client_has_read(tcp::socket& server, int client_fd) {
  const auto until = std::chrono::steady_clock::now() + 5s;
  while (std::chrono::steady_clock::now() < until) {
    int unsent = 0;
    int unread = 0;
    if (ioctl(server.native_handle(), SIOCOUTQ, &unsent) != 0 || ioctl(client_fd, FIONREAD, &unread) != 0) return false;
    if (unsent == 0 && unread == 0) return true;
    std::this_thread::sleep_for(1ms);
  }
  return false;
}

// Whether each part but the last was read by the client before the next was sent: set by in_parts.
struct Pacing {
  std::atomic<bool> apart{true};
};

// Writes the parts one by one, the next only once the client has read the one before, so the client
// meets them in separate reads as it would meet a slow daprd's answer.
std::function<void(tcp::socket&)> in_parts(std::vector<std::string> parts, Pacing& pacing) {
  return [parts = std::move(parts), &pacing](tcp::socket& socket) {
    const int client = client_descriptor(socket);
    if (client < 0) pacing.apart = false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i > 0 && !(client >= 0 && client_has_read(socket, client))) pacing.apart = false;
      asio::write(socket, asio::buffer(parts[i]));
    }
  };
}

DaprResult publish_to(std::uint16_t port, std::chrono::milliseconds within = 5s) {
  asio::io_context ioc;
  DaprClient client(ioc, DaprClientConfig{"127.0.0.1", port, "", 4, true});
  DaprResult result;
  asio::co_spawn(ioc, client.publish("rr-pubsub", "rr.requests", R"({"a":1})", {}, std::chrono::steady_clock::now() + within),
                 [&](std::exception_ptr e, DaprResult r) {
                   REQUIRE_FALSE(e);
                   result = std::move(r);
                   client.close_idle();  // as the gateway does when it stops: nothing is left to run
                 });
  ioc.run();
  return result;
}

}  // namespace

TEST_CASE("dapr client: daprd's answer is read whole, in parts, chunked, or not at all") {
  SECTION("a 204 in one piece") {
    Pacing pacing;
    OneAnswer daprd(in_parts({"HTTP/1.1 204 No Content\r\nTraceparent: 00-1-2-01\r\n\r\n"}, pacing));
    const auto r = publish_to(daprd.port());
    CHECK(r.kind == DaprResult::Kind::ok);
    CHECK(r.status == 204);
  }
  SECTION("an error answer whose header and body arrive in parts") {
    Pacing pacing;
    OneAnswer daprd(in_parts({"HTTP/1.1 400 Bad Req", "uest\r\nContent-Type: application/json\r\nContent-Length: 25\r\n\r\n",
                              R"({"errorCode":)", R"("ERR_X"})" "    "},
                             pacing));
    const auto r = publish_to(daprd.port());
    CHECK(pacing.apart);
    CHECK(r.kind == DaprResult::Kind::rejected);
    CHECK(r.status == 400);
    CHECK(r.body == R"({"errorCode":"ERR_X"})" "    ");
  }
  SECTION("a chunked error answer") {
    Pacing pacing;
    OneAnswer daprd(in_parts({"HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n",
                              "0\r\n\r\n"},
                             pacing));
    const auto r = publish_to(daprd.port());
    CHECK(pacing.apart);
    CHECK(r.kind == DaprResult::Kind::rejected);
    CHECK(r.status == 500);
    CHECK(r.body == "hello");
  }
  SECTION("the connection closed after the request, no answer: unreachable, not sent again") {
    Pacing pacing;
    OneAnswer daprd(in_parts({}, pacing));
    const auto r = publish_to(daprd.port());
    INFO(r.error);
    CHECK(r.kind == DaprResult::Kind::unreachable);
    CHECK(r.error.find("read from daprd") != std::string::npos);
  }
  SECTION("the connection closed in the middle of the header") {
    Pacing pacing;
    OneAnswer daprd(in_parts({"HTTP/1.1 204 No Con"}, pacing));
    const auto r = publish_to(daprd.port());
    INFO(r.error);
    CHECK(r.kind == DaprResult::Kind::unreachable);
    CHECK(r.error.find("read from daprd") != std::string::npos);
  }
  SECTION("no answer before the deadline: timeout") {
    std::promise<void> done;
    auto finished = done.get_future();
    OneAnswer daprd([&](tcp::socket&) { finished.wait(); });
    const auto r = publish_to(daprd.port(), 300ms);
    done.set_value();
    CHECK(r.kind == DaprResult::Kind::timeout);
  }
}

}  // namespace dapr_client_test
