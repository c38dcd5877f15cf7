#pragma once
// The deadline of a pooled daprd connection's reads, kept by one timer per connection that is
// re-armed only when it fires. A timer armed for each read and cancelled when the read completes
// (Beast's stream timeouts) costs the I/O loop a completion to run and a poll of the reactor before it,
// for every publish. Here starting a read stores its deadline and arms the timer only if it is not
// armed already for a time no later; when the timer fires early for the current read it is armed again
// for that read's deadline, so a read is still cut off at its own deadline exactly. A connection whose
// reads follow each other closely (each deadline later than the one before) sees its timer fire about
// once per timeout. (Client and delivery connections, far more numerous, share one timer instead:
// read_reaper.h.)
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <tuple>
#include <utility>

#include "gateway/tuple_awaitable.h"

namespace rrkit::gateway {

class ReadDeadline : public std::enable_shared_from_this<ReadDeadline> {
 public:
  using Clock = std::chrono::steady_clock;

  // On the executor of the connection's handlers, so that the timer's handler never runs beside them.
  static std::shared_ptr<ReadDeadline> make(const boost::asio::any_io_executor& ex) {
    return std::make_shared<ReadDeadline>(Private{}, ex);
  }

  // A read of `socket` is about to start; it is cancelled (and expired() is true) if it has not
  // completed by `deadline`.
  void start(boost::asio::ip::tcp::socket& socket, Clock::time_point deadline) {
    socket_ = &socket;
    deadline_ = deadline;
    expired_ = false;
    if (!armed_ || deadline < armed_for_) arm(deadline);
  }

  // The read completed (or will never be waited for): nothing to cut off.
  void stop() { socket_ = nullptr; }

  // The connection ends: the timer is cancelled, so that it holds neither this object nor the
  // io_context's work until it would have fired.
  void close() {
    socket_ = nullptr;
    if (!armed_) return;
    armed_ = false;
    ++generation_;
    timer_.cancel();
  }

  // Whether the last read was cut off by its deadline.
  bool expired() const { return expired_; }

  // The timer's state, for tests: whether it is armed, and how many times it was.
  bool armed() const { return armed_; }
  std::uint64_t arms() const { return arms_; }

  // Reads some bytes into `buffers` by `deadline`: the error is beast::error::timeout when the
  // deadline cut the read off.
  template <typename MutableBuffers>
  boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> read_some(
      boost::asio::ip::tcp::socket& socket, const MutableBuffers& buffers, Clock::time_point deadline) {
    start(socket, deadline);
    struct Stop {
      ReadDeadline& d;
      ~Stop() { d.stop(); }
    } stop_on_exit{*this};
    auto [ec, n] = co_await socket.async_read_some(buffers, tuple_awaitable);
    if (ec == boost::asio::error::operation_aborted && expired_) ec = boost::beast::error::timeout;
    co_return std::tuple{ec, n};
  }

  struct Private {};
  ReadDeadline(Private, const boost::asio::any_io_executor& ex) : timer_(ex) {}
  ReadDeadline(const ReadDeadline&) = delete;
  ReadDeadline& operator=(const ReadDeadline&) = delete;

 private:

  void arm(Clock::time_point when) {
    armed_ = true;
    armed_for_ = when;
    ++arms_;
    const std::uint64_t generation = ++generation_;
    timer_.expires_at(when);  // cancels an earlier wait, whose handler then sees an old generation
    timer_.async_wait([self = shared_from_this(), generation](const boost::system::error_code& ec) {
      if (generation != self->generation_) return;  // armed again since
      self->armed_ = false;
      if (ec) return;
      self->fired();
    });
  }

  void fired() {
    if (socket_ == nullptr) return;  // no read waiting: the next read arms the timer again
    if (Clock::now() < deadline_) return arm(deadline_);
    expired_ = true;
    boost::system::error_code ignored;
    socket_->cancel(ignored);
    socket_ = nullptr;
  }

  boost::asio::steady_timer timer_;
  boost::asio::ip::tcp::socket* socket_ = nullptr;
  Clock::time_point deadline_{};
  Clock::time_point armed_for_{};
  std::uint64_t generation_ = 0;  // of the latest wait: an older wait's handler does nothing
  std::uint64_t arms_ = 0;
  bool armed_ = false;
  bool expired_ = false;
};

}  // namespace rrkit::gateway
