// What a fault cost, computed from request records alone: the fault window, failures and timeouts in
// it, the longest gap without a 200, p99 per phase, duplicates, and when service was back.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <vector>

#include "harness/failover.h"
#include "harness/report/text.h"
#include "harness/result.h"

namespace failover_test {

using namespace rrkit::harness;
using rrkit::harness::report_detail::failover_rows;
using namespace std::chrono_literals;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000;  // epoch µs of the first request

RequestRecord answered(std::uint64_t index, std::int64_t sent_ms, Outcome outcome, std::int64_t latency_ms) {
  RequestRecord r;
  r.index = index;
  r.intended_us = r.sent_us = kT0 + sent_ms * 1000;
  r.done_us = r.sent_us + latency_ms * 1000;
  r.outcome = outcome;
  r.http_status = outcome == Outcome::ok ? 200 : outcome == Outcome::timeout ? 504 : 0;
  return r;
}

// One request every 100 ms for 10 s, 10 ms each; those sent in [3.0 s, 4.5 s) time out after 1 s.
std::vector<RequestRecord> outage_history() {
  std::vector<RequestRecord> h;
  for (std::int64_t k = 0; k < 100; ++k) {
    const std::int64_t t = k * 100;
    const bool hurt = t >= 3000 && t < 4500;
    h.push_back(answered(static_cast<std::uint64_t>(k), t, hurt ? Outcome::timeout : Outcome::ok, hurt ? 1000 : 10));
  }
  return h;
}

FailoverInput input_for(const std::vector<RequestRecord>& h, std::vector<std::chrono::microseconds> faults) {
  FailoverInput in;
  in.requests = &h;
  in.started_us = kT0;
  in.fault_at = std::move(faults);
  in.request_timeout_us = 1'000'000;
  in.recovery_window_us = 1'000'000;
  return in;
}

}  // namespace

TEST_CASE("failover: no timeline, no fault window", "[failover]") {
  const auto h = outage_history();
  const FailoverCost f = failover_cost(input_for(h, {}));
  CHECK_FALSE(f.applies);
  CHECK(failover_rows(f).empty());
}

TEST_CASE("failover: an outage's failures, gap, per-phase p99 and recovery", "[failover]") {
  const auto h = outage_history();
  const FailoverCost f = failover_cost(input_for(h, {3s}));
  REQUIRE(f.applies);
  // The window: the fault plus one request timeout.
  CHECK(f.window_start_ms == Approx(3000));
  CHECK(f.window_end_ms == Approx(4000));
  CHECK(f.requests_in_window == 11);  // sent at 3.0, 3.1, ..., 4.0 s
  CHECK(f.failed_in_window == 11);
  CHECK(f.timed_out_in_window == 11);
  // The last 200 before the window came at 2.91 s; the next at 4.51 s: counted from the window's start.
  CHECK(f.longest_gap_ms == Approx(1510));
  CHECK(f.p99_before_ms == Approx(10));
  CHECK(f.p99_during_ms == Approx(1000));
  CHECK(f.p99_after_ms == Approx(1000));  // 4.1 .. 4.4 s still timed out
  // The first request from which 1 s of sends is all 200s was sent at 4.5 s.
  CHECK(f.recovery_ms == Approx(1500));
  CHECK_FALSE(f.duplicates_read);
}

TEST_CASE("failover: several actions widen the window to the last one", "[failover]") {
  const auto h = outage_history();
  const FailoverCost f = failover_cost(input_for(h, {5s, 3s}));
  CHECK(f.window_start_ms == Approx(3000));
  CHECK(f.window_end_ms == Approx(6000));
  CHECK(f.requests_in_window == 31);
  CHECK(f.failed_in_window == 15);
}

TEST_CASE("failover: a service that never comes back within the run", "[failover]") {
  auto h = outage_history();
  for (auto& r : h) {
    if (r.intended_us >= kT0 + 3'000'000) {
      r.outcome = Outcome::error;
      r.http_status = 502;
    }
  }
  const FailoverCost f = failover_cost(input_for(h, {3s}));
  CHECK(f.recovery_ms < 0);
  CHECK(f.timed_out_in_window == 0);
  CHECK(f.failed_in_window == 11);
  // No 200 after the fault: the gap runs to the last answer of the run (sent at 9.9 s, 10 ms).
  CHECK(f.longest_gap_ms == Approx(6910));
  const auto rows = failover_rows(f);
  REQUIRE_FALSE(rows.empty());
  CHECK(rows.back().second == "not within the run");
}

