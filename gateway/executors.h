#pragma once
// Where a connection's handlers run. With several I/O threads each connection (client, delivery,
// pooled daprd connection) gets a strand of its own, so that its handlers never run at once.
// With one I/O thread (the default) they cannot run at once anyway: the strand's queue, lock and
// extra scheduling pass per handler would be pure cost, so they run on the io_context itself.
// Either way every hand-over between connections is an asio::post, never a nested call.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

namespace rrkit::gateway {

inline boost::asio::any_io_executor connection_executor(boost::asio::io_context& ioc, bool single_thread) {
  if (single_thread) return ioc.get_executor();
  return boost::asio::make_strand(ioc);
}

}  // namespace rrkit::gateway
