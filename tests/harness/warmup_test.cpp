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

TEST_CASE("no warm-up burst for a scenario that sends one request at a time or an open loop", "[unit][warmup]") {
  CHECK(warmup_burst_plan(closed_loop(1), {8081}).requests == 0);
  Scenario open = closed_loop(50);
  open.traffic.mode = TrafficPlan::Mode::open;
  CHECK(warmup_burst_plan(open, {8081}).requests == 0);
}

}  // namespace warmup_test
