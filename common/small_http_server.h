#pragma once
// One small HTTP/1.1 server for rrkit's side channels: rr-simulator's control API and the test
// servers that stand in for an app or a gateway. Built for few connections and small bodies, not
// for load: the gateway's client API has its own server (gateway/http_server.h), tuned for the
// memory each waiting request costs.
//
// Who owns it: whoever constructs it; it serves on its own thread (one io_context, one coroutine per
// connection) from start() until stop() or destruction. The handler runs on that thread, one
// request at a time, so it must not block for long: an answer that should come later says so with
// Response::delay, which waits without holding the thread. Beast stays inside the .cpp.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rrkit::small_http {

struct Request {
  std::string method;
  std::string target;
  std::string body;
  // Where the request stands on its connection, for servers that imitate how real ones treat a
  // kept-alive connection: 1 for the first request, and how long the connection lay idle between
  // the previous answer and this request (zero for the first).
  std::uint64_t nth_on_connection = 1;
  std::chrono::steady_clock::duration idle_before{};
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra header fields
  // Answers this long after the request without holding the server's thread.
  std::chrono::milliseconds delay{0};
  // Closes the connection (after the delay) without answering: a server that died mid-request.
  bool close_without_answer = false;
};

// An answer with nothing but a status, a content type and a body: what most handlers give.
inline Response reply(int status, std::string content_type, std::string body) {
  Response res;
  res.status = status;
  res.content_type = std::move(content_type);
  res.body = std::move(body);
  return res;
}

enum class CloseReason {
  done,          // the client closed, asked for Connection: close, or the server closed on purpose
  read_timeout,  // no whole request within read_timeout
  idle_timeout,  // an answered connection stayed idle longer than idle_timeout
  error,         // a socket error, or a request that could not be read (answered 400 or 413 when possible)
};

struct Options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;  // 0: any free port
  std::size_t body_limit = 1 << 20;
  // A request must arrive whole within this (the wait for its first byte included).
  std::chrono::milliseconds read_timeout{30'000};
  // After an answer, how long a kept-alive connection may wait for its next request whole; 0: read_timeout.
  std::chrono::milliseconds idle_timeout{0};
  std::chrono::milliseconds write_timeout{30'000};
  std::string server_header;  // sent as Server: when not empty
  // Observers, called on the server's thread; each may be empty.
  std::function<void()> on_open;
  std::function<void(CloseReason)> on_close;
  // A handler that threw: the client got 500 with the message; this says so to the owner's log.
  std::function<void(const Request&, const std::string& what)> on_handler_error;
};

// "body over 1 MiB", "body over 512 bytes": the 413 answer's reason.
std::string body_limit_text(std::size_t limit);

class Server {
 public:
  using Handler = std::function<Response(const Request&)>;
  Server(Handler handler, Options options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port and starts serving. False with a message naming the address on error.
  bool start(std::string& error);
  std::uint16_t port() const;  // the bound port, once started
  // Stops accepting and drops every connection; idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rrkit::small_http
