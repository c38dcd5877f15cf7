#pragma once
// POST /api/send after validation: register the request in the correlation core (PendingTable),
// publish it through daprd, wait for its reply, the deadline, a failed publish or the client
// leaving, whichever comes first, and build the one answer.
//
// Split so that a waiting request costs little: prepare() and the answer builders are plain
// functions (their temporaries never live in a coroutine frame), and handle() keeps only a
// Prepared and a Waiter across its suspensions.
//
// Ownership: one per Gateway; handle() runs on the calling session's strand, and so does the
// publish it starts beside its waiter.
#include <chrono>
#include <optional>
#include <string>
#include <variant>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

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

class SendFlow {
 public:
  SendFlow(State& state, DaprClient& dapr) : state_(state), dapr_(dapr) {}

  // Validation and the stamped body; a Response when the request is answered without publishing.
  std::variant<Response, Prepared> prepare(const Request& req, Clock::time_point started);

  // Publishes and waits; nullopt when the client left (nobody to answer). `socket` is the
  // client's, watched for it closing while the request waits.
  boost::asio::awaitable<std::optional<Response>> handle(Prepared p, boost::asio::ip::tcp::socket& socket);

 private:
  std::optional<Response> register_pending(const Prepared& p, const std::shared_ptr<Waiter>& waiter);
  std::optional<Response> publish_failed(const Prepared& p, const DaprResult& published);
  Response completed_answer(const Prepared& p, Completion& done);
  Response answer(const Prepared& p, http::status status, const nlohmann::json& body, Outcome o);
  Response timeout_answer(const Prepared& p);
  boost::asio::awaitable<void> publish(std::shared_ptr<Waiter> waiter, CorrelationId id, std::string body,
                                       Clock::time_point deadline);

  State& state_;
  DaprClient& dapr_;
};

}  // namespace rrkit::gateway
