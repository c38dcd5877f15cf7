#pragma once
// Bringing a scenario's stack to its starting point, shared by `run` (harness/runner.cpp) and `up`
// (harness/up.cpp): the topology a scenario asks for, and the warm-up that precedes its fault profile.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "harness/result.h"
#include "harness/scenario.h"
#include "harness/topology.h"
#include "harness/traffic.h"

namespace rrkit::harness {

// The stack a scenario runs on, in run_dir; with_profile=false starts the simulator fault-free
// (the runner applies the scenario's profile after the warm-up).
TopologyOptions topology_options(const Scenario& sc, const std::filesystem::path& run_dir, bool with_profile);

// The warm-up's traffic: sc.warmup fault-free requests per gateway, one at a time, with a long timeout.
TrafficPlan warmup_plan(const Scenario& sc, const std::vector<std::uint16_t>& gateway_ports);

// The warm-up's last pass: as many requests at once as the scenario's closed loop keeps in flight
// (per gateway), so that opening that many connections and a gateway's first-use costs under
// concurrency (a JIT's cold code, one publish connection per concurrent request) are paid here and
// not by the scenario's first burst, whose timeouts would otherwise start late on a single-threaded
// gateway. requests == 0 when the scenario sends one request at a time or in an open loop.
TrafficPlan warmup_burst_plan(const Scenario& sc, const std::vector<std::uint16_t>& gateway_ports);

// Before that burst, for a SUT with ready.warmup (hold): a closed loop for that long (requests 0,
// duration hold), as wide as the scenario's but at most kWarmupHoldConcurrency, so that a runtime
// that compiles under load (V8, the JVM, .NET) has run its request path thousands of times. Narrower
// than a wide scenario on purpose: 200 at once for 12 s timed out nearly every request on a 2-core
// stack, and their thousands of late replies were still arriving when the scenario started. Duration
// 0 when there is no hold or no burst.
inline constexpr int kWarmupHoldConcurrency = 16;
TrafficPlan warmup_hold_plan(const Scenario& sc, const std::vector<std::uint16_t>& gateway_ports,
                             std::chrono::microseconds hold);

// Runs traffic on its own thread while this one forwards an interruption (interrupt set to a signal
// number) to it and calls tick every 100 ms; an exception on the traffic thread is rethrown here.
std::vector<RequestRecord> run_traffic_watched(const TrafficPlan& plan, TrafficProgress& progress,
                                               const std::atomic<int>* interrupt, const std::function<void()>& tick);

enum class WarmupStatus { done, failed, interrupted };

struct WarmupResult {
  WarmupStatus status = WarmupStatus::done;
  std::string summary;  // "warm-up: 10/10 requests answered 200, first 250 ms, slowest 300 ms" (empty: none sent)
  std::string error;    // for failed
  std::uint64_t sent = 0;  // warm-up requests sent over every attempt (their replies reach the counters)
  int attempts = 0;
};

// A gateway whose timeout is its own (X-Request-Timeout-Ms ignored) may time out the first requests
// on a fresh stack: the warm-up is sent again, up to this many times in all, until one pass is all 200.
inline constexpr int kWarmupAttempts = 3;

// The warm-up: sc.warmup fault-free requests through every gateway, so that the scenario's first
// requests do not pay for connection set-up, producer ids and consumer fetch start (the very first
// reply can take a second on a fresh broker); then the scenario's profile is applied. Nothing is sent
// when sc.warmup is 0 (the simulator then started with the profile).
// With keep, every pass leaves its idle connections there, for the scenario's traffic to start on them.
WarmupResult warm_up(Topology& topo, const Scenario& sc, const std::filesystem::path& run_dir,
                     const std::atomic<int>* interrupt, const std::shared_ptr<KeptConnections>& keep = nullptr);

}  // namespace rrkit::harness
