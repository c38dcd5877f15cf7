#include <cmath>

#include <catch2/catch.hpp>

#include "common/reply.h"
#include "harness/checker.h"
#include "check_fixtures.h"
#include "harness/report.h"

#include <sstream>

namespace checker_test {

using namespace rrkit::harness;
using nlohmann::json;

namespace {

using rrkit::harness::test::base_scenario;
using rrkit::harness::test::kT0;

// A request the gateway answered 200 with the legacy system's reply for `payload_nonce`.
RequestRecord answered(std::uint64_t i, const std::string& id, const std::string& payload_nonce) {
  const std::string nonce = "n" + std::to_string(i);
  RequestRecord r = rrkit::harness::test::ok_record(i, id, nonce, json{{"nonce", nonce}}.dump());
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
  r.outcome = Outcome::timeout;
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

std::string metrics_text(int matched, int late, int duplicate, int unknown, int malformed, int pending = 0) {
  return "# TYPE rr_gateway_replies_total counter\n"
         "rr_gateway_replies_total{class=\"matched\"} " + std::to_string(matched) + "\n"
         "rr_gateway_replies_total{class=\"late\"} " + std::to_string(late) + "\n"
         "rr_gateway_replies_total{class=\"duplicate\"} " + std::to_string(duplicate) + "\n"
         "rr_gateway_replies_total{class=\"unknown\"} " + std::to_string(unknown) + "\n"
         "rr_gateway_replies_total{class=\"malformed\"} " + std::to_string(malformed) + "\n"
         "rr_gateway_pending " + std::to_string(pending) + "\n";
}

MetricsScrape metrics(int matched, int late, int duplicate, int unknown, int malformed, int pending = 0) {
  return {metrics_text(matched, late, duplicate, unknown, malformed, pending), ""};
}

const CheckResult& check_named(const ScenarioResult& r, const std::string& prefix) {
  for (const auto& c : r.checks) {
    if (c.name.rfind(prefix, 0) == 0) return c;
  }
  FAIL("no check " << prefix);
  return r.checks.front();
}

// One request answered with its own payload, its reply decided and sent, the counters agreeing and
// nothing pending: a run with nothing wrong, for tests that add one violation to it.
CheckInput one_answered(const Scenario& sc) {
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  in.requests = {answered(0, "a", "n0")};
  in.decisions = {decision("a"), reply("a", "a", kT0)};
  in.gateway_metrics = {metrics(1, 0, 0, 0, 0)};
  return in;
}

// The same run plus request #1, which got no HTTP answer at all.
CheckInput with_unanswered(const Scenario& sc) {
  CheckInput in = one_answered(sc);
  RequestRecord r = answered(1, "", "n1");
  r.http_status = 0;
  r.outcome = Outcome::no_answer;
  r.client_error = "read: timed out";
  r.response_body.clear();
  in.requests.push_back(r);
  return in;
}

}  // namespace

TEST_CASE("a clean run passes every invariant") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  in.requests = {answered(0, "a", "n0"), answered(1, "b", "n1")};
  in.decisions = {decision("a"), decision("b"), reply("a", "a", kT0 + 1000), reply("b", "b", kT0 + 2000)};
  in.gateway_metrics = {metrics(2, 0, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  for (const auto& c : out.checks) {
    INFO(c.name << ": " << c.message);
    CHECK(c.passed());
  }
  CHECK(out.status == ScenarioStatus::pass);
  CHECK(out.classifications["ok"] == 2);
}

TEST_CASE("a 200 carrying another request's payload is reported as mis-correlated") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  in.requests = {answered(0, "a", "n1"), answered(1, "b", "n1")};
  in.decisions = {decision("a"), decision("b"), reply("a", "a", kT0), reply("b", "b", kT0)};
  in.gateway_metrics = {metrics(2, 0, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  CHECK_FALSE(check_named(out, "no_mis_correlation").passed());
  CHECK(out.status == ScenarioStatus::fail);
  CHECK(out.requests[0].classification == Classification::mis_correlated);
  CHECK(out.requests[1].classification == Classification::ok);
}

namespace {

// timeout_bounds over requests that each timed out `took_us` after they were sent (no reply was sent for any),
// on a SUT that declares `sut_epsilon` (zero: none).
CheckResult timeout_bounds_after(const Scenario& sc, const std::vector<std::int64_t>& took_us,
                                 std::chrono::microseconds sut_epsilon = std::chrono::microseconds(0)) {
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  in.sut.answer.timeout_epsilon = sut_epsilon;
  std::vector<nlohmann::json> decisions;
  for (std::size_t i = 0; i < took_us.size(); ++i) {
    const std::string id(1, static_cast<char>('a' + i));
    in.requests.push_back(timed_out(i, id, took_us[i]));
    decisions.push_back(decision(id, 0));
  }
  in.decisions = decisions;
  in.gateway_metrics = {metrics(0, 0, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  return check_named(out, "timeout_bounds");
}

}  // namespace

TEST_CASE("a 504 outside [timeout, timeout + epsilon] breaks timeout_bounds") {
  const CheckResult c = timeout_bounds_after(base_scenario(), {1'050'000, 1'400'000, 900'000});
  CHECK_FALSE(c.passed());
  CHECK(c.message.find("#1") != std::string::npos);
  CHECK(c.message.find("#2") != std::string::npos);
  CHECK(c.message.find("#0") == std::string::npos);
}

TEST_CASE("a 504 up to 1 ms before the timeout is a millisecond timer's resolution, an earlier one breaks timeout_bounds") {
  const CheckResult c = timeout_bounds_after(base_scenario(), {999'360, 998'900});  // 1 s timeout
  CHECK_FALSE(c.passed());
  CHECK(c.message.find("#0") == std::string::npos);
  CHECK(c.message.find("#1") != std::string::npos);
  CHECK(c.message.find("expected [999, 1150] ms") != std::string::npos);
}

TEST_CASE("a SUT's declared timeout epsilon widens timeout_bounds to it and no further") {
  // 1 s timeout, 150 ms epsilon; the SUT declares 500 ms. +400 ms is within it; +600 ms is not, nor an early one.
  const CheckResult c =
      timeout_bounds_after(base_scenario(), {1'400'000, 1'600'000, 900'000}, std::chrono::milliseconds(500));
  CHECK_FALSE(c.passed());
  CHECK(c.name.find("timeout + 500 ms") != std::string::npos);
  CHECK(c.message.find("#0") == std::string::npos);
  CHECK(c.message.find("#1") != std::string::npos);
  CHECK(c.message.find("expected [999, 1500] ms") != std::string::npos);
  CHECK(c.message.find("#2") != std::string::npos);
}

TEST_CASE("a 504 for a reply sent in time is a lost reply, a reply after the deadline is late") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  in.requests = {timed_out(0, "a", 1'010'000), timed_out(1, "b", 1'010'000)};
  in.decisions = {decision("a"), decision("b"), reply("a", "a", kT0 + 20'000), reply("b", "b", kT0 + 1'200'000)};
  in.gateway_metrics = {metrics(0, 2, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  CHECK_FALSE(check_named(out, "no_lost_replies").passed());
  CHECK(out.requests[0].classification == Classification::lost_reply);
  CHECK(out.requests[1].classification == Classification::late_reply);
}

TEST_CASE("expected reply counters follow the history, the copies and the deployment") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
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

TEST_CASE("a reply a killed simulator sent without logging it may be counted as a duplicate, no more") {
  // Request a was decided, the simulator died before it logged the reply, and the restarted
  // simulator decided it again and logged its reply: the gateway may see one or two copies.
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  in.gateways = 1;
  in.requests = {answered(0, "a", "n0")};
  in.decisions = {decision("a"), decision("a"), reply("a", "a", kT0 + 10)};
  const auto e = expected_replies(in);
  CHECK(e.duplicate == 0);
  CHECK(e.unconfirmed_duplicate == 1);
  for (const int dup : {0, 1}) {
    in.gateway_metrics = {metrics(1, 0, dup, 0, 0)};
    ScenarioResult out;
    run_checks(in, out);
    CHECK(check_named(out, "reply_counters").passed());
  }
  in.gateway_metrics = {metrics(1, 0, 2, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  const auto& c = check_named(out, "reply_counters");
  CHECK_FALSE(c.passed());
  CHECK(c.message.find("duplicate_replies between 0 and 1") != std::string::npos);
  SECTION("a request decided once has no such allowance") {
    in.decisions = {decision("a"), reply("a", "a", kT0 + 10)};
    CHECK(expected_replies(in).unconfirmed_duplicate == 0);
  }
}

TEST_CASE("counter mismatches say what was expected and what the gateway counted") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  in.requests = {timed_out(0, "a", 1'000'500)};
  in.decisions = {reply("a", "a", kT0 + 2'000'000)};
  in.gateway_metrics = {metrics(0, 0, 0, 1, 0)};
  ScenarioResult out;
  run_checks(in, out);
  const auto& c = check_named(out, "reply_counters");
  CHECK_FALSE(c.passed());
  CHECK(c.message.find("expected late_replies == 1, gateway counted 0") != std::string::npos);
}

TEST_CASE("a negative control passes only when its violation is found") {
  Scenario sc = base_scenario();
  sc.expect_violations = {Invariant::no_mis_correlation};
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  in.requests = {answered(0, "a", "n0"), answered(1, "b", "n1")};
  in.decisions = {reply("a", "a", kT0), reply("b", "b", kT0)};
  in.gateway_metrics = {metrics(2, 0, 0, 0, 0)};
  ScenarioResult clean;
  run_checks(in, clean);
  CHECK_FALSE(check_named(clean, "no_mis_correlation").passed());
  CHECK(clean.status == ScenarioStatus::fail);

  in.requests = {answered(0, "a", "n1"), answered(1, "b", "n0")};
  ScenarioResult swapped;
  run_checks(in, swapped);
  CHECK(check_named(swapped, "no_mis_correlation").passed());
  CHECK(swapped.status == ScenarioStatus::pass);
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
  in.pending = 0;
  in.requests = {answered(0, "a", "n0"), answered(1, "b", "n1"), answered(2, "c", "n2"), timed_out(3, "d", 1'000'100)};
  in.gateway_metrics = {metrics(3, 0, 0, 0, 0)};
  in.decisions = {reply("a", "a", kT0), reply("b", "b", kT0), reply("c", "c", kT0)};
  ScenarioResult out;
  run_checks(in, out);
  CHECK(check_named(out, "assert: outcome.ok - 1").passed());
  const auto& c = check_named(out, "assert: no.such.metric");
  CHECK_FALSE(c.passed());
  CHECK(c.message.find("unknown metric") != std::string::npos);
}

TEST_CASE("metric_value sums labelled and plain samples") {
  const std::string text = metrics_text(3, 1, 0, 2, 0, 4) + "rr_gateway_pending_other 9\n";
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
  in.pending = 0;
  RequestRecord r = answered(0, "a", "n0");
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  r.response_body = R"({"correlationId":"a","response":{"correlationId":"a","status":"ok","payload":{"digest":"x","echo":{"nonce":"n0","deep":)" +
                    deep + "}}}}";
  in.requests = {r, answered(1, "b", "n1")};
  in.decisions = {decision("a"), decision("b"), reply("a", "a", kT0), reply("b", "b", kT0)};
  in.gateway_metrics = {metrics(2, 0, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  CHECK(out.requests[0].classification == Classification::unparseable_answer);
  CHECK(out.requests[1].classification == Classification::ok);
  CHECK(check_named(out, "no_mis_correlation").passed());
  const auto& c = check_named(out, "verified_answers");
  CHECK_FALSE(c.passed());
  CHECK(c.message.find("nested deeper than") != std::string::npos);
  CHECK(out.status == ScenarioStatus::fail);
}

TEST_CASE("an echoed nonce that is not a string reads as missing") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  RequestRecord r = answered(0, "a", "n0");
  const json echo = {{"nonce", 5}, {"correlationId", "a"}};
  r.response_body = json{{"correlationId", "a"}, {"response", rrkit::make_reply("a", true, rrkit::reply_payload_for(echo))}}.dump();
  in.requests = {r};
  in.decisions = {decision("a"), reply("a", "a", kT0)};
  in.gateway_metrics = {metrics(1, 0, 0, 0, 0)};
  ScenarioResult out;
  REQUIRE_NOTHROW(run_checks(in, out));
  CHECK(out.requests[0].classification == Classification::unparseable_answer);
}

TEST_CASE("decision-log members of an unexpected type read as absent") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
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
  CHECK(out.requests[0].classification == Classification::ok);
  CHECK(out.requests[0].simulator_action == "ok");
}

TEST_CASE("a request interrupted in flight gets no verdict and breaks no invariant") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  RequestRecord r;
  r.index = 0;
  r.nonce = "n0";
  r.sent_us = r.intended_us = kT0;
  r.done_us = kT0 + 1000;
  r.outcome = Outcome::interrupted;
  r.client_error = "interrupted";
  in.requests = {r};
  in.gateway_metrics = {metrics(0, 0, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  CHECK(out.requests[0].classification == Classification::interrupted);
  CHECK(check_named(out, "one_answer").passed());
}

// ---------------------------------------------------------------------------------------------------------------
// Figures the checker could not read fail what needs them; they never read as zero.

namespace {

Assertion assertion(const std::string& lhs, const std::string& op, const std::string& rhs) {
  Assertion a;
  a.lhs = lhs;
  a.op = op;
  a.rhs = rhs;
  a.text = lhs + " " + op + " " + rhs;
  a.line = 7;
  return a;
}

}  // namespace

TEST_CASE("a failed /metrics scrape fails every check that needs a gateway figure, naming the gateway and why") {
  Scenario sc = base_scenario();
  sc.assertions = {assertion("gateway.replies_late", "==", "0"), assertion("outcome.ok", "==", "2")};
  CheckInput in;
  in.scenario = &sc;
  in.requests = {answered(0, "a", "n0"), answered(1, "b", "n1")};
  in.decisions = {decision("a"), decision("b"), reply("a", "a", kT0), reply("b", "b", kT0)};
  in.gateway_metrics = {{"", "unreachable: connection refused"}};
  in.pending = std::nullopt;
  in.pending_detail = "gateway 0: /metrics unreachable: connection refused";
  ScenarioResult out;
  run_checks(in, out);
  CHECK(out.status == ScenarioStatus::fail);
  const auto& counters = check_named(out, "reply_counters");
  CHECK(counters.failed());
  CHECK(counters.message.find("gateway 0: /metrics unreachable: connection refused") != std::string::npos);
  const auto& pending = check_named(out, "pending_drained");
  CHECK(pending.failed());
  CHECK(pending.message.find("gateway 0: /metrics unreachable: connection refused") != std::string::npos);
  const auto& late = check_named(out, "assert: gateway.replies_late");
  CHECK(late.failed());
  CHECK(late.message.find("gateway 0: /metrics unreachable: connection refused") != std::string::npos);
  // Figures the harness measured itself are still judged.
  CHECK(check_named(out, "assert: outcome.ok").passed());
  // Unread counters are not reported as zeros.
  CHECK(out.gateway_counters.count("replies_late") == 0);
}

TEST_CASE("a scrape without the sample, or a failed baseline scrape, is unreadable too") {
  Scenario sc = base_scenario();
  sc.assertions = {assertion("gateway.requests_ok", ">=", "0")};
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  in.requests = {answered(0, "a", "n0")};
  in.decisions = {decision("a"), reply("a", "a", kT0)};
  SECTION("the final scrape has no such sample") {
    in.gateway_metrics = {metrics(1, 0, 0, 0, 0)};  // no rr_gateway_requests_total at all
    ScenarioResult out;
    run_checks(in, out);
    CHECK(check_named(out, "reply_counters").passed());
    const auto& c = check_named(out, "assert: gateway.requests_ok");
    CHECK(c.failed());
    CHECK(c.message.find("gateway 0: /metrics has no rr_gateway_requests_total{outcome=\"ok\"} sample") !=
          std::string::npos);
  }
  SECTION("the second gateway's baseline scrape failed") {
    in.gateways = 2;
    in.gateway_metrics = {metrics(1, 0, 0, 1, 0), metrics(0, 0, 0, 1, 0)};
    in.gateway_baseline = {metrics(0, 0, 0, 0, 0), {"", "answered HTTP 500"}};
    ScenarioResult out;
    run_checks(in, out);
    const auto& c = check_named(out, "reply_counters");
    CHECK(c.failed());
    CHECK(c.message.find("gateway 1: baseline /metrics answered HTTP 500") != std::string::npos);
  }
  SECTION("fewer scrapes than gateways") {
    in.gateways = 2;
    in.gateway_metrics = {metrics(1, 0, 0, 1, 0)};
    ScenarioResult out;
    run_checks(in, out);
    const auto& c = check_named(out, "reply_counters");
    CHECK(c.failed());
    CHECK(c.message.find("gateway 1: no /metrics snapshot") != std::string::npos);
  }
}

TEST_CASE("an unreadable figure cannot satisfy a negative control, only an allow waives it") {
  Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.requests = {answered(0, "a", "n0")};
  in.decisions = {decision("a"), reply("a", "a", kT0)};
  in.gateway_metrics = {metrics(1, 0, 0, 0, 0)};
  in.pending = std::nullopt;
  in.pending_detail = "gateway 0: /metrics unreachable: connection refused";
  ScenarioResult out;
  SECTION("negative control") {
    sc.expect_violations = {Invariant::pending_drained};
    run_checks(in, out);
    const auto& c = check_named(out, "pending_drained");
    CHECK(c.failed());
    CHECK(c.message.find("cannot judge") != std::string::npos);
  }
  SECTION("allow") {
    sc.allow = {Invariant::pending_drained};
    run_checks(in, out);
    const auto& c = check_named(out, "pending_drained");
    CHECK(c.passed());
    CHECK(c.message.find("waived") != std::string::npos);
    CHECK(c.message.find("connection refused") != std::string::npos);
  }
  SECTION("a pending figure nobody set is not a drained gateway") {
    in.pending_detail.clear();
    run_checks(in, out);
    CHECK(check_named(out, "pending_drained").failed());
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One violating input for each invariant that had none.

TEST_CASE("times read back from a run folder cannot overflow the checker's arithmetic") {
  // Replay reads times from files: the extremes of int64 must give a verdict, not undefined
  // behaviour (the sanitizer build of the tests halts on it).
  const Scenario sc = base_scenario();
  CheckInput in = one_answered(sc);
  RequestRecord r = answered(1, "b", "n1");
  r.outcome = Outcome::timeout;
  r.http_status = 504;
  r.sent_us = INT64_MIN + 1;
  r.intended_us = INT64_MIN + 1;
  r.done_us = INT64_MAX;
  in.requests.push_back(r);
  in.decisions.push_back(decision("b"));
  in.decisions.push_back(reply("b", "b", INT64_MAX));
  ScenarioResult out;
  run_checks(in, out);
  CHECK(check_named(out, "timeout_bounds").failed());
  CHECK(std::isfinite(out.requests[1].latency_ms()));
}

TEST_CASE("a request without any HTTP answer breaks one_answer") {
  const Scenario sc = base_scenario();
  const CheckInput in = with_unanswered(sc);
  ScenarioResult out;
  run_checks(in, out);
  const auto& c = check_named(out, "one_answer");
  CHECK(c.failed());
  CHECK(c.message.find("request #1: no HTTP answer (read: timed out)") != std::string::npos);
  CHECK(out.status == ScenarioStatus::fail);
  // The failing invariant names its request, for the narrowed repro line; the answered one is not named.
  CHECK(out.failing_requests == std::vector<std::uint64_t>{1});
}

TEST_CASE("a waived or expected violation names no failing request") {
  Scenario sc = base_scenario();
  const CheckInput in = with_unanswered(sc);
  SECTION("allowed") { sc.allow = {Invariant::one_answer}; }
  SECTION("negative control") { sc.expect_violations = {Invariant::one_answer}; }
  ScenarioResult out;
  run_checks(in, out);
  CHECK(check_named(out, "one_answer").passed());
  CHECK(out.failing_requests.empty());
}

TEST_CASE("requests still pending after the settle time break pending_drained") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.requests = {answered(0, "a", "n0")};
  in.decisions = {decision("a"), reply("a", "a", kT0)};
  in.gateway_metrics = {metrics(1, 0, 0, 0, 0, 3)};
  in.pending = 3;
  ScenarioResult out;
  run_checks(in, out);
  const auto& c = check_named(out, "pending_drained");
  CHECK(c.failed());
  CHECK(c.message.find("3 request(s) still pending") != std::string::npos);
  CHECK(out.status == ScenarioStatus::fail);
}

TEST_CASE("a component that died unscripted breaks no_crash") {
  const Scenario sc = base_scenario();
  CheckInput in = one_answered(sc);
  in.unexpected_deaths = {"gateway-1 exited with status 139"};
  ScenarioResult out;
  run_checks(in, out);
  const auto& c = check_named(out, "no_crash");
  CHECK(c.failed());
  CHECK(c.message.find("gateway-1 exited with status 139") != std::string::npos);
  CHECK(out.status == ScenarioStatus::fail);
}

TEST_CASE("a timeline action that failed fails the run") {
  const Scenario sc = base_scenario();
  CheckInput in = one_answered(sc);
  in.infra_errors = {"test.yaml:12: kill_daprd failed: no such process"};
  ScenarioResult out;
  run_checks(in, out);
  const auto& c = check_named(out, "timeline action");
  CHECK(c.failed());
  CHECK(c.message == "test.yaml:12: kill_daprd failed: no such process");
  CHECK(out.status == ScenarioStatus::fail);
}

TEST_CASE("allow waives an invariant's violation, but never excuses a negative control from finding it") {
  Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  // a: its reply was sent 20 ms after the request, yet it timed out: a lost reply.
  in.requests = {timed_out(0, "a", 1'010'000)};
  in.decisions = {decision("a"), reply("a", "a", kT0 + 20'000)};
  in.gateway_metrics = {metrics(0, 1, 0, 0, 0)};
  SECTION("without allow the violation fails the run") {
    ScenarioResult out;
    run_checks(in, out);
    CHECK(check_named(out, "no_lost_replies").failed());
    CHECK(out.status == ScenarioStatus::fail);
  }
  SECTION("allow passes it and still says what was seen") {
    sc.allow = {Invariant::no_lost_replies};
    ScenarioResult out;
    run_checks(in, out);
    const auto& c = check_named(out, "no_lost_replies");
    CHECK(c.passed());
    CHECK(c.message.find("waived by the scenario (1 seen)") != std::string::npos);
    CHECK(c.message.find("request #0") != std::string::npos);
    CHECK(out.status == ScenarioStatus::pass);
  }
  SECTION("an invariant both allowed and expected as a violation must still be found") {
    sc.allow = {Invariant::no_mis_correlation};
    sc.expect_violations = {Invariant::no_mis_correlation};
    ScenarioResult out;
    run_checks(in, out);
    const auto& c = check_named(out, "no_mis_correlation");
    CHECK(c.failed());
    CHECK(c.message.find("found none") != std::string::npos);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The swapped-replies control counts only real swaps.

namespace {

RequestRecord with_body(RequestRecord r, const std::string& body) {
  r.response_body = body;
  return r;
}

}  // namespace

TEST_CASE("unparseable or payload-less 200s are their own class and cannot satisfy the swapped-replies control") {
  Scenario sc = base_scenario();
  sc.expect_violations = {Invariant::no_mis_correlation};
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  in.decisions = {decision("a"), decision("b"), decision("c"), decision("d"),
                  reply("a", "a", kT0), reply("b", "b", kT0), reply("c", "c", kT0), reply("d", "d", kT0)};
  in.gateway_metrics = {metrics(4, 0, 0, 0, 0)};
  // Not JSON; JSON without a payload; a payload whose nonce belongs to nobody; a good one.
  in.requests = {with_body(answered(0, "a", "n0"), "<html>proxy error</html>"),
                 with_body(answered(1, "b", "n1"), R"({"correlationId":"b","response":{"status":"ok"}})"),
                 answered(2, "c", "stranger"), answered(3, "d", "n3")};
  ScenarioResult out;
  run_checks(in, out);
  CHECK(out.requests[0].classification == Classification::unparseable_answer);
  CHECK(out.requests[1].classification == Classification::unparseable_answer);
  CHECK(out.requests[2].classification == Classification::unverified_answer);
  CHECK(out.requests[3].classification == Classification::ok);
  CHECK(out.classifications["mis_correlated"] == 0);
  const auto& control = check_named(out, "no_mis_correlation");
  CHECK(control.failed());
  CHECK(control.message.find("found none") != std::string::npos);
  const auto& verified = check_named(out, "verified_answers");
  CHECK(verified.failed());
  CHECK(verified.message.find("request #0") != std::string::npos);
  CHECK(verified.message.find("request #2") != std::string::npos);
  CHECK(out.status == ScenarioStatus::fail);
}

TEST_CASE("a 200 carrying another request's nonce satisfies the swapped-replies control") {
  Scenario sc = base_scenario();
  sc.expect_violations = {Invariant::no_mis_correlation};
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  in.decisions = {decision("a"), decision("b"), decision("c"), reply("a", "a", kT0), reply("b", "b", kT0),
                  reply("c", "c", kT0)};
  in.gateway_metrics = {metrics(3, 0, 0, 0, 0)};
  in.requests = {answered(0, "a", "n1"), answered(1, "b", "n0"), answered(2, "c", "n2")};
  ScenarioResult out;
  run_checks(in, out);
  CHECK(out.requests[0].classification == Classification::mis_correlated);
  CHECK(out.requests[1].classification == Classification::mis_correlated);
  const auto& control = check_named(out, "no_mis_correlation");
  CHECK(control.passed());
  CHECK(control.message.find("request #0 (a) got the payload of request #1") != std::string::npos);
  CHECK(check_named(out, "verified_answers").passed());
  CHECK(out.status == ScenarioStatus::pass);
}

TEST_CASE("own nonce with an echo that does not match the request is unverified, not mis-correlated") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  RequestRecord r = answered(0, "a", "n0");
  r.request_body = json{{"nonce", "n0"}, {"action", "pay"}}.dump();  // the echo has no "action"
  in.requests = {r};
  in.decisions = {decision("a"), reply("a", "a", kT0)};
  in.gateway_metrics = {metrics(1, 0, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  CHECK(out.requests[0].classification == Classification::unverified_answer);
  CHECK(check_named(out, "no_mis_correlation").passed());
  CHECK(check_named(out, "verified_answers").failed());
}

// ---------------------------------------------------------------------------------------------------------------
// Assertion operands.

TEST_CASE("every known assertion operand has a value after a run") {
  Scenario sc = base_scenario();
  for (const auto& op : assertion_operands()) {
    const std::string name = op.name == "class.http_NNN" ? std::string("class.http_418") : op.name;
    sc.assertions.push_back(assertion(name, ">=", "0"));
  }
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  in.requests = {answered(0, "a", "n0")};
  in.decisions = {decision("a"), reply("a", "a", kT0)};
  in.gateway_metrics = {{metrics_text(1, 0, 0, 0, 0) +
                         "rr_gateway_replies_total{class=\"forged\"} 0\n"
                         "rr_gateway_replies_total{class=\"probe\"} 0\n"
                         "rr_gateway_requests_total{outcome=\"ok\"} 1\n"
                         "rr_gateway_requests_total{outcome=\"timeout\"} 0\n"
                         "rr_gateway_requests_total{outcome=\"overloaded\"} 0\n"
                         "rr_gateway_requests_total{outcome=\"publish_failed\"} 0\n"
                         "rr_gateway_requests_total{outcome=\"client_gone\"} 0\n"
                         "rr_gateway_requests_total{outcome=\"bad_request\"} 0\n",
                         ""}};
  ScenarioResult out;
  run_checks(in, out);
  for (const auto& c : out.checks) {
    INFO(c.name << ": " << c.message);
    CHECK(c.passed());
  }
}

TEST_CASE("latency per outcome: the 503s and 504s have their own percentiles") {
  Scenario sc = base_scenario();
  sc.assertions = {assertion("latency.rejected.p99", "<", "200"), assertion("latency.rejected.count", "==", "2"),
                   assertion("latency.timeout.max", "==", "1010"), assertion("latency.p50", "==", "5"),
                   assertion("latency.ok.p50", "==", "latency.p50")};
  CheckInput in;
  in.scenario = &sc;
  in.pending = 0;
  RequestRecord fast = timed_out(2, "", 3'000);
  fast.http_status = 503;
  fast.outcome = Outcome::rejected;
  RequestRecord slow = fast;
  slow.index = 3;
  slow.done_us = slow.sent_us + 150'000;
  in.requests = {answered(0, "a", "n0"), timed_out(1, "b", 1'010'000), fast, slow};
  in.decisions = {decision("a"), decision("b", 0), reply("a", "a", kT0)};
  in.gateway_metrics = {metrics(1, 0, 0, 0, 0)};
  ScenarioResult out;
  run_checks(in, out);
  for (const auto& c : out.checks) {
    INFO(c.name << ": " << c.message);
    CHECK(c.passed());
  }
  CHECK(out.latency_by_outcome["rejected"].count == 2);
  CHECK(out.latency_by_outcome["rejected"].max == 150);
  CHECK(out.latency_by_outcome["timeout"].p50 == 1010);
  CHECK(out.latency.count == 1);
  SECTION("a slow 503 breaks the bound") {
    slow.done_us = slow.sent_us + 900'000;
    in.requests = {answered(0, "a", "n0"), timed_out(1, "b", 1'010'000), fast, slow};
    ScenarioResult slow_out;
    run_checks(in, slow_out);
    CHECK(check_named(slow_out, "assert: latency.rejected.p99").failed());
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The third state: nothing is not applicable today, but a report must show it as such when it is.

TEST_CASE("a not-applicable check fails nothing, passes nothing, and every report says so") {
  SuiteResult suite;
  ScenarioResult s;
  s.name = "sut-without-metrics";
  s.status = ScenarioStatus::pass;
  s.checks = {{"one_answer: exactly one HTTP answer per request", CheckState::pass, "ok"},
              {"reply_counters: gateway reply counters equal what the simulator induced", CheckState::not_applicable,
               "this gateway exposes no reply counters"}};
  suite.scenarios = {s};
  CHECK(suite.exit_code() == 0);

  const json j = to_json(suite);
  CHECK(j["scenarios"][0]["checks"][1]["state"] == "not_applicable");
  CHECK(j["scenarios"][0]["checks"][1]["passed"] == false);
  const SuiteResult back = suite_from_json(j);
  CHECK(back.scenarios[0].checks[1].state == CheckState::not_applicable);
  CHECK(back.scenarios[0].checks[0].state == CheckState::pass);
  json bad = j;
  bad["scenarios"][0]["checks"][1]["state"] = "maybe";
  CHECK_THROWS_WITH(suite_from_json(bad), Catch::Contains("scenarios[0].checks[1].state"));
  json old = j;  // a report from a writer that knew only "passed"
  old["scenarios"][0]["checks"][0].erase("state");
  CHECK(suite_from_json(old).scenarios[0].checks[0].state == CheckState::pass);

  const std::string junit = render_junit_report(suite);
  CHECK(junit.find("skipped=\"1\"") != std::string::npos);
  CHECK(junit.find("<skipped message=\"not applicable: this gateway exposes no reply counters\"/>") != std::string::npos);
  CHECK(junit.find("<failure") == std::string::npos);

  const std::string html = render_html_report(suite);
  CHECK(html.find("1 of 2 passed, 1 not applicable") != std::string::npos);
  CHECK(html.find("<li class=\"not_applicable\">reply_counters") != std::string::npos);

  std::ostringstream console;
  print_console_summary(suite, console, false);
  CHECK(console.str().find("n/a reply_counters") != std::string::npos);

  // ...nor hides a failure beside it.
  suite.scenarios[0].checks.push_back({"no_crash: no component died unless the scenario crashed it", false, "gw died"});
  suite.scenarios[0].status = ScenarioStatus::fail;
  CHECK(suite.exit_code() == 1);
  CHECK(render_junit_report(suite).find("<failure message=\"gw died\"") != std::string::npos);
}

TEST_CASE("memory_returns is judged only when the scenario drives traffic rounds", "[unit][memory]") {
  Scenario sc = base_scenario();
  CheckInput in = one_answered(sc);
  ScenarioResult one_round;
  run_checks(in, one_round);
  for (const auto& c : one_round.checks) CHECK(c.name.rfind("memory_returns", 0) == std::string::npos);

  // The seed gateway's samples: waiters never removed, 20,000 timed-out requests per round.
  sc.rounds = 5;
  const double rss_mib[] = {91, 225, 272, 383, 455};
  for (int k = 0; k <= 5; ++k) {
    MemorySample s;
    s.round = k;
    s.requests_so_far = s.timed_out_so_far = static_cast<std::uint64_t>(k) * 20'000;
    s.rss.push_back(RssReading{static_cast<std::uint64_t>((k == 0 ? 40 : rss_mib[k - 1]) * 1024 * 1024),
                               ProcErrc::none, "", 1});
    if (k > 0) s.pending = 0.0;
    in.memory.push_back(s);
  }
  ScenarioResult leaking;
  run_checks(in, leaking);
  const auto& c = check_named(leaking, "memory_returns");
  INFO(c.message);
  CHECK(c.failed());
  CHECK(c.message.find("not returned") != std::string::npos);
  CHECK(leaking.status == ScenarioStatus::fail);

  SECTION("attach mode: no process sampled, not applicable") {
    for (auto& s : in.memory) s.rss.clear();
    ScenarioResult attached;
    run_checks(in, attached);
    CHECK(check_named(attached, "memory_returns").state == CheckState::not_applicable);
  }
  SECTION("a negative control must find the leak") {
    sc.expect_violations = {Invariant::memory_returns};
    ScenarioResult control;
    run_checks(in, control);
    CHECK(check_named(control, "memory_returns").passed());
  }
}

TEST_CASE("settling waits for the decision of every request answered ok or timeout") {
  // A request published slowly reaches the simulator after its 504: the counters can already agree
  // with the decisions logged so far, one late reply short. Its missing decision keeps the run unsettled.
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.requests = {answered(0, "a", "n0"), timed_out(1, "b", 1'000'000)};
  RequestRecord gone = timed_out(2, "", 0);
  gone.http_status = 0;
  gone.outcome = Outcome::no_answer;  // the client never saw an answer: no decision is owed
  in.requests.push_back(gone);
  json d0 = decision("a");
  d0["key"] = "n0";
  in.decisions = {d0, reply("a", "a", kT0)};
  CHECK(answered_without_decision(in) == 1);
  json d1 = decision("b", 0);
  d1["fields"] = {{"nonce", "n1"}};  // no key: the logged nonce field names the request
  in.decisions.push_back(d1);
  CHECK(answered_without_decision(in) == 0);
  in.decisions.push_back(reply("zz", "zz", kT0));  // a reply line is not a decision
  in.requests.push_back(answered(3, "c", "n3"));
  CHECK(answered_without_decision(in) == 1);
}

TEST_CASE("instances that joined or left mid-traffic bound the reply counters instead of fixing them") {
  // Broadcast over three instances: 0 was stopped mid-traffic, 1 served throughout, 2 was added.
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.gateways = 3;
  in.gateway_life = {GatewayLife::left, GatewayLife::throughout, GatewayLife::joined};
  auto on = [](RequestRecord r, int g) {
    r.gateway = g;
    return r;
  };
  RequestRecord shut = timed_out(3, "d", 1000);  // answered 503 by instance 0's shutdown
  shut.http_status = 503;
  shut.outcome = Outcome::rejected;
  in.requests = {on(answered(0, "a", "n0"), 1), on(answered(1, "b", "n1"), 0), on(answered(2, "c", "n2"), 2),
                 on(shut, 0)};
  in.decisions = {reply("a", "a", kT0), reply("b", "b", kT0), reply("c", "c", kT0), reply("d", "d", kT0 + 5000),
                  reply("e", "x", kT0, "wrong_id")};
  const auto e = expected_replies(in);
  // Instance 1 sees every reply; the joined instance surely sees its own (it was ready before any was
  // sent to it); what the stopped one classified after its last reading is unseen.
  CHECK(e.matched == 2);
  CHECK(e.unobserved_matched == 1);
  CHECK(e.late == 0);
  CHECK(e.unobserved_late == 1);
  CHECK(e.unknown == 4);
  CHECK(e.unobserved_unknown == 7);
  CHECK(counter_slack(e, "unknown") == 7);
  CHECK(counter_slack(e, "matched") == 1);

  // Instance 0's last reading still had two waiting requests: its shutdown answered them, so only the
  // live instances' pending gauges count.
  in.gateway_metrics = {metrics(1, 0, 0, 1, 0, 2), metrics(1, 0, 0, 4, 0), metrics(1, 0, 0, 2, 0)};
  const GatewayFigure pending = sut_pending(in);
  REQUIRE(pending.ok());
  CHECK(pending.value == 0);
  in.pending = pending.value;
  {
    ScenarioResult out;
    run_checks(in, out);
    CHECK(check_named(out, "reply_counters").passed());
    CHECK(check_named(out, "pending_drained").passed());
  }
  SECTION("a count beyond what any instance could have seen still fails") {
    in.gateway_metrics[1] = metrics(1, 0, 0, 9, 0);  // unknown 12 > 4 + 7
    ScenarioResult out;
    run_checks(in, out);
    const auto& c = check_named(out, "reply_counters");
    CHECK_FALSE(c.passed());
    CHECK(c.message.find("unknown_replies between 4 and 11") != std::string::npos);
  }
  SECTION("a reply the instances serving throughout and joined surely saw, missing, still fails") {
    in.gateway_metrics[1] = metrics(0, 0, 0, 4, 0);  // matched 1 + 0 + 0 < 2
    in.gateway_metrics[2] = metrics(0, 0, 0, 2, 0);
    ScenarioResult out;
    run_checks(in, out);
    CHECK_FALSE(check_named(out, "reply_counters").passed());
  }
  SECTION("the joined instance has no warm-up baseline to subtract") {
    in.gateway_baseline = {metrics(0, 0, 0, 0, 0), metrics(0, 0, 0, 0, 0), MetricsScrape{}};
    const GatewayFigure unknown = sut_counter(in, "replies_unknown");
    REQUIRE(unknown.ok());
    CHECK(unknown.value == 7);
  }
  SECTION("without recorded lives every instance counts as serving throughout") {
    in.gateway_life.clear();
    CHECK(expected_replies(in).unknown == 4 * 2 + 3);
    CHECK(expected_replies(in).unobserved_unknown == 0);
    CHECK(sut_pending(in).value == 2);
  }
}

}  // namespace checker_test
