#pragma once
// The reply route: what the gateway answers daprd for each delivery, by Dapr's rules. SUCCESS for
// matched, late, duplicate, unknown and probe replies, DROP for one it cannot take; never a status
// daprd retries, because the Kafka component blocks the reply partition while it retries.
// Ownership: one per Gateway; stateless beyond the shared State, called from any session.
#include <cstdint>
#include <string_view>

#include "gateway/http_message.h"
#include "gateway/readiness.h"
#include "gateway/state.h"

namespace rrkit::gateway {

class Deliveries {
 public:
  Deliveries(State& state, Readiness& readiness) : state_(state), readiness_(readiness) {}

  // POST on the reply route: classifies the reply and hands a matched one to its waiter.
  Response handle(const Request& req, bool keep);

  // A delivery whose body exceeds --max-reply-body (already read and discarded).
  Response drop_oversize(unsigned version, bool keep, std::uint64_t bytes);
  // A delivery whose header could not be parsed; the connection closes after it.
  Response drop_unreadable(std::string_view error);

 private:
  State& state_;
  Readiness& readiness_;
};

}  // namespace rrkit::gateway
