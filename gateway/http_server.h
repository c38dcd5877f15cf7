#pragma once
// The gateway's HTTP server, shaped like Boost.Beast's advanced server: listeners that accept
// within a per-listener connection cap, and one coroutine per connection that frames requests
// (timeouts, header and body limits, keep-alive, pipelining) and hands each one to the routes,
// or to the send flow for POST /api/send. It decides nothing about what a request means.
// A POST /api/send parks its connection in the send flow and the coroutine ends; the answer
// starts a new one that writes it and goes on reading, so a waiting request holds no coroutine.
// Ownership: one per Gateway; acceptors live on the control strand, each session on its own.
#include <atomic>
#include <cstddef>
#include <memory>
#include <utility>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>

#include "gateway/config.h"
#include "gateway/deliveries.h"
#include "gateway/limits.h"
#include "gateway/routes.h"
#include "gateway/send_flow.h"
#include "gateway/state.h"

namespace rrkit::gateway {

// Counts an open connection of a listener for as long as its session lives.
class ConnectionToken {
 public:
  explicit ConnectionToken(std::atomic<std::size_t>& open) : open_(&open) { ++*open_; }
  ConnectionToken(ConnectionToken&& other) noexcept : open_(std::exchange(other.open_, nullptr)) {}
  ConnectionToken& operator=(ConnectionToken&&) = delete;
  ConnectionToken(const ConnectionToken&) = delete;
  ~ConnectionToken() {
    if (open_) --*open_;
  }

 private:
  std::atomic<std::size_t>* open_;
};

class HttpServer {
 public:
  // control: the acceptors' executor (a strand when there are several I/O threads).
  HttpServer(State& state, boost::asio::io_context& ioc, boost::asio::any_io_executor control, Routes& routes, SendFlow& send,
             Deliveries& deliveries)
      : state_(state), ioc_(ioc), control_(control), routes_(routes), send_(send), deliveries_(deliveries) {}

  // Must be set before the first bind.
  void set_caps(ConnectionCaps caps) { caps_ = caps; }
  // Listens on ep for requests of these roles (limits.h) and starts accepting; false (logged) when
  // the address is invalid or cannot be bound. Call on the control strand or before the loop runs.
  bool bind(const Endpoint& ep, unsigned roles);
  // Stops accepting (shutdown); open sessions finish their current request. On the control strand.
  void close();

 private:
  boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acc, unsigned roles);
  boost::asio::awaitable<void> refuse(boost::asio::ip::tcp::socket socket);
  class Parked;    // a connection whose request waits in the send flow (http_server.cpp)
  struct Resumed;  // what a parked connection comes back with: its buffer and the answer to write
  boost::asio::awaitable<void> session(boost::asio::ip::tcp::socket socket, unsigned roles, ConnectionToken token,
                                       std::unique_ptr<Resumed> resumed);

  State& state_;
  boost::asio::io_context& ioc_;
  boost::asio::any_io_executor control_;
  Routes& routes_;
  SendFlow& send_;
  Deliveries& deliveries_;
  ConnectionCaps caps_;
  std::vector<std::unique_ptr<boost::asio::ip::tcp::acceptor>> acceptors_;
  std::atomic<std::size_t> refusing_{0};  // over-cap connections being answered 503
};

}  // namespace rrkit::gateway
