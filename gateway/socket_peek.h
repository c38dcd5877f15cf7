#pragma once
// A look at a connected socket's incoming side that never blocks and consumes nothing. Used where a
// connection sits idle while it should not be read: a client waiting for its reply (send_flow) and a
// pooled daprd connection about to be reused (dapr_client).
#include <boost/asio/ip/tcp.hpp>

#include <sys/socket.h>

#include <cerrno>

namespace rrkit::gateway {

enum class Peek {
  closed,   // end of stream or an error: the peer left
  bytes,    // bytes are waiting to be read (a pipelined request; from daprd, unasked bytes such as a 408)
  nothing,  // no byte and no end (also a readiness report that was spurious: epoll may report a socket
            // readable after the bytes that made it so were read)
};

// A blocking look would wait for the peer's next byte or its close: on a waiting client's strand, its
// reply, its deadline and every other request of the strand stood still until then.
inline Peek peek_socket(boost::asio::ip::tcp::socket& socket) {
  char byte = 0;
  const ssize_t n = ::recv(socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return Peek::bytes;
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return Peek::nothing;
  return Peek::closed;
}

}  // namespace rrkit::gateway