TEST_CASE("failover: the last recovery window must be whole", "[failover]") {
  auto h = outage_history();
  // Failures until 9.5 s: what follows is less than a recovery window of traffic.
  for (auto& r : h) {
    if (r.intended_us >= kT0 + 3'000'000 && r.intended_us < kT0 + 9'500'000) r.outcome = Outcome::timeout;
  }
  CHECK(failover_cost(input_for(h, {3s})).recovery_ms < 0);
}

TEST_CASE("failover: scripted disconnects and unfinished requests are no failures", "[failover]") {
  auto h = outage_history();
  for (auto& r : h) {
    if (r.intended_us >= kT0 + 3'000'000 && r.intended_us < kT0 + 4'500'000) {
      r.outcome = Outcome::disconnected;
      r.http_status = 0;
    }
  }
  h.push_back(answered(100, 3500, Outcome::interrupted, 0));
  const FailoverCost f = failover_cost(input_for(h, {3s}));
  CHECK(f.requests_in_window == 0);
  CHECK(f.failed_in_window == 0);
  CHECK(f.recovery_ms == Approx(1500));  // the first request judged after the fault
}

TEST_CASE("failover: duplicates come from the gateways' counter, when read", "[failover]") {
  const auto h = outage_history();
  auto in = input_for(h, {3s});
  in.duplicate_replies = 4;
  const FailoverCost f = failover_cost(in);
  CHECK(f.duplicates_read);
  CHECK(f.duplicate_replies == Approx(4));
}

TEST_CASE("failover: a record without a start time counts from its first request", "[failover]") {
  const auto h = outage_history();
  auto in = input_for(h, {3s});
  in.started_us = 0;
  const FailoverCost f = failover_cost(in);
  CHECK(f.window_start_ms == Approx(3000));
  CHECK(f.failed_in_window == 11);
}

TEST_CASE("failover: the figures round-trip through the JSON report", "[failover]") {
  const auto h = outage_history();
  auto in = input_for(h, {3s});
  in.duplicate_replies = 2;
  ScenarioResult s;
  s.name = "x";
  s.failover = failover_cost(in);
  const ScenarioResult back = scenario_from_json(to_json(s));
  const FailoverCost& a = s.failover;
  const FailoverCost& b = back.failover;
  CHECK(b.applies == a.applies);
  CHECK(b.window_start_ms == a.window_start_ms);
  CHECK(b.window_end_ms == a.window_end_ms);
  CHECK(b.requests_in_window == a.requests_in_window);
  CHECK(b.failed_in_window == a.failed_in_window);
  CHECK(b.timed_out_in_window == a.timed_out_in_window);
  CHECK(b.longest_gap_ms == a.longest_gap_ms);
  CHECK(b.p99_before_ms == a.p99_before_ms);
  CHECK(b.p99_during_ms == a.p99_during_ms);
  CHECK(b.p99_after_ms == a.p99_after_ms);
  CHECK(b.duplicates_read == a.duplicates_read);
  CHECK(b.duplicate_replies == a.duplicate_replies);
  CHECK(b.recovery_ms == a.recovery_ms);
  CHECK(b.recovery_window_ms == a.recovery_window_ms);
  CHECK(to_json(s)["failover"]["failed_in_window"] == 11);
  // A report from before the figures existed reads as "no fault window".
  auto old = to_json(s);
  old.erase("failover");
  CHECK_FALSE(scenario_from_json(old).failover.applies);
  old["failover"] = {{"failed_in_window", "many"}};
  CHECK_THROWS_WITH(scenario_from_json(old), Catch::Contains("failover.failed_in_window"));
}

TEST_CASE("failover: a scenario without a fault window writes no failover member", "[failover]") {
  ScenarioResult s;
  s.name = "calm";
  CHECK_FALSE(to_json(s).contains("failover"));
}

TEST_CASE("failover: a request in flight when the fault struck counts as during it", "[failover]") {
  auto h = outage_history();
  // Sent at 2.9 s, answered 200 only at 12.9 s: it waited out the fault.
  h[29].done_us = h[29].intended_us + 10'000'000;
  const FailoverCost f = failover_cost(input_for(h, {3s}));
  CHECK(f.requests_in_window == 12);
  CHECK(f.failed_in_window == 11);
  CHECK(f.p99_before_ms == Approx(10));
  CHECK(f.p99_during_ms == Approx(10000));
}

TEST_CASE("failover: a 200 slower than the recovery window is not service yet", "[failover]") {
  auto h = outage_history();
  // From 4.5 s to 6 s the answers are 200s that took 3 s (a rebalance): service is back at 6.0 s.
  for (auto& r : h) {
    if (r.intended_us >= kT0 + 4'500'000 && r.intended_us < kT0 + 6'000'000) r.done_us = r.intended_us + 3'000'000;
  }
  CHECK(failover_cost(input_for(h, {3s})).recovery_ms == Approx(3000));
}

}  // namespace failover_test
