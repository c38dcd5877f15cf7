// The figures the checker derives for scenario assertions: expected.disconnects,
// simulator.replies_out_of_order and latency.<outcome>.<stat>.
#include <catch2/catch.hpp>

#include <set>

#include "harness/checker.h"
#include "harness/traffic.h"
#include "testkit/keepalive_server.h"

namespace checker_derived_test {

using namespace rrkit::harness;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000;

Scenario scenario_with(std::vector<std::string> asserts) {
  Scenario s;
  s.path = "derived.yaml";
  s.name = "derived";
  s.gateway_timeout = std::chrono::seconds(1);
  for (auto& text : asserts) {
    Assertion a;
    a.text = text;
    const auto op_at = text.find_first_of("<>=!");
    const auto op_end = text.find(' ', op_at);
    a.lhs = text.substr(0, op_at - 1);
    a.op = text.substr(op_at, op_end - op_at);
    a.rhs = text.substr(op_end + 1);
    s.assertions.push_back(std::move(a));
  }
  return s;
}

RequestRecord record(std::uint64_t i, const std::string& outcome, std::int64_t latency_us) {
  RequestRecord r;
  r.index = i;
  r.nonce = "n" + std::to_string(i);
  r.sent_us = r.intended_us = kT0 + static_cast<std::int64_t>(i) * 1000;
  r.done_us = r.sent_us + latency_us;
  r.outcome = parse_outcome(outcome).value();
  r.client_error = outcome == "disconnected" ? "disconnected" : "";
  r.http_status = outcome == "rejected" ? 503 : outcome == "timeout" ? 504 : outcome == "error" ? 502 : 0;
  return r;
}

const CheckResult& check_named(const ScenarioResult& r, const std::string& name) {
  for (const auto& c : r.checks) {
    if (c.name == name) return c;
  }
  FAIL("no check " << name);
  return r.checks.front();
}

json decision(const std::string& id, std::int64_t arrived_us) {
  return {{"type", "decision"}, {"ts_us", arrived_us}, {"id", id}, {"rule", "default"}, {"kind", "ok"}};
}

// A reply Kafka confirmed: handed to the producer at sent_us, its delivery report at delivered_us.
json reply(const std::string& request_id, std::int64_t sent_us, std::int64_t delivered_us = 0, int copy = 1) {
  return {{"type", "reply"},   {"request_id", request_id}, {"reply_id", request_id}, {"kind", "ok"},
          {"copy", copy},      {"sent_us", sent_us},       {"planned_us", sent_us},
          {"delivered_us", delivered_us > 0 ? delivered_us : sent_us + 2000}};
}

}  // namespace

