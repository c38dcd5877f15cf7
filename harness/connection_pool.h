#pragma once
// The traffic client's idle keep-alive connections (harness/traffic.cpp), and the ones it carries from
// one traffic run to the next.
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "harness/traffic.h"

namespace rrkit::harness {

// Idle keep-alive connections handed from one traffic run to the next (TrafficPlan::keep): the
// warm-up's to the scenario's, one round's to the next, as a real client's pool outlives its bursts.
// Without it each run opened its connections anew, and a scenario's first 200-wide burst over new
// connections met a busy single-threaded gateway that accepted some of them up to 1.4 s late.
// Each run's thread takes them at its start and puts back what it leaves idle at its end.
class KeptConnections {
 public:
  struct Conn {
    int fd = -1;
    std::chrono::steady_clock::time_point since;  // idle since
    std::chrono::milliseconds bound{0};           // reusable while idle for less than this
  };
  KeptConnections() = default;
  KeptConnections(const KeptConnections&) = delete;
  KeptConnections& operator=(const KeptConnections&) = delete;
  ~KeptConnections();  // closes what no run took

  void put(std::uint16_t port, Conn c);
  std::map<std::uint16_t, std::vector<Conn>> take_all();
  std::size_t size() const;

 private:
  mutable std::mutex m_;
  std::map<std::uint16_t, std::vector<Conn>> idle_;
};

// Idle keep-alive connections per gateway port; owned by one traffic run's single thread.
// A connection is handed out only while younger than its idle bound and still open on the peer's
// side: a server closes idle connections on its own clock, and a request written into a connection
// the server is closing is lost in a way the client cannot tell from a failure.
class ConnectionPool {
 public:
  explicit ConnectionPool(TrafficProgress& progress) : progress_(progress) {}

  std::unique_ptr<boost::beast::tcp_stream> take(std::uint16_t port);
  void give(std::uint16_t port, std::unique_ptr<boost::beast::tcp_stream> s, std::chrono::milliseconds bound);

  // Takes over the kept connections as this run's own, on ioc, each bound at most to `bound` (this
  // run's keepalive_idle); v4 is the address family they were opened with.
  void adopt(KeptConnections& kept, boost::asio::io_context& ioc, bool v4, std::chrono::milliseconds bound);
  // Hands the idle connections still worth reusing to `kept`; call once nothing runs on them.
  void hand_over(KeptConnections& kept);

 private:
  struct Idle {
    std::unique_ptr<boost::beast::tcp_stream> stream;
    std::chrono::steady_clock::time_point since;
    std::chrono::milliseconds bound;
  };
  TrafficProgress& progress_;
  std::map<std::uint16_t, std::deque<Idle>> idle_;
};

}  // namespace rrkit::harness
