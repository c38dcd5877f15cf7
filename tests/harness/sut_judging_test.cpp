// The harness judges any gateway through its SUT file: traffic asks in the SUT's request shape, the
// checker reads answers and metrics as the SUT file says, and a stored run keeps how it was judged.
#include <filesystem>
#include <fstream>
#include <mutex>

#include <catch2/catch.hpp>

#include "common/reply.h"
#include "harness/checker.h"
#include "check_fixtures.h"
#include "harness/run_folder.h"
#include "harness/sut.h"
#include "harness/traffic.h"
#include "testkit/tiny_http_server.h"

namespace sut_judging_test {

using namespace rrkit::harness;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

using rrkit::harness::test::base_scenario;
using rrkit::harness::test::kT0;

Sut sut_from(const std::string& yaml) {
  const auto load = parse_sut(yaml, "test-sut.yaml");
  if (!load.ok()) FAIL(load.error);
  return *load.sut;
}

// The seed's shape: text answers that carry the reply payload, no correlation id, no metrics, no
// scenario arguments.
const char* kSeedLike = R"(name: seed-like
start: {argv: [node, server.js]}
dapr: {app_id: seed-like, app_port: same}
answer: {correlation_id: none, echo: body}
)";

// The node gateway's shape: the reply's payload arrives as a JSON string the gateway parsed, its echo
// is the published {correlationId, payload: <client body>}; metrics under names of its own.
const char* kNodeLike = R"(name: node-like
start: {argv: [node, server.js]}
answer:
  correlation_id: {header: X-Correlation-Id}
  echo: /response/echo/payload
metrics:
  series:
    pending: rr_node_pending
    replies_matched: 'rr_node_replies_total{class="matched"}'
)";

RequestRecord request(std::uint64_t i, const std::string& id) {
  const std::string nonce = "rr-1-" + std::to_string(i);
  return rrkit::harness::test::ok_record(i, id, nonce, json{{"nonce", nonce}, {"action", "pay"}}.dump());
}

// What the seed answers: the reply's Payload string as text.
RequestRecord seed_answer(std::uint64_t i, const std::string& id, std::uint64_t payload_of) {
  RequestRecord r = request(i, id);
  const json published = {{"correlationId", id}, {"payload", {{"nonce", "rr-1-" + std::to_string(payload_of)}, {"action", "pay"}}}};
  r.response_body = rrkit::reply_payload_for(published).dump();
  return r;
}

// What the node gateway answers: {"correlationId", "response": <the Payload string, parsed>}.
RequestRecord node_answer(std::uint64_t i, const std::string& id, const json& client_body) {
  RequestRecord r = request(i, id);
  const json published = {{"correlationId", id}, {"payload", client_body}};
  r.response_body = json{{"correlationId", id}, {"response", rrkit::reply_payload_for(published)}}.dump();
  return r;
}

json decision(const std::string& id, const std::string& nonce) {
  return {{"type", "decision"}, {"id", id}, {"rule", "default"}, {"kind", "ok"}, {"copies", 1}, {"drop", false},
          {"fields", {{"nonce", nonce}}}};
}

json reply(const std::string& id) {
  return {{"type", "reply"}, {"request_id", id}, {"reply_id", id}, {"kind", "ok"}, {"sent_us", kT0}};
}

const CheckResult* find_check(const ScenarioResult& r, const std::string& prefix) {
  for (const auto& c : r.checks) {
    if (c.name.rfind(prefix, 0) == 0) return &c;
  }
  return nullptr;
}

const CheckResult& check_named(const ScenarioResult& r, const std::string& prefix) {
  const CheckResult* c = find_check(r, prefix);
  if (!c) FAIL("no check " << prefix);
  return *c;
}

}  // namespace

TEST_CASE("the built-in rr-gateway judging is what sut/rr-gateway.yaml says", "[unit][sut]") {
  const auto load = load_sut(fs::path(RRKIT_SOURCE_DIR) / "sut" / "rr-gateway.yaml");
  REQUIRE(load.ok());
  CHECK(to_json(judging_of(*load.sut)) == to_json(rr_gateway_judging()));
  // The traffic plan's defaults are rr-gateway's request and answer too.
  const TrafficPlan plan;
  CHECK(plan.request.path == load.sut->request.path);
  CHECK(plan.request.method == load.sut->request.method);
  CHECK(plan.request.body == load.sut->request.body);
  CHECK(plan.answer.correlation_id == load.sut->answer.correlation_id);
  CHECK(plan.answer.correlation_id_at == load.sut->answer.correlation_id_at);
}

