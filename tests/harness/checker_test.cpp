#include <catch2/catch.hpp>

#include "common/reply.h"
#include "harness/checker.h"

using namespace rrkit::harness;
using nlohmann::json;

namespace {

constexpr std::int64_t kT0 = 1'700'000'000'000'000;

Scenario base_scenario() {
  Scenario s;
  s.path = "test.yaml";
  s.name = "test";
  s.gateway_timeout = std::chrono::seconds(1);
  return s;
}

// A request the gateway answered 200 with the legacy system's reply for `payload_nonce`.
RequestRecord answered(std::uint64_t i, const std::string& id, const std::string& payload_nonce) {
  RequestRecord r;
  r.index = i;
  r.nonce = "n" + std::to_string(i);
  r.correlation_id = id;
  r.sent_us = r.intended_us = kT0 + static_cast<std::int64_t>(i) * 1000;
  r.done_us = r.sent_us + 5000;
  r.http_status = 200;
  r.outcome = "ok";
  r.request_body = json{{"nonce", r.nonce}}.dump();
  const json echo = {{"nonce", payload_nonce}, {"correlationId", id}};
  r.response_body = json{{"correlationId", id}, {"response", rrkit::make_reply(id, true, rrkit::reply_payload_for(echo))}}.dump();
  return r;
}

RequestRecord timed_out(std::uint64_t i, const std::string& id, std::int64_t after_us) {
  RequestRecord r;
  r.index = i;
  r.nonce = "n" + std::to_string(i);
  r.correlation_id = id;
  r.sent_us = r.intended_us = kT0;
  r.done_us = kT0 + after_us;
  r.http_status = 504;
  r.outcome = "timeout";
  return r;
}

json decision(const std::string& id, int copies = 1) {
  return {{"type", "decision"}, {"id", id}, {"rule", "default"}, {"kind", "ok"}, {"copies", copies}, {"drop", copies == 0}};
}

json reply(const std::string& request_id, const std::string& reply_id, std::int64_t sent_us, const std::string& kind = "ok") {
  json j = {{"type", "reply"}, {"request_id", request_id}, {"kind", kind}, {"sent_us", sent_us}};
  j["reply_id"] = reply_id.empty() ? json(nullptr) : json(reply_id);
  return j;
}

std::string metrics(int matched, int late, int duplicate, int unknown, int malformed, int pending = 0) {
  return "# TYPE rr_gateway_replies_total counter\n"
         "rr_gateway_replies_total{class=\"matched\"} " + std::to_string(matched) + "\n"
         "rr_gateway_replies_total{class=\"late\"} " + std::to_string(late) + "\n"
         "rr_gateway_replies_total{class=\"duplicate\"} " + std::to_string(duplicate) + "\n"
         "rr_gateway_replies_total{class=\"unknown\"} " + std::to_string(unknown) + "\n"
         "rr_gateway_replies_total{class=\"malformed\"} " + std::to_string(malformed) + "\n"
         "rr_gateway_pending " + std::to_string(pending) + "\n";
}

const CheckResult& check_named(const ScenarioResult& r, const std::string& prefix) {
  for (const auto& c : r.checks) {
    if (c.name.rfind(prefix, 0) == 0) return c;
  }
  FAIL("no check " << prefix);
  return r.checks.front();
}

}  // namespace

