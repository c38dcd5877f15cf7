#pragma once
// A small HTTP/1.1 server for the traffic client's connection tests: it answers like a gateway
// (200 with a correlation id) and closes keep-alive connections the ways real servers do, so that
// the client's pool can be tested against each. Runs on its own thread; counters are thread-safe.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace rrkit::test {

struct KeepAliveServerOptions {
  // Closes a connection (FIN) once it has been idle this long: the usual idle timeout.
  std::optional<std::chrono::milliseconds> idle_close;
  // Closes, without answering, a connection whose next request arrives after it has been idle this
  // long: the close and the request cross on the wire, the race a stale pooled connection runs.
  std::optional<std::chrono::milliseconds> stale_after;
  // Sent as `Keep-Alive: <value>` on every answer when set (e.g. "timeout=1").
  std::string keep_alive_header;
  // Reads (and counts) the n-th request (1-based) and closes without answering it: a server that
  // processed a request and died before it could answer.
  std::uint64_t drop_answer_of = 0;
  // Waits this long before each answer, so that a burst keeps many connections busy at once (and
  // leaves as many in the client's pool afterwards).
  std::chrono::milliseconds answer_delay{0};
  // Holds every request without answering (until the client gives up or the server stops).
  bool never_answer = false;
};

class KeepAliveServer {
 public:
  explicit KeepAliveServer(KeepAliveServerOptions options);
  ~KeepAliveServer();
  KeepAliveServer(const KeepAliveServer&) = delete;
  KeepAliveServer& operator=(const KeepAliveServer&) = delete;

  std::uint16_t port() const;
  std::uint64_t connections() const { return connections_; }
  std::uint64_t requests() const { return requests_; }
  std::uint64_t idle_closes() const { return idle_closes_; }    // connections closed by idle_close
  std::uint64_t stale_closes() const { return stale_closes_; }  // requests refused by stale_after
  std::uint64_t open_connections() const { return open_; }
  // How many times a request body carrying this nonce arrived.
  std::uint64_t times_seen(const std::string& nonce) const;

  struct Impl;

 private:
  friend struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<std::uint64_t> connections_{0}, requests_{0}, idle_closes_{0}, stale_closes_{0}, open_{0};
  mutable std::mutex mu_;
  std::map<std::string, std::uint64_t> seen_;
};

}  // namespace rrkit::test
