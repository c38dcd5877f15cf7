#pragma once
// POST /api/send after validation: register the request in the correlation core (PendingTable),
// publish it through daprd, wait for its reply, the deadline, a failed publish or the client
// leaving, whichever comes first, and build the one answer.
//
// Shaped so that a waiting request costs little: prepare() and the answer builders are plain
// functions, and a waiting request is no coroutine at all. park() takes the client's connection
// and keeps one small Waiter with a timer and a watch on the socket; the reply, the deadline, a
// failed publish or the client leaving each run a short callback on the connection's strand, and
// the first to decide hands the answer back to the connection (ParkedConnection::resume). A
// coroutine per waiting request held two frames and their handler memory, about 2 KB of the
// 4 KB a waiting request cost.
//
// Ownership: one per Gateway; park() runs on the calling connection's strand, and so do the
// publish it starts and every callback of its waiter.
#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "common/ids.h"
#include "gateway/dapr_client.h"
#include "gateway/http_message.h"
#include "gateway/state.h"

namespace rrkit::gateway {

// What a send needs after its request is gone.
struct Prepared {
  CorrelationId id;
  std::string body;  // the stamped request; moved out when published
  Clock::time_point started;
  Clock::time_point deadline;
  std::chrono::milliseconds timeout;
  unsigned version;
  bool keep;
};

struct Waiter;

// A client connection parked while its request waits. resume() is called exactly once, on the
// socket's strand, with the answer to write, or nullopt when the client left (nobody to answer).
class ParkedConnection {
 public:
  explicit ParkedConnection(boost::asio::ip::tcp::socket s) : socket(std::move(s)) {}
  ParkedConnection(const ParkedConnection&) = delete;
  ParkedConnection& operator=(const ParkedConnection&) = delete;
  virtual ~ParkedConnection() = default;
  virtual void resume(std::optional<Rendered> answer) = 0;
  // Watched for the client closing while the request waits; handed back through resume's owner.
  boost::asio::ip::tcp::socket socket;
};

class SendFlow {
 public:
  SendFlow(State& state, DaprClient& dapr) : state_(state), dapr_(dapr) {}

  // Validation and the stamped body; a Response when the request is answered without publishing.
  std::variant<Response, Prepared> prepare(const Request& req, Clock::time_point started);

  // Registers the request, publishes it and parks its connection until one answer is decided;
  // conn->resume() is then called once (also for an answer decided at once, e.g. overload).
  // Call on the connection's strand.
  void park(Prepared p, std::shared_ptr<ParkedConnection> conn);

 private:
  // Decides what the waiter's latest event means; on its strand.
  static void advance(const std::shared_ptr<Waiter>& w);
  static void decide(const std::shared_ptr<Waiter>& w);
  static void complete(const std::shared_ptr<Waiter>& w, std::optional<Rendered> answer);
  static void watch_client(const std::shared_ptr<Waiter>& w);
  std::optional<Rendered> register_pending(const Prepared& p, const std::shared_ptr<Waiter>& waiter);
  std::optional<Rendered> publish_failed(const Prepared& p, const DaprResult& published);

  Rendered completed_answer(const Prepared& p, Completion& done);
  // A parked request's answer, counted and logged; retry_after is sent when not empty.
  Rendered answer(const Prepared& p, http::status status, const nlohmann::json& body, Outcome o,
                  std::string_view retry_after = {});
  // The same with the body already serialised (valid JSON text).
  Rendered answer_text(const Prepared& p, http::status status, std::string_view body, Outcome o,
                       std::string_view retry_after = {});
  Rendered timeout_answer(const Prepared& p);
  // One request's own publish; `start` is when it began to wait for one (its acquire wait counts from there).
  boost::asio::awaitable<void> publish(std::shared_ptr<Waiter> waiter, CorrelationId id, std::string body,
                                       Clock::time_point deadline, Clock::time_point start);

  // Bulk publish (Config::publish_bulk_max > 0; one I/O thread): a request parked while
  // publish_bulk_calls calls are in flight waits here for the next call.
  struct QueuedPublish {
    std::shared_ptr<Waiter> waiter;
    CorrelationId id;
    std::string body;
    Clock::time_point deadline;
    Clock::time_point start;
  };
  void enqueue_publish(const boost::asio::any_io_executor& ex, QueuedPublish q);
  // A queued request still waiting after --dapr-acquire-timeout starts a call of its own, which takes a
  // daprd connection only if one is free at once (else 503 dapr_busy, as without bulk publish).
  void arm_queue_timer(const boost::asio::any_io_executor& ex);
  void expire_queued(const boost::asio::any_io_executor& ex);
  // Up to publish_bulk_max queued requests still wanted (a body that is not UTF-8 is published alone).
  std::vector<QueuedPublish> take_batch(const boost::asio::any_io_executor& ex);
  // Publishes `batch`, then what is queued, until the queue is empty.
  boost::asio::awaitable<void> drain_publishes(std::vector<QueuedPublish> batch);
  boost::asio::awaitable<void> publish_batch(std::vector<QueuedPublish> batch);
  void published(const std::shared_ptr<Waiter>& waiter, Clock::time_point start, DaprResult result);

  State& state_;
  DaprClient& dapr_;
  std::deque<QueuedPublish> publish_queue_;
  unsigned publish_calls_ = 0;  // drains running, each with at most one call in flight
  std::optional<boost::asio::steady_timer> queue_timer_;  // at the oldest queued request's acquire deadline
  bool queue_timer_armed_ = false;
};

}  // namespace rrkit::gateway
