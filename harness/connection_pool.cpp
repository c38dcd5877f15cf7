#include "harness/connection_pool.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace rrkit::harness {

namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

// The most idle connections kept per port: past it, the oldest are the first to go (descriptors).
constexpr std::size_t kMaxIdlePerPort = 256;

// True when the server has closed an idle connection (or sent something unasked, such as a 408,
// which makes the connection unusable too). Never blocks: a peek at the socket's receive queue.
bool peer_closed(beast::tcp_stream& s) {
  if (!s.socket().is_open()) return true;
  char byte = 0;
  const auto n = ::recv(s.socket().native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK;
  return true;  // 0: orderly close; > 0: unsolicited bytes
}

}  // namespace

KeptConnections::~KeptConnections() {
  for (auto& [port, conns] : idle_) {
    for (const auto& c : conns) ::close(c.fd);
  }
}

void KeptConnections::put(std::uint16_t port, Conn c) {
  const std::lock_guard lock(m_);
  idle_[port].push_back(c);
}

std::map<std::uint16_t, std::vector<KeptConnections::Conn>> KeptConnections::take_all() {
  const std::lock_guard lock(m_);
  return std::exchange(idle_, {});
}

std::size_t KeptConnections::size() const {
  const std::lock_guard lock(m_);
  std::size_t n = 0;
  for (const auto& [port, conns] : idle_) n += conns.size();
  return n;
}

std::unique_ptr<beast::tcp_stream> ConnectionPool::take(std::uint16_t port) {
  auto& q = idle_[port];
  const auto now = Clock::now();
  while (!q.empty()) {
    Idle c = std::move(q.back());
    q.pop_back();
    if (now - c.since < c.bound && !peer_closed(*c.stream)) return std::move(c.stream);
    progress_.stale_discarded.fetch_add(1);
  }
  return nullptr;
}

void ConnectionPool::give(std::uint16_t port, std::unique_ptr<beast::tcp_stream> s, std::chrono::milliseconds bound) {
  if (bound.count() <= 0) return;
  auto& q = idle_[port];
  // The oldest connections are the first to expire; dropping them keeps descriptors free.
  const auto now = Clock::now();
  while (!q.empty() && now - q.front().since >= q.front().bound) {
    q.pop_front();
    progress_.stale_discarded.fetch_add(1);
  }
  if (q.size() < kMaxIdlePerPort) q.push_back({std::move(s), now, bound});
}

void ConnectionPool::adopt(KeptConnections& kept, boost::asio::io_context& ioc, bool v4, std::chrono::milliseconds bound) {
  for (auto& [port, conns] : kept.take_all()) {
    auto& q = idle_[port];
    for (const auto& c : conns) {
      auto stream = std::make_unique<beast::tcp_stream>(ioc);
      boost::system::error_code ec;
      stream->socket().assign(v4 ? tcp::v4() : tcp::v6(), c.fd, ec);
      if (ec) {
        ::close(c.fd);
        progress_.stale_discarded.fetch_add(1);
        continue;
      }
      // take() still checks age and the peer's side before handing one out.
      if (q.size() < kMaxIdlePerPort) q.push_back({std::move(stream), c.since, std::min(c.bound, bound)});
    }
  }
}

void ConnectionPool::hand_over(KeptConnections& kept) {
  const auto now = Clock::now();
  for (auto& [port, q] : idle_) {
    for (auto& c : q) {
      if (now - c.since >= c.bound || peer_closed(*c.stream)) continue;
      boost::system::error_code ec;
      const int fd = c.stream->socket().release(ec);
      if (!ec) kept.put(port, {fd, c.since, c.bound});
    }
    q.clear();
  }
}

}  // namespace rrkit::harness
