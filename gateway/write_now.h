#pragma once
// A write that never blocks: what the socket's send buffer takes at once. Most of the gateway's
// messages (answers, deliveries' 200s, publishes) fit there whole, so they need no asynchronous
// write, and no write timer, no completion to schedule and no coroutine to resume; whatever is
// left goes out by the asynchronous write that follows, under its timeout.
#include <boost/asio/ip/tcp.hpp>

#include <sys/socket.h>

#include <cstddef>
#include <string_view>

namespace rrkit::gateway {

// The bytes written from the front of text: 0 when none fit or the send failed (the asynchronous
// write that follows then reports the failure).
inline std::size_t write_now(boost::asio::ip::tcp::socket& socket, std::string_view text) {
  if (text.empty()) return 0;
  const ssize_t n = ::send(socket.native_handle(), text.data(), text.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  return n > 0 ? static_cast<std::size_t>(n) : 0;
}

}  // namespace rrkit::gateway
