#pragma once
// The deadlines of the reads that start a request on the client and delivery connections, with one
// timer for all of them. A timer armed for each such read and cancelled when the read completes
// (Beast's stream timeouts) costs the I/O loop a completion to run and a poll of the reactor before it,
// for every request and every delivery; a timer per connection kept armed between reads would cost
// every waiting request the timer's memory. Here a read is linked, for as long as it waits, into the
// lane of its timeout (the header timeout of a new connection, the idle timeout of a kept-alive one):
// reads in one lane start in deadline order, so the lane's front is the first to expire. The one timer
// is armed for the earliest front and, when it fires, cancels the reads whose deadline has come and is
// armed for the next front; a read that completes is unlinked and leaves the timer alone. A read is
// cut off at its own deadline (beast::error::timeout), as with Beast's timeouts.
//
// Only for an io_context run by one thread (the gateway's default): lanes, timer and sockets are
// touched from that thread alone. It lives in State, which outlives the io_context, because the
// session frames that the io_context destroys unlink their reads from it.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <tuple>

#include "gateway/tuple_awaitable.h"

namespace rrkit::gateway {

class ReadReaper {
 public:
  using Clock = std::chrono::steady_clock;

  ReadReaper() = default;
  ReadReaper(const ReadReaper&) = delete;
  ReadReaper& operator=(const ReadReaper&) = delete;

  // Gives the reaper its timer, on the executor of the connections' handlers; until then (and
  // after detach) it is not used. detach() must come before the io_context is destroyed.
  void attach(const boost::asio::any_io_executor& ex) { timer_.emplace(ex); }
  void detach();
  bool attached() const { return timer_.has_value(); }

  // Reads some bytes into `buffers`, cut off after `timeout` with beast::error::timeout.
  template <typename MutableBuffers>
  boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some(
      boost::asio::ip::tcp::socket& socket, const MutableBuffers& buffers, Clock::duration timeout) {
    Entry entry(*this, socket);
    link(entry, timeout);
    auto [ec, n] = co_await socket.async_read_some(buffers, tuple_awaitable);
    if (ec == boost::asio::error::operation_aborted && entry.expired) ec = boost::beast::error::timeout;
    co_return std::tuple{ec, n};
  }

  // For tests: reads waiting, and how many times the timer was armed.
  std::size_t waiting() const { return waiting_; }
  std::uint64_t arms() const { return arms_; }
  bool armed() const { return armed_; }

 private:
  struct Lane;
  // A waiting read, in the frame of the coroutine that reads; unlinked when it completes, expires,
  // or the frame is destroyed.
  struct Entry {
    Entry(ReadReaper& r, boost::asio::ip::tcp::socket& s) : reaper(r), socket(s) {}
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    ~Entry() { reaper.unlink(*this); }
    ReadReaper& reaper;
    boost::asio::ip::tcp::socket& socket;
    Lane* lane = nullptr;  // null once unlinked
    Entry* prev = nullptr;
    Entry* next = nullptr;
    Clock::time_point deadline{};
    bool expired = false;
  };
  struct Lane {
    Clock::duration timeout;
    Entry* front = nullptr;
    Entry* back = nullptr;
  };

  void link(Entry& e, Clock::duration timeout);
  void unlink(Entry& e);
  void arm(Clock::time_point when);
  void fired();

  std::optional<boost::asio::steady_timer> timer_;
  std::deque<Lane> lanes_;  // one per distinct timeout: two or three; a deque keeps their addresses
  std::size_t waiting_ = 0;
  Clock::time_point armed_for_{};
  std::uint64_t generation_ = 0;  // of the latest wait: an older wait's handler does nothing
  std::uint64_t arms_ = 0;
  bool armed_ = false;
};

}  // namespace rrkit::gateway
