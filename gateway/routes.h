#pragma once
// The gateway's routes as plain functions from a read request to its answer (no sockets, no
// waits): the client API, health, readiness and metrics, and the Dapr callbacks behind their
// dapr-api-token check. POST /api/send comes back as a Prepared for the send flow to publish.
// Ownership: one per Gateway; called from any session.
#include <variant>

#include "gateway/deliveries.h"
#include "gateway/http_message.h"
#include "gateway/readiness.h"
#include "gateway/send_flow.h"
#include "gateway/state.h"

namespace rrkit::gateway {

class Routes {
 public:
  Routes(State& state, Readiness& readiness, Deliveries& deliveries, SendFlow& send)
      : state_(state), readiness_(readiness), deliveries_(deliveries), send_(send) {}

  // An answer, or a request to publish.
  using Routed = std::variant<Answer, Prepared>;

  // `roles` are those of the listener the request came in on (limits.h).
  Routed route(const Request& req, unsigned roles, Clock::time_point started);

 private:
  Answer dispatch(const Request& req, unsigned roles, Clock::time_point started);
  nlohmann::json subscriptions() const;
  // False when an app token is configured and the request does not carry it.
  bool callback_authorised(const Request& req) const;

  State& state_;
  Readiness& readiness_;
  Deliveries& deliveries_;
  SendFlow& send_;
};

}  // namespace rrkit::gateway
