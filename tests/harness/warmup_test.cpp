#include <catch2/catch.hpp>

#include <string>

#include "harness/warmup.h"

namespace warmup_test {

using namespace rrkit::harness;

namespace {

Scenario closed_loop(int concurrency) {
  Scenario sc;
  sc.name = "burst";
  sc.warmup = 10;
  sc.traffic.mode = TrafficPlan::Mode::closed;
  sc.traffic.concurrency = concurrency;
  sc.traffic.requests = 1000;
  return sc;
}

}  // namespace

TEST_CASE("the warm-up ends with a burst as wide as the scenario's closed loop, per gateway", "[unit][warmup]") {
  // A single-threaded gateway starts a request's timeout only when it gets to it: a cold first burst
  // of 50 took it 240 ms to read, so the last 504s came 200 ms past their bound. The burst pays that
  // cost before the measured traffic.
  const Scenario sc = closed_loop(50);
  const TrafficPlan burst = warmup_burst_plan(sc, {8081, 8082});
  CHECK(burst.mode == TrafficPlan::Mode::closed);
  CHECK(burst.concurrency == 50);
  CHECK(burst.requests == 100);
  CHECK(burst.gateway_ports == std::vector<std::uint16_t>{8081, 8082});
  // Fault-free with the warm-up's long timeout, and keys of its own (the simulator decides once per key).
  CHECK(burst.request_timeout_ms == warmup_plan(sc, {8081, 8082}).request_timeout_ms);
  CHECK(burst.key_prefix != warmup_plan(sc, {8081, 8082}).key_prefix);
  CHECK(burst.key_prefix != sc.traffic.key_prefix);
}

TEST_CASE("a SUT's ready.warmup holds a closed loop, at most 16 wide, for that long before the burst", "[unit][warmup]") {
  // node-gateway's first ~10 s of a 200-wide closed loop ran at 270-770 req/s with 504s up to +900 ms
  // late (V8 compiling under load); from the 11th second on, 950 req/s and at most +150 ms.
  const Scenario sc = closed_loop(200);
  const TrafficPlan held = warmup_hold_plan(sc, {8081}, std::chrono::seconds(12));
  CHECK(held.mode == TrafficPlan::Mode::closed);
  CHECK(held.concurrency == kWarmupHoldConcurrency);
  CHECK(held.requests == 0);  // for the duration, not a count
  CHECK(held.duration == std::chrono::seconds(12));
  CHECK(held.request_timeout_ms == warmup_plan(sc, {8081}).request_timeout_ms);
  // Keys of its own: the simulator decides once per key.
  CHECK(held.key_prefix != warmup_burst_plan(sc, {8081}).key_prefix);
  CHECK(held.key_prefix != warmup_plan(sc, {8081}).key_prefix);
  // A narrower scenario keeps its own width.
  CHECK(warmup_hold_plan(closed_loop(8), {8081}, std::chrono::seconds(12)).concurrency == 8);
  // The burst that follows is unchanged: one pass as wide as the scenario.
  CHECK(warmup_burst_plan(sc, {8081}).requests == 200);
  CHECK(warmup_burst_plan(sc, {8081}).duration == std::chrono::microseconds(0));
  // No hold without ready.warmup, nor for a scenario that sends one request at a time or an open loop.
  CHECK(warmup_hold_plan(sc, {8081}, std::chrono::microseconds(0)).duration == std::chrono::microseconds(0));
  const TrafficPlan one = warmup_hold_plan(closed_loop(1), {8081}, std::chrono::seconds(12));
  CHECK(one.requests == 0);
  CHECK(one.duration == std::chrono::microseconds(0));
  Scenario open = closed_loop(50);
  open.traffic.mode = TrafficPlan::Mode::open;
  CHECK(warmup_hold_plan(open, {8081}, std::chrono::seconds(12)).duration == std::chrono::microseconds(0));
}

TEST_CASE("no warm-up burst for a scenario that sends one request at a time or an open loop", "[unit][warmup]") {
  CHECK(warmup_burst_plan(closed_loop(1), {8081}).requests == 0);
  Scenario open = closed_loop(50);
  open.traffic.mode = TrafficPlan::Mode::open;
  CHECK(warmup_burst_plan(open, {8081}).requests == 0);
}

}  // namespace warmup_test