TEST_CASE("a SUT's judging round-trips through JSON and a malformed one is refused", "[unit][sut]") {
  for (const char* yaml : {kSeedLike, kNodeLike}) {
    const SutJudging j = judging_of(sut_from(yaml));
    std::string error;
    const auto back = sut_judging_from_json(to_json(j), error);
    REQUIRE(back);
    CHECK(to_json(*back) == to_json(j));
  }
  json bad = to_json(rr_gateway_judging());
  bad["answer"]["echo"] = "no pointer";
  std::string error;
  CHECK_FALSE(sut_judging_from_json(bad, error));
  CHECK(error.find("answer.echo") != std::string::npos);
  bad = to_json(rr_gateway_judging());
  bad["answer"]["timeout_status"] = 42;
  CHECK_FALSE(sut_judging_from_json(bad, error));
  CHECK_FALSE(sut_judging_from_json(json::array(), error));
  bad = to_json(rr_gateway_judging());
  bad["answer"]["timeout_epsilon_us"] = -1;
  CHECK_FALSE(sut_judging_from_json(bad, error));
  CHECK(error.find("timeout_epsilon") != std::string::npos);
}

TEST_CASE("a SUT's declared timeout epsilon loads, is stored with the run, and widens timeout_bounds only up to it",
          "[unit][sut]") {
  const auto with_epsilon = [](const std::string& value) {
    std::string yaml = kNodeLike;
    const std::string echo = "  echo: /response/echo/payload\n";
    return yaml.insert(yaml.find(echo) + echo.size(), "  timeout_epsilon: " + value + "\n");
  };
  const Sut node = sut_from(with_epsilon("750ms"));
  CHECK(node.answer.timeout_epsilon == std::chrono::milliseconds(750));
  CHECK(sut_from(kNodeLike).answer.timeout_epsilon == std::chrono::microseconds(0));
  const auto words = parse_sut(with_epsilon("soon"), "t.yaml");
  REQUIRE_FALSE(words.ok());
  CHECK(words.error.find("answer.timeout_epsilon") != std::string::npos);
  CHECK_FALSE(parse_sut(with_epsilon("0ms"), "t.yaml").ok());

  const SutJudging j = judging_of(node);
  std::string error;
  const auto back = sut_judging_from_json(to_json(j), error);
  REQUIRE(back);
  CHECK(back->answer.timeout_epsilon == std::chrono::milliseconds(750));
  // A run folder written before the key existed reads as "the scenario decides".
  json old = to_json(j);
  old["answer"].erase("timeout_epsilon_us");
  const auto old_back = sut_judging_from_json(old, error);
  REQUIRE(old_back);
  CHECK(old_back->answer.timeout_epsilon == std::chrono::microseconds(0));

  Scenario sc = base_scenario();  // 1 s timeout, 150 ms epsilon
  CHECK(timeout_epsilon_for(sc, j) == std::chrono::milliseconds(750));
  CHECK(timeout_epsilon_for(sc, judging_of(sut_from(kNodeLike))) == std::chrono::milliseconds(150));
  sc.timeout_epsilon = std::chrono::seconds(2);  // a scenario that allows more keeps its own
  CHECK(timeout_epsilon_for(sc, j) == std::chrono::seconds(2));
}

TEST_CASE("a gateway without metrics: text answers verified by their nonce, metric checks not applicable", "[unit][sut]") {
  Scenario sc = base_scenario();
  Assertion a;
  a.text = "gateway.replies_late == 0";
  a.lhs = "gateway.replies_late";
  a.op = "==";
  a.rhs = "0";
  a.line = 7;
  sc.assertions = {a};
  CheckInput in;
  in.scenario = &sc;
  in.sut = judging_of(sut_from(kSeedLike));
  in.requests = {seed_answer(0, "a", 0), seed_answer(1, "b", 1)};
  in.decisions = {decision("a", "rr-1-0"), decision("b", "rr-1-1"), reply("a"), reply("b")};
  in.gateway_metrics = {{{}, "not scraped: the SUT names no metrics"}};
  in.pending_detail = "the SUT seed-like exposes no pending metric";
  ScenarioResult out;
  run_checks(in, out);
  CHECK(out.requests[0].classification == Classification::ok);
  CHECK(out.requests[1].classification == Classification::ok);
  CHECK(check_named(out, "verified_answers").passed());
  CHECK(check_named(out, "no_mis_correlation").passed());
  const auto& counters = check_named(out, "reply_counters");
  CHECK(counters.state == CheckState::not_applicable);
  CHECK(counters.message.find("seed-like") != std::string::npos);
  CHECK(check_named(out, "pending_drained").state == CheckState::not_applicable);
  const auto& assertion = check_named(out, "assert: gateway.replies_late");
  CHECK(assertion.state == CheckState::not_applicable);
  CHECK(assertion.message.find("exposes no replies_late metric") != std::string::npos);
  CHECK(out.gateway_counters.empty());
  // Not applicable never fails a run, and is never counted as passed.
  CHECK(out.status == ScenarioStatus::pass);
}

