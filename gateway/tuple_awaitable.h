#pragma once
// The completion token of the gateway's coroutines: an I/O error comes back as a value
// (`auto [ec, n] = co_await ...`), never as an exception thrown across a co_await. One definition for
// every file that uses it, so that files compiled together (a unity batch) do not define it twice.
// Deferred, not use_awaitable: a coroutine awaits a deferred operation directly, where use_awaitable
// wraps each operation in a coroutine frame of its own (four allocations per request fewer).
// Like an awaitable, a deferred operation starts only when it is awaited.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace rrkit::gateway {

inline constexpr auto tuple_awaitable = boost::asio::as_tuple(boost::asio::deferred);

}  // namespace rrkit::gateway