TEST_CASE("a clean run passes every invariant") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.requests = {answered(0, "a", "n0"), answered(1, "b", "n1")};
  in.decisions = {decision("a"), decision("b"), reply("a", "a", kT0 + 1000), reply("b", "b", kT0 + 2000)};
  in.gateway_metrics = {metrics(2, 0, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  for (const auto& c : out.checks) {
    INFO(c.name << ": " << c.message);
    CHECK(c.passed);
  }
  CHECK(out.status == "pass");
  CHECK(out.classifications["ok"] == 2);
}

TEST_CASE("a 200 carrying another request's payload is reported as mis-correlated") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.requests = {answered(0, "a", "n1"), answered(1, "b", "n1")};
  in.decisions = {decision("a"), decision("b"), reply("a", "a", kT0), reply("b", "b", kT0)};
  in.gateway_metrics = {metrics(2, 0, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  CHECK_FALSE(check_named(out, "no_mis_correlation").passed);
  CHECK(out.status == "fail");
  CHECK(out.requests[0].classification == "mis_correlated");
  CHECK(out.requests[1].classification == "ok");
}

TEST_CASE("a 504 outside [timeout, timeout + epsilon] breaks timeout_bounds") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.requests = {timed_out(0, "a", 1'050'000), timed_out(1, "b", 1'400'000), timed_out(2, "c", 900'000)};
  in.decisions = {decision("a", 0), decision("b", 0), decision("c", 0)};
  in.gateway_metrics = {metrics(0, 0, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  const auto& c = check_named(out, "timeout_bounds");
  CHECK_FALSE(c.passed);
  CHECK(c.message.find("#1") != std::string::npos);
  CHECK(c.message.find("#2") != std::string::npos);
  CHECK(c.message.find("#0") == std::string::npos);
}

TEST_CASE("a 504 for a reply sent in time is a lost reply; a reply after the deadline is late") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.requests = {timed_out(0, "a", 1'010'000), timed_out(1, "b", 1'010'000)};
  in.decisions = {decision("a"), decision("b"), reply("a", "a", kT0 + 20'000), reply("b", "b", kT0 + 1'200'000)};
  in.gateway_metrics = {metrics(0, 2, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  CHECK_FALSE(check_named(out, "no_lost_replies").passed);
  CHECK(out.requests[0].classification == "lost_reply");
  CHECK(out.requests[1].classification == "late_reply");
}

TEST_CASE("expected reply counters follow the history, the copies and the deployment") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  // a: answered, sent twice -> matched + duplicate. b: timed out, reply came -> late.
  // c: corrupt copy -> malformed. x: an id nobody issued -> unknown.
  in.requests = {answered(0, "a", "n0"), timed_out(1, "b", 1'000'500)};
  in.decisions = {reply("a", "a", kT0), reply("a", "a", kT0 + 10), reply("b", "b", kT0 + 2'000'000),
                  reply("c", "", kT0, "corrupt"), reply("d", "x", kT0, "wrong_id")};
  SECTION("one gateway") {
    in.gateways = 1;
    const auto e = expected_replies(in);
    CHECK(e.matched == 1);
    CHECK(e.duplicate == 1);
    CHECK(e.late == 1);
    CHECK(e.malformed == 1);
    CHECK(e.unknown == 1);
  }
  SECTION("three gateways in broadcast: the other instances see every reply as unknown") {
    in.gateways = 3;
    const auto e = expected_replies(in);
    CHECK(e.matched == 1);
    CHECK(e.malformed == 3);
    CHECK(e.unknown == 3 + 2 * 3);
  }
  SECTION("reply-to: only the owner sees its replies") {
    in.gateways = 3;
    in.reply_mode = "reply-to";
    CHECK(expected_replies(in).unknown == 1);
  }
}

TEST_CASE("counter mismatches say what was expected and what the gateway counted") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.requests = {timed_out(0, "a", 1'000'500)};
  in.decisions = {reply("a", "a", kT0 + 2'000'000)};
  in.gateway_metrics = {metrics(0, 0, 0, 1, 0)};
  ScenarioResult out;
  run_checks(in, out);
  const auto& c = check_named(out, "reply_counters");
  CHECK_FALSE(c.passed);
  CHECK(c.message.find("expected late_replies == 1, gateway counted 0") != std::string::npos);
}

TEST_CASE("a negative control passes only when its violation is found") {
  Scenario sc = base_scenario();
  sc.expect_violations = {"no_mis_correlation"};
  CheckInput in;
  in.scenario = &sc;
  in.requests = {answered(0, "a", "n0")};
  in.decisions = {reply("a", "a", kT0)};
  in.gateway_metrics = {metrics(1, 0, 0, 0, 0)};
  ScenarioResult clean;
  run_checks(in, clean);
  CHECK_FALSE(check_named(clean, "no_mis_correlation").passed);
  CHECK(clean.status == "fail");

  in.requests = {answered(0, "a", "zzz")};
  ScenarioResult swapped;
  run_checks(in, swapped);
  CHECK(check_named(swapped, "no_mis_correlation").passed);
}

TEST_CASE("assertions evaluate arithmetic over counts and report both sides") {
  Scenario sc = base_scenario();
  Assertion a;
  a.text = "outcome.ok - 1 == outcome.timeout * 2";
  a.lhs = "outcome.ok - 1";
  a.op = "==";
  a.rhs = "outcome.timeout * 2";
  sc.assertions.push_back(a);
  Assertion bad = a;
  bad.text = bad.lhs = "no.such.metric";
  sc.assertions.push_back(bad);
  CheckInput in;
  in.scenario = &sc;
  in.requests = {answered(0, "a", "n0"), answered(1, "b", "n1"), answered(2, "c", "n2"), timed_out(3, "d", 1'000'100)};
  in.gateway_metrics = {metrics(3, 0, 0, 0, 0)};
  in.decisions = {reply("a", "a", kT0), reply("b", "b", kT0), reply("c", "c", kT0)};
  ScenarioResult out;
  run_checks(in, out);
  CHECK(check_named(out, "assert: outcome.ok - 1").passed);
  const auto& c = check_named(out, "assert: no.such.metric");
  CHECK_FALSE(c.passed);
  CHECK(c.message.find("unknown metric") != std::string::npos);
}

TEST_CASE("metric_value sums labelled and plain samples") {
  const std::string text = metrics(3, 1, 0, 2, 0, 4) + "rr_gateway_pending_other 9\n";
  CHECK(metric_value(text, "rr_gateway_replies_total", "class", "matched") == 3);
  CHECK(metric_value(text, "rr_gateway_replies_total", "class", "unknown") == 2);
  CHECK(metric_value(text, "rr_gateway_pending") == 4);
  CHECK(metric_value(text, "rr_gateway_missing") == 0);
}

TEST_CASE("percentile is nearest-rank") {
  CHECK(percentile({}, 50) == 0);
  CHECK(percentile({5, 1, 3, 2, 4}, 50) == 3);
  CHECK(percentile({5, 1, 3, 2, 4}, 100) == 5);
  CHECK(percentile({5, 1, 3, 2, 4}, 1) == 1);
}

TEST_CASE("a 200 answer nested 100,000 levels deep is an unparseable answer, not a crash") {
  // Parsing such a body succeeds; comparing or dumping it recurses once per level and overflows the
  // stack. The checker must refuse it before that and say why.
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  RequestRecord r = answered(0, "a", "n0");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  r.response_body = R"({"correlationId":"a","response":{"correlationId":"a","status":"ok","payload":{"digest":"x","echo":{"nonce":"n0","deep":)" +
                    deep + "}}}}";
  in.requests = {r, answered(1, "b", "n1")};
  in.decisions = {decision("a"), decision("b"), reply("a", "a", kT0), reply("b", "b", kT0)};
  in.gateway_metrics = {metrics(2, 0, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  CHECK(out.requests[0].classification == "unparseable_answer");
  CHECK(out.requests[1].classification == "ok");
  const auto& c = check_named(out, "no_mis_correlation");
  CHECK_FALSE(c.passed);
  CHECK(c.message.find("nested deeper than") != std::string::npos);
  CHECK(out.status == "fail");
}

TEST_CASE("an echoed nonce that is not a string reads as missing") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  RequestRecord r = answered(0, "a", "n0");
  const json echo = {{"nonce", 5}, {"correlationId", "a"}};
  r.response_body = json{{"correlationId", "a"}, {"response", rrkit::make_reply("a", true, rrkit::reply_payload_for(echo))}}.dump();
  in.requests = {r};
  in.decisions = {decision("a"), reply("a", "a", kT0)};
  in.gateway_metrics = {metrics(1, 0, 0, 0, 0)};
  ScenarioResult out;
  REQUIRE_NOTHROW(run_checks(in, out));
  CHECK(out.requests[0].classification == "mis_correlated");
}

TEST_CASE("decision-log members of an unexpected type read as absent") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.requests = {answered(0, "a", "n0"), timed_out(1, "b", 1'010'000)};
  json odd = decision("a");
  odd["kind"] = 7;
  odd["copies"] = "three";
  odd["reorder"] = "yes";
  odd["rule"] = json::array();
  odd["delay_us"] = "soon";
  json odd_reply = reply("b", "b", kT0);
  odd_reply["sent_us"] = "early";
  in.decisions = {odd, decision("b"), reply("a", "a", kT0), odd_reply};
  in.gateway_metrics = {metrics(1, 1, 0, 0, 0)};
  ScenarioResult out;
  REQUIRE_NOTHROW(run_checks(in, out));
  CHECK(out.requests[0].classification == "ok");
  CHECK(out.requests[0].simulator_action == "ok");
}

TEST_CASE("a request interrupted in flight gets no verdict and breaks no invariant") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  RequestRecord r;
  r.index = 0;
  r.nonce = "n0";
  r.sent_us = r.intended_us = kT0;
  r.done_us = kT0 + 1000;
  r.outcome = "interrupted";
  r.client_error = "interrupted";
  in.requests = {r};
  in.gateway_metrics = {metrics(0, 0, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  CHECK(out.requests[0].classification == "interrupted");
  CHECK(check_named(out, "one_answer").passed);
}