TEST_CASE("a text answer carrying another request's nonce is mis-correlated", "[unit][sut]") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.sut = judging_of(sut_from(kSeedLike));
  // #0 got #1's payload; #2's nonce "rr-1-2" must not match inside #12's "rr-1-12".
  in.requests = {seed_answer(0, "a", 1), seed_answer(1, "b", 1)};
  for (std::uint64_t i = 2; i <= 12; ++i) in.requests.push_back(seed_answer(i, "id" + std::to_string(i), i));
  in.decisions = {decision("a", "rr-1-0"), decision("b", "rr-1-1"), reply("a"), reply("b")};
  in.gateway_metrics = {{{}, "not scraped"}};
  ScenarioResult out;
  run_checks(in, out);
  CHECK(out.requests[0].classification == Classification::mis_correlated);
  CHECK(out.requests[1].classification == Classification::ok);
  CHECK(out.requests[12].classification == Classification::ok);
  CHECK(out.classifications["mis_correlated"] == 1);
  const auto& mis = check_named(out, "no_mis_correlation");
  CHECK(mis.failed());
  CHECK(mis.message.find("request #0 (a) got the payload of request #1") != std::string::npos);
}

TEST_CASE("a pointer echo inside a string payload is verified with the echo and the digest", "[unit][sut]") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.sut = judging_of(sut_from(kNodeLike));
  const json body0 = json::parse(request(0, "a").request_body);
  const json body1 = json::parse(request(1, "b").request_body);
  RequestRecord tampered = node_answer(2, "c", json::parse(request(2, "c").request_body));
  // The digest no longer matches the echo: an answer the gateway made up or altered.
  auto doc = json::parse(tampered.response_body);
  doc["response"]["digest"] = "0000";
  tampered.response_body = doc.dump();
  in.requests = {node_answer(0, "a", body0), node_answer(1, "b", body0), tampered};
  in.decisions = {decision("a", "rr-1-0"), decision("b", "rr-1-1"), decision("c", "rr-1-2"), reply("a"), reply("b"),
                  reply("c")};
  in.gateway_metrics = {{"rr_node_pending 0\nrr_node_replies_total{class=\"matched\"} 3\n", ""}};
  in.pending = 0;
  ScenarioResult out;
  run_checks(in, out);
  (void)body1;
  CHECK(out.requests[0].classification == Classification::ok);
  CHECK(out.requests[1].classification == Classification::mis_correlated);
  CHECK(out.requests[2].classification == Classification::unverified_answer);
  CHECK(check_named(out, "pending_drained").passed());
  // matched is read through the SUT's own series; the classes it has no counter for are named.
  CHECK(out.gateway_counters.at("replies_matched") == 3);
  const auto& counters = check_named(out, "reply_counters");
  CHECK(counters.state == CheckState::not_applicable);
  CHECK(counters.message.find("late") != std::string::npos);
}

TEST_CASE("reply counters read through the SUT's series still fail on a wrong count", "[unit][sut]") {
  const Scenario sc = base_scenario();
  CheckInput in;
  in.scenario = &sc;
  in.sut = judging_of(sut_from(kNodeLike));
  in.requests = {node_answer(0, "a", json::parse(request(0, "a").request_body))};
  in.decisions = {decision("a", "rr-1-0"), reply("a")};
  in.gateway_metrics = {{"rr_node_pending 2\nrr_node_replies_total{class=\"matched\"} 0\n", ""}};
  in.pending = 2;
  ScenarioResult out;
  run_checks(in, out);
  const auto& counters = check_named(out, "reply_counters");
  CHECK(counters.failed());
  CHECK(counters.message.find("expected matched_replies == 1, gateway counted 0") != std::string::npos);
  CHECK(check_named(out, "pending_drained").failed());
}

