#pragma once
// What a fault cost the clients, per scenario: computed from the request records alone (send time,
// answer time, outcome), so `rr-harness replay` gives the same figures as the run. Pure.
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "harness/result.h"

namespace rrkit::harness {

struct FailoverInput {
  const std::vector<RequestRecord>* requests = nullptr;
  std::int64_t started_us = 0;                       // epoch µs the timeline counts from (first request)
  std::vector<std::chrono::microseconds> fault_at;   // timeline action times, offsets from started_us
  std::int64_t request_timeout_us = 1'000'000;       // how long a request hit by the last fault may still wait
  std::int64_t recovery_window_us = 1'000'000;       // "service back": a window this long of 200s only
  std::optional<double> duplicate_replies;           // the gateways' duplicate counter, when read
};

// Empty timeline: FailoverCost{} (applies == false). Otherwise the fault window runs from the first
// action to the last one plus the request timeout (a request sent just before the last action can be hurt
// by it until its deadline); requests are placed by their intended send time, and one still in flight
// when the first action played counts as during the window. Service is back from the first request sent
// in the window from which recovery_window_us of sent requests were all answered 200 within that time.
FailoverCost failover_cost(const FailoverInput& in);

}  // namespace rrkit::harness
