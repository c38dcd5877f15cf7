#pragma once
// Load generation against one or more gateways: closed loop (N workers, each waiting for
// its answer before sending again) or open loop (a constant arrival rate, latency measured
// from the intended send time so that a slow server cannot hide queueing: no coordinated
// omission). One thread, asynchronous I/O: thousands of requests in flight at once. This is the HTTP
// client loop; what it sends (the plan, keys, bodies, schedule) is decided in harness/traffic_plan.h.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "harness/result.h"
#include "harness/traffic_plan.h"

namespace rrkit::harness {

struct TrafficProgress {
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> answered{0};
  // Set from any thread to stop: nothing more is sent, requests in flight are abandoned (outcome
  // "interrupted") and run_traffic returns the records of what was sent.
  std::atomic<bool> stop{false};
  // Connection reuse, for reports and tests.
  std::atomic<std::uint64_t> connections_opened{0};
  std::atomic<std::uint64_t> stale_discarded{0};   // pooled connections closed for age or a peer close
  std::atomic<std::uint64_t> retried_unsent{0};    // requests resent on a fresh connection (nothing was sent)
};

// Runs the plan to completion (every request answered, abandoned or given up on) and returns
// one record per request, in sending order. `progress` is updated as it goes (any thread may read it).
std::vector<RequestRecord> run_traffic(const TrafficPlan& plan, TrafficProgress& progress);

// The idle bound a `Keep-Alive` header value asks for ("timeout=5, max=100" -> 5 s); nullopt when it
// names no timeout. Exposed for tests.
std::optional<std::chrono::milliseconds> keep_alive_timeout(std::string_view header_value);

// How long a connection may idle in the pool: the configured bound, lowered to stay clear of the
// server's announced timeout (half of it for short timeouts, one second less for long ones).
std::chrono::milliseconds reuse_bound(std::chrono::milliseconds configured,
                                      std::optional<std::chrono::milliseconds> server_timeout);

// Resolves a host name or address for the traffic client; false with a message when it cannot.
bool resolve_host(const std::string& host, std::string& error);

}  // namespace rrkit::harness
