#pragma once
// The reply route: what the gateway answers daprd for each delivery, by Dapr's rules. SUCCESS for
// matched, late, duplicate, unknown and probe replies, DROP for one it cannot take; never a status
// daprd retries, because the Kafka component blocks the reply partition while it retries. With
// --reply-bulk-subscribe each POST is a batch (bulk_delivery.h) and each entry gets its own status.
// Ownership: one per Gateway; stateless beyond the shared State, called from any session.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "gateway/delivery.h"
#include "gateway/http_message.h"
#include "gateway/readiness.h"
#include "gateway/state.h"

namespace rrkit::gateway {

class Deliveries {
 public:
  Deliveries(State& state, Readiness& readiness);

  // POST on the reply route: classifies the reply and hands a matched one to its waiter. A single
  // delivery's answer is rendered (one of two texts); a batch's is a message.
  Answer handle(const Request& req, bool keep);

  // A delivery whose body exceeds --max-reply-body (already read and discarded).
  Response drop_oversize(unsigned version, bool keep, std::uint64_t bytes);
  // A delivery whose header could not be parsed; the connection closes after it.
  Response drop_unreadable(std::string_view error);

 private:
  Response handle_bulk(const Request& req, bool keep);
  // Counts and classifies one delivery and hands a matched reply to its waiter; false when it is
  // malformed (DROP), true for every reply that is SUCCESS. `bytes` is the body's size, for the log.
  bool take(DeliveryResult& parsed, std::size_t bytes);

  State& state_;
  Readiness& readiness_;
  // The single route's SUCCESS and DROP on a kept-alive HTTP/1.1 connection (daprd's), rendered once.
  const Rendered kept_success_;
  const Rendered kept_drop_;
};

}  // namespace rrkit::gateway