TEST_CASE("expected.disconnects is the exact number of requests the client abandons, from the run's seed") {
  Scenario sc = scenario_with({"outcome.disconnected == expected.disconnects"});
  sc.seed = 29;  // the run's seed; sc.traffic.seed keeps its default, as loaded scenarios do
  sc.traffic.disconnect_fraction = 0.25;
  TrafficPlan plan = sc.traffic;
  plan.seed = sc.seed;
  std::vector<RequestRecord> requests;
  std::size_t abandoned = 0;
  for (std::uint64_t i = 0; i < 320; ++i) {
    const bool gone = abandons(plan, i);
    abandoned += gone ? 1 : 0;
    requests.push_back(record(i, gone ? "disconnected" : "ok", 500'000));
  }
  REQUIRE(abandoned > 40);  // the fraction really picks a quarter or so
  REQUIRE(abandoned < 120);
  CheckInput in;
  in.scenario = &sc;
  in.requests = requests;
  ScenarioResult out;
  run_checks(in, out);
  CHECK(check_named(out, "assert: outcome.disconnected == expected.disconnects").passed());

  SECTION("one abandoned request that was answered instead breaks the exact count") {
    for (auto& r : in.requests) {
      if (r.outcome == Outcome::disconnected) {
        r.outcome = Outcome::ok;
        break;
      }
    }
    run_checks(in, out);
    const auto& c = check_named(out, "assert: outcome.disconnected == expected.disconnects");
    CHECK_FALSE(c.passed());
    CHECK(c.message.find(std::to_string(abandoned)) != std::string::npos);
  }
  SECTION("another seed abandons other requests") {
    sc.seed = 30;
    run_checks(in, out);
    CHECK_FALSE(check_named(out, "assert: outcome.disconnected == expected.disconnects").passed());
  }
  SECTION("no disconnect fraction: none expected") {
    sc.traffic.disconnect_fraction = 0;
    sc.assertions = scenario_with({"expected.disconnects == 0"}).assertions;
    run_checks(in, out);
    CHECK(check_named(out, "assert: expected.disconnects == 0").passed());
  }
}

TEST_CASE("the traffic client abandons exactly the requests the checker expects") {
  // A server that never answers, and a client timeout equal to the hang-up time: every request ends
  // by the client's own timer, so which ones count as disconnected depends on the plan alone.
  rrkit::test::KeepAliveServerOptions o;
  o.never_answer = true;
  rrkit::test::KeepAliveServer server(o);
  TrafficPlan plan;
  plan.mode = TrafficPlan::Mode::closed;
  plan.concurrency = 8;
  plan.requests = 48;
  plan.seed = 7;
  plan.disconnect_fraction = 0.3;
  plan.disconnect_after = 200ms;
  plan.client_timeout = 200ms;
  plan.gateway_ports = {server.port()};
  TrafficProgress progress;
  const auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 48);
  std::set<std::uint64_t> disconnected, expected;
  for (const auto& r : records) {
    if (r.outcome == Outcome::disconnected) disconnected.insert(r.index);
    else CHECK(r.outcome == Outcome::no_answer);
    if (abandons(plan, r.index)) expected.insert(r.index);
  }
  CHECK_FALSE(expected.empty());
  CHECK(disconnected == expected);
}

TEST_CASE("simulator.replies_out_of_order counts confirmed replies produced before an earlier request's reply") {
  Scenario sc = scenario_with({"simulator.replies_out_of_order == 2"});
  CheckInput in;
  in.scenario = &sc;
  // Requests arrived a, b, c, d; their replies were produced a, c, d, b: c and d overtook b.
  in.decisions = {decision("a", kT0 + 1), decision("b", kT0 + 2), decision("c", kT0 + 3), decision("d", kT0 + 4),
                  reply("a", kT0 + 10),   reply("b", kT0 + 40),   reply("c", kT0 + 20),   reply("d", kT0 + 30),
                  // Ignored: a duplicate's later copy, a reply to a request never logged.
                  reply("a", kT0 + 50, 0, 2), reply("zz", kT0 + 5)};
  // A reply that was never confirmed (no delivery report) did not reach Kafka: it places nothing.
  json unconfirmed = reply("b", kT0 + 15);
  unconfirmed.erase("delivered_us");
  in.decisions.push_back(unconfirmed);
  ScenarioResult out;
  run_checks(in, out);
  CHECK(check_named(out, "assert: simulator.replies_out_of_order == 2").passed());

  SECTION("replies produced in arrival order count none, whatever order the log lines are in") {
    in.decisions = {reply("c", kT0 + 30), decision("b", kT0 + 2), reply("a", kT0 + 10), decision("c", kT0 + 3),
                    decision("a", kT0 + 1), reply("b", kT0 + 20)};
    sc.assertions = scenario_with({"simulator.replies_out_of_order == 0"}).assertions;
    run_checks(in, out);
    CHECK(check_named(out, "assert: simulator.replies_out_of_order == 0").passed());
  }
  SECTION("delivery reports that come back per partition batch do not make an in-order run look reordered") {
    // Produced a, b, c, d; the batch holding b and d was confirmed before the one holding a and c.
    in.decisions = {decision("a", kT0 + 1),        decision("b", kT0 + 2),        decision("c", kT0 + 3),
                    decision("d", kT0 + 4),        reply("a", kT0 + 10, kT0 + 90), reply("b", kT0 + 11, kT0 + 60),
                    reply("c", kT0 + 12, kT0 + 91), reply("d", kT0 + 13, kT0 + 61)};
    sc.assertions = scenario_with({"simulator.replies_out_of_order == 0"}).assertions;
    run_checks(in, out);
    CHECK(check_named(out, "assert: simulator.replies_out_of_order == 0").passed());
  }
  SECTION("a redelivered request keeps its first arrival") {
    // b arrives again after c (redelivery); by its first arrival, c's reply overtook it.
    in.decisions = {decision("b", kT0 + 2), decision("c", kT0 + 3), decision("b", kT0 + 9), reply("c", kT0 + 20),
                    reply("b", kT0 + 30)};
    sc.assertions = scenario_with({"simulator.replies_out_of_order == 1"}).assertions;
    run_checks(in, out);
    CHECK(check_named(out, "assert: simulator.replies_out_of_order == 1").passed());
  }
}

TEST_CASE("latency.<outcome>.<stat> summarises each outcome apart") {
  Scenario sc = scenario_with({"latency.rejected.max == 40", "latency.rejected.p50 == 20", "latency.ok.max == 900",
                               "latency.timeout.mean == 1005", "latency.error.max == 0", "latency.rejected.max < 100"});
  CheckInput in;
  in.scenario = &sc;
  in.requests = {record(0, "rejected", 10'000), record(1, "rejected", 20'000), record(2, "rejected", 40'000),
                 record(3, "ok", 900'000),      record(4, "timeout", 1'000'000), record(5, "timeout", 1'010'000),
                 record(6, "disconnected", 150'000)};
  ScenarioResult out;
  run_checks(in, out);
  for (const auto& a : sc.assertions) {
    INFO(a.text << ": " << check_named(out, "assert: " + a.text).message);
    CHECK(check_named(out, "assert: " + a.text).passed());
  }

  SECTION("a 503 that waited out the deadline breaks a fail-fast bound") {
    in.requests.push_back(record(7, "rejected", 1'000'000));
    run_checks(in, out);
    CHECK_FALSE(check_named(out, "assert: latency.rejected.max < 100").passed());
  }
}

}  // namespace checker_derived_test