TEST_CASE("stack.gateway_args on a SUT that takes none is reported not applicable", "[unit][sut]") {
  Scenario sc = base_scenario();
  sc.gateway_args = {"--max-pending", "10"};
  CheckInput in;
  in.scenario = &sc;
  in.sut = judging_of(sut_from(kSeedLike));
  in.requests = {seed_answer(0, "a", 0)};
  in.decisions = {decision("a", "rr-1-0"), reply("a")};
  in.gateway_metrics = {{{}, "not scraped"}};
  ScenarioResult out;
  run_checks(in, out);
  const auto& args = check_named(out, "stack.gateway_args");
  CHECK(args.state == CheckState::not_applicable);
  CHECK(args.message.find("--max-pending 10") != std::string::npos);
  CHECK(args.message.find("not applied") != std::string::npos);
  CHECK(out.status == ScenarioStatus::pass);
  // rr-gateway takes them: no such line.
  in.sut = rr_gateway_judging();
  in.gateway_metrics = {};
  ScenarioResult rr;
  run_checks(in, rr);
  CHECK(find_check(rr, "stack.gateway_args") == nullptr);
}

TEST_CASE("a stored run keeps its SUT's judging, and an older one reads as rr-gateway", "[unit][sut]") {
  const fs::path dir = fs::temp_directory_path() / ("rrkit-sut-judging-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  StoredRun run;
  run.record.sut = judging_of(sut_from(kSeedLike));
  run.record.metrics_errors = {"not scraped: the SUT names no metrics"};
  run.metrics = {{{}, "not scraped: the SUT names no metrics"}};
  run.history = {seed_answer(0, "a", 0)};
  save_run(dir, run);
  std::string error;
  auto back = load_run(dir, error);
  REQUIRE(back);
  CHECK(to_json(back->record.sut) == to_json(run.record.sut));
  // A run.json without "sut" was written when every run judged rr-gateway.
  json meta;
  std::ifstream(dir / run_files::kRunJson) >> meta;
  meta.erase("sut");
  std::ofstream(dir / run_files::kRunJson) << meta.dump();
  back = load_run(dir, error);
  REQUIRE(back);
  CHECK(to_json(back->record.sut) == to_json(rr_gateway_judging()));
  fs::remove_all(dir);
}

TEST_CASE("traffic asks in the SUT's request shape and reads its statuses and id", "[unit][sut]") {
  std::mutex mu;
  std::vector<rrkit::test::TinyRequest> seen;
  rrkit::test::TinyHttpServer server{[&](const rrkit::test::TinyRequest& r) {
    std::lock_guard lock(mu);
    seen.push_back(r);
    const auto body = json::parse(r.body, nullptr, false);
    const auto seq = body.is_object() ? body.value("n", -1) : -1;
    // Even requests answered "ok" (201), odd ones "timeout" (408); the id in the body.
    return rrkit::test::TinyResponse{seq % 2 == 0 ? 201 : 408, json{{"ref", {{"id", "x" + std::to_string(seq)}}}}.dump()};
  }};
  const Sut sut = sut_from(R"(name: shaped
start: {argv: [x]}
request:
  method: PUT
  path: /orders/new
  body: '{"wrapped": "{{body}}", "n": "{{seq}}"}'
answer:
  ok_status: 201
  timeout_status: 408
  correlation_id: {json: /ref/id}
)");
  TrafficPlan plan;
  plan.mode = TrafficPlan::Mode::closed;
  plan.concurrency = 2;
  plan.requests = 6;
  plan.gateway_ports = {server.port()};
  plan.request = sut.request;
  plan.answer = sut.answer;
  TrafficProgress progress;
  const auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 6);
  for (const auto& r : records) {
    CHECK(r.outcome == (r.index % 2 == 0 ? Outcome::ok : Outcome::timeout));
    CHECK(r.correlation_id == "x" + std::to_string(r.index));
    // The history keeps the scenario's body: what the echo must carry. A 200 left to the checker holds it; any
    // other record holds none and its history line renders it from the plan (what save_run is given to call).
    const std::string history_body = r.request_body.empty() ? recorded_request_body(plan, r.index, r.nonce) : r.request_body.str();
    CHECK(json::parse(history_body).at("nonce") == r.nonce);
    if (r.outcome != Outcome::ok) CHECK(r.request_body.empty());
  }
  std::lock_guard lock(mu);
  REQUIRE(seen.size() == 6);
  for (const auto& r : seen) {
    CHECK(r.method == "PUT");
    CHECK(r.target == "/orders/new");
    const auto body = json::parse(r.body);
    CHECK(body.at("wrapped").at("nonce").is_string());
    CHECK(body.at("n").is_number());
  }
}

}  // namespace sut_judging_test
