#include <catch2/catch.hpp>

#include <mutex>
#include <set>

#include <nlohmann/json.hpp>

#include "common/net.h"
#include "harness/traffic.h"
#include "tests/e2e/tiny_http_server.h"

using namespace rrkit::harness;
using nlohmann::json;

namespace {

// A trivial endpoint that answers like a gateway: 200 with the correlation id in the header.
struct EchoEndpoint {
  std::mutex mu;
  std::vector<json> bodies;
  rrkit::test::TinyHttpServer server{[this](const rrkit::test::TinyRequest& r) {
    std::lock_guard lock(mu);
    bodies.push_back(json::parse(r.body, nullptr, false));
    return rrkit::test::TinyResponse{200, json{{"correlationId", "id-" + std::to_string(bodies.size())}}.dump()};
  }};
};

}  // namespace

TEST_CASE("body templates substitute the sequence number and carry the nonce") {
  const json templ = {{"action", "echo"}, {"data", {{"n", "{{seq}}"}, {"tag", "x"}, {"list", {"{{nonce}}", 1}}}}};
  const json body = render_body(templ, 7, "abc", "nonce");
  CHECK(body["data"]["n"] == 7);
  CHECK(body["data"]["tag"] == "x");
  CHECK(body["data"]["list"][0] == "abc");
  CHECK(body["nonce"] == "abc");
  CHECK(render_body(json("not an object"), 1, "n", "nonce") == json{{"nonce", "n"}});
}

TEST_CASE("closed loop sends every request once, each with its own nonce, and reads the id from the body") {
  EchoEndpoint ep;
  TrafficPlan plan;
  plan.mode = TrafficPlan::Mode::closed;
  plan.concurrency = 8;
  plan.requests = 200;
  plan.gateway_ports = {ep.server.port()};
  TrafficProgress progress;
  const auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 200);
  std::set<std::string> nonces, ids;
  for (const auto& r : records) {
    CHECK(r.outcome == "ok");
    CHECK(r.http_status == 200);
    CHECK(r.done_us >= r.sent_us);
    nonces.insert(r.nonce);
    ids.insert(r.correlation_id);
  }
  CHECK(nonces.size() == 200);
  CHECK(ids.size() == 200);
  CHECK(progress.answered == 200);
  std::lock_guard lock(ep.mu);
  CHECK(ep.bodies.size() == 200);
}

TEST_CASE("open loop schedules requests at the rate and measures from the intended time") {
  EchoEndpoint ep;
  TrafficPlan plan;
  plan.mode = TrafficPlan::Mode::open;
  plan.rate = 200;
  plan.duration = std::chrono::milliseconds(500);
  plan.requests = 0;
  plan.gateway_ports = {ep.server.port()};
  TrafficProgress progress;
  const auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 100);
  for (std::size_t i = 1; i < records.size(); ++i) {
    CHECK(records[i].intended_us - records[0].intended_us == static_cast<std::int64_t>(i) * 5000);
    CHECK(records[i].sent_us >= records[i].intended_us);
  }
}

TEST_CASE("a refused connection is recorded as an error, not lost") {
  TrafficPlan plan;
  plan.requests = 3;
  plan.gateway_ports = {rrkit::net::free_port()};  // nothing listens there
  TrafficProgress progress;
  const auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 3);
  for (const auto& r : records) {
    CHECK(r.outcome == "error");
    CHECK(r.http_status == 0);
    CHECK(r.client_error.find("connect") != std::string::npos);
  }
}
