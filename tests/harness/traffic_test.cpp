#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "testkit/net.h"
#include "testkit/process.h"
#include "harness/connection_pool.h"
#include "harness/traffic.h"
#include "harness/traffic_roster.h"
#include "testkit/tiny_http_server.h"
#include "testkit/keepalive_server.h"

namespace traffic_test {

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

// An open-loop plan: `rate` requests per second for `duration`, on one gateway port.
TrafficPlan open_plan(std::uint16_t port, double rate, std::chrono::milliseconds duration) {
  TrafficPlan plan;
  plan.mode = TrafficPlan::Mode::open;
  plan.rate = rate;
  plan.duration = duration;
  plan.requests = 0;
  plan.gateway_ports = {port};
  return plan;
}

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
    CHECK(r.outcome == Outcome::ok);
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
  const TrafficPlan plan = open_plan(ep.server.port(), 200, std::chrono::milliseconds(500));
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
    CHECK(r.outcome == Outcome::error);
    CHECK(r.http_status == 0);
    CHECK(r.client_error.find("connect") != std::string::npos);
  }
}

// ---- keep-alive connection reuse ---------------------------------------------------------------

namespace {

using namespace std::chrono_literals;
using rrkit::test::KeepAliveServer;
using rrkit::test::KeepAliveServerOptions;

// Two bursts of 20 requests (one every 5 ms) with an idle gap between them, on one gateway port.
// With the servers below answering after 50 ms, a burst leaves about ten connections in the pool.
TrafficPlan bursts_with_gap(std::uint16_t port, std::chrono::milliseconds gap) {
  TrafficPlan plan;
  plan.mode = TrafficPlan::Mode::open;
  plan.requests = 0;
  plan.phases = {{100ms, 200}, {gap, 0}, {100ms, 200}};
  plan.gateway_ports = {port};
  plan.client_timeout = 10s;
  return plan;
}

void require_all_answered_once(const std::vector<RequestRecord>& records, const KeepAliveServer& server) {
  for (const auto& r : records) {
    INFO("request #" << r.index << ": " << r.client_error);
    CHECK(r.outcome == Outcome::ok);
    CHECK(server.times_seen(r.nonce) == 1);
  }
}

// The keep-alive cases share this run: the two bursts against `server`, each request answered exactly once.
std::vector<RequestRecord> run_bursts_answered_once(const KeepAliveServer& server, const TrafficPlan& plan,
                                                    TrafficProgress& progress) {
  auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 40);
  require_all_answered_once(records, server);
  return records;
}

}  // namespace

TEST_CASE("phases schedule bursts and idle gaps at their intended times") {
  EchoEndpoint ep;
  TrafficPlan plan = bursts_with_gap(ep.server.port(), 300ms);
  TrafficProgress progress;
  const auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 40);
  CHECK(records[19].intended_us - records[0].intended_us == 95'000);
  CHECK(records[20].intended_us - records[0].intended_us == 400'000);  // after 100 ms of burst + 300 ms idle
}

TEST_CASE("a pooled connection the server closed while idle is not used again") {
  // The server closes idle connections after 150 ms; the client's own bound (30 s) is far off, so
  // only seeing the close while the connection sits in the pool keeps the requests after the gap
  // from meeting a closed connection.
  KeepAliveServerOptions o;
  o.idle_close = 150ms;
  o.answer_delay = 50ms;
  KeepAliveServer server(o);
  TrafficProgress progress;
  run_bursts_answered_once(server, bursts_with_gap(server.port(), 1000ms), progress);
  CHECK(server.idle_closes() > 0);  // the gap did let the server close connections
  CHECK(progress.stale_discarded > 0);
}

namespace {

// Ten workers, 40 requests: the run leaves its ten connections idle.
TrafficPlan ten_workers(std::uint16_t port, const std::shared_ptr<KeptConnections>& keep) {
  TrafficPlan plan;
  plan.mode = TrafficPlan::Mode::closed;
  plan.concurrency = 10;
  plan.requests = 40;
  plan.gateway_ports = {port};
  plan.client_timeout = 10s;
  plan.keep = keep;
  return plan;
}


// A first run on `keep`: its ten connections are opened and left there.
void first_run_keeping_ten(const KeepAliveServer& server, const std::shared_ptr<KeptConnections>& keep) {
  TrafficProgress first;
  require_all_answered_once(run_traffic(ten_workers(server.port(), keep), first), server);
  CHECK(first.connections_opened == 10);
  REQUIRE(keep->size() == 10);
}

// The run after it, on the same `keep` with keys of its own: every request answered once.
void next_run_answered_once(const KeepAliveServer& server, const std::shared_ptr<KeptConnections>& keep,
                            TrafficProgress& progress) {
  TrafficPlan next = ten_workers(server.port(), keep);
  next.key_prefix = "next";
  const auto records = run_traffic(next, progress);
  REQUIRE(records.size() == 40);
  require_all_answered_once(records, server);
}

}  // namespace

TEST_CASE("kept connections carry one run's idle connections to the next, which opens none of its own") {
  // The warm-up's burst opens as many connections as the scenario's first burst needs; a busy
  // single-threaded gateway accepted some of 200 new ones up to 1.4 s late, past their timeout.
  KeepAliveServerOptions o;
  o.answer_delay = 20ms;
  KeepAliveServer server(o);
  const auto keep = std::make_shared<KeptConnections>();
  first_run_keeping_ten(server, keep);
  TrafficProgress second;
  next_run_answered_once(server, keep, second);
  CHECK(second.connections_opened == 0);
  CHECK(server.connections() == 10);
  CHECK(keep->size() == 10);
  // Without them a run opens its own.
  TrafficPlan alone = ten_workers(server.port(), nullptr);
  alone.key_prefix = "alone";
  TrafficProgress third;
  require_all_answered_once(run_traffic(alone, third), server);
  CHECK(third.connections_opened == 10);
}

TEST_CASE("a kept connection the server closed in between is not used again") {
  KeepAliveServerOptions o;
  o.answer_delay = 20ms;
  o.idle_close = 150ms;
  KeepAliveServer server(o);
  const auto keep = std::make_shared<KeptConnections>();
  first_run_keeping_ten(server, keep);
  REQUIRE(rrkit::proc::wait_until([&] { return server.idle_closes() == 10; }, 10s, 20ms));
  TrafficProgress second;
  next_run_answered_once(server, keep, second);
  CHECK(second.stale_discarded == 10);
  CHECK(second.connections_opened == 10);
}

TEST_CASE("a connection idle longer than the keep-alive bound is not reused") {
  // This server does not announce its close: it drops a request that arrives on a connection idle
  // for 400 ms or more, as a server does when its idle close crosses the request on the wire.
  KeepAliveServerOptions o;
  o.stale_after = 400ms;
  o.answer_delay = 50ms;
  KeepAliveServer server(o);
  TrafficPlan plan = bursts_with_gap(server.port(), 800ms);
  plan.keepalive_idle = 100ms;
  TrafficProgress progress;
  run_bursts_answered_once(server, plan, progress);
  CHECK(server.stale_closes() == 0);
}

TEST_CASE("a Keep-Alive timeout announced by the server lowers the reuse bound") {
  KeepAliveServerOptions o;
  o.stale_after = 1000ms;
  o.answer_delay = 50ms;
  o.keep_alive_header = "timeout=1, max=1000";
  KeepAliveServer server(o);
  TrafficProgress progress;
  // The client's own bound stays 30 s.
  run_bursts_answered_once(server, bursts_with_gap(server.port(), 1500ms), progress);
  CHECK(server.stale_closes() == 0);
}

TEST_CASE("a request the server may have processed is not sent again") {
  // The server reads the second request (on the connection the first one left in the pool) and
  // closes without answering: the client cannot know whether it was processed, so it must not resend.
  KeepAliveServerOptions o;
  o.drop_answer_of = 2;
  KeepAliveServer server(o);
  TrafficPlan plan;
  plan.mode = TrafficPlan::Mode::closed;
  plan.concurrency = 1;
  plan.requests = 3;
  plan.gateway_ports = {server.port()};
  TrafficProgress progress;
  const auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 3);
  CHECK(records[0].outcome == Outcome::ok);
  CHECK(records[1].outcome == Outcome::error);
  CHECK(records[1].client_error.find("read") != std::string::npos);
  CHECK(server.times_seen(records[1].nonce) == 1);
  CHECK(records[2].outcome == Outcome::ok);
  CHECK(server.requests() == 3);
}

TEST_CASE("Keep-Alive header values and the reuse bound") {
  CHECK(keep_alive_timeout("timeout=5, max=1000") == std::chrono::milliseconds(5000));
  CHECK(keep_alive_timeout("max=10,Timeout=120") == std::chrono::milliseconds(120000));
  CHECK_FALSE(keep_alive_timeout("max=10").has_value());
  CHECK_FALSE(keep_alive_timeout("timeout=").has_value());
  CHECK_FALSE(keep_alive_timeout("").has_value());
  CHECK(reuse_bound(30s, std::nullopt) == 30s);
  CHECK(reuse_bound(30s, std::chrono::milliseconds(120000)) == 30s);
  CHECK(reuse_bound(30s, std::chrono::milliseconds(5000)) == 4s);
  CHECK(reuse_bound(30s, std::chrono::milliseconds(1000)) == 500ms);
  CHECK(reuse_bound(30s, std::chrono::milliseconds(0)) == 0ms);
}

TEST_CASE("a stop abandons the requests in flight and returns what was sent") {
  KeepAliveServerOptions o;
  o.never_answer = true;
  KeepAliveServer server(o);
  const TrafficPlan plan = open_plan(server.port(), 50, 20s);
  TrafficProgress progress;
  std::vector<RequestRecord> records;
  std::atomic<bool> done{false};
  std::thread traffic([&] {
    records = run_traffic(plan, progress);
    done = true;
  });
  // Stop once a few requests are held by the server; then run_traffic must return long before the
  // client timeout (60 s) or the end of the schedule (20 s).
  REQUIRE(rrkit::proc::wait_until([&] { return server.requests() >= 5; }, 10s));
  const auto stop_at = std::chrono::steady_clock::now();
  progress.stop = true;
  const bool returned = rrkit::proc::wait_until([&] { return done.load(); }, 10s);
  traffic.join();
  REQUIRE(returned);
  CHECK(std::chrono::steady_clock::now() - stop_at < 10s);
  REQUIRE(records.size() >= 5);
  CHECK(records.size() < 1000);
  for (const auto& r : records) {
    CHECK(r.outcome == Outcome::interrupted);
    CHECK(r.http_status == 0);
  }
}

TEST_CASE("a host name is resolved, not handed to the address parser") {
  EchoEndpoint ep;
  TrafficPlan plan;
  plan.requests = 5;
  plan.host = "localhost";
  plan.gateway_ports = {ep.server.port()};
  TrafficProgress progress;
  const auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 5);
  for (const auto& r : records) {
    INFO(r.client_error);
    CHECK(r.outcome == Outcome::ok);
  }
}

TEST_CASE("a host that does not resolve fails every request with the reason") {
  TrafficPlan plan;
  plan.requests = 2;
  plan.host = "no-such-host.invalid";
  plan.gateway_ports = {rrkit::net::free_port()};
  TrafficProgress progress;
  const auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 2);
  for (const auto& r : records) {
    CHECK(r.outcome == Outcome::error);
    CHECK(r.client_error.find("resolve") != std::string::npos);
  }
}

TEST_CASE("a request's key is a function of the seed and its index") {
  CHECK(request_key("rr", 11, 137) == "rr-11-137");
  CHECK(request_key("warmup", 11, 0) == "warmup-11-0");
  CHECK(request_key("rr", 11, 137) != request_key("rr", 12, 137));
}

TEST_CASE("index lists for --only") {
  std::string error;
  CHECK(parse_index_list("137", error) == std::vector<std::uint64_t>{137});
  CHECK(parse_index_list("9,3,40-42,3", error) == std::vector<std::uint64_t>{3, 9, 40, 41, 42});
  CHECK(parse_index_list("0-0", error) == std::vector<std::uint64_t>{0});
  for (const char* bad : {"", ",", "1,", "a", "-3", "5-2", "1-", "1--2", "1.5", "18446744073709551616", " 1"}) {
    INFO(bad);
    error.clear();
    CHECK_FALSE(parse_index_list(bad, error).has_value());
    CHECK_FALSE(error.empty());
  }
  CHECK_FALSE(parse_index_list("0-99999999999", error).has_value());
  CHECK(error.find("more than") != std::string::npos);
  CHECK_FALSE(parse_index_list("0-10", error, 10).has_value());
  CHECK(parse_index_list("0-9", error, 10)->size() == 10);
}

TEST_CASE("only-list runs send just the listed requests, each with the key, body and gateway of the full run") {
  EchoEndpoint a, b;
  TrafficPlan plan;
  plan.mode = TrafficPlan::Mode::closed;
  plan.concurrency = 2;
  plan.requests = 50;
  plan.seed = 11;
  plan.body_template = {{"n", "{{seq}}"}};
  plan.gateway_ports = {a.server.port(), b.server.port()};
  TrafficProgress full_progress;
  const auto full = run_traffic(plan, full_progress);
  REQUIRE(full.size() == 50);
  plan.only = {3, 4, 37};
  TrafficProgress progress;
  const auto some = run_traffic(plan, progress);
  REQUIRE(some.size() == 3);
  for (const auto& r : some) {
    INFO(r.index);
    const auto& same = full[r.index];
    REQUIRE(same.index == r.index);
    CHECK(r.nonce == request_key("rr", 11, r.index));
    CHECK(r.nonce == same.nonce);
    CHECK(r.request_body == same.request_body);
    CHECK(r.gateway == same.gateway);
    CHECK(r.outcome == Outcome::ok);
  }
  CHECK(some[0].index == 3);
  CHECK(some[2].index == 37);
  CHECK(planned_requests(plan) == 50);
  // An index beyond the run sends nothing rather than a request the full run never had.
  plan.only = {50};
  TrafficProgress none;
  CHECK(run_traffic(plan, none).empty());
}

TEST_CASE("only-list runs pace an open-loop run with the schedule's first offsets") {
  EchoEndpoint ep;
  TrafficPlan plan = open_plan(ep.server.port(), 100, std::chrono::seconds(3));
  CHECK(planned_requests(plan) == 300);
  plan.only = {10, 250, 299};
  TrafficProgress progress;
  const auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 3);
  CHECK(records[1].index == 250);
  // The three go out 10 ms apart (the first offsets), not at their places 2.5 s into the schedule.
  CHECK(records[2].intended_us - records[0].intended_us == 20000);
}

TEST_CASE("with a roster each request goes to an instance live when it is sent, and the record says which") {
  // Instance a leaves and c joins while traffic runs, from a's own handler: its 20th request is the last.
  struct Leaving {
    std::mutex mu;
    std::vector<json> bodies;
    std::function<void()> after_20th;
    rrkit::test::TinyHttpServer server{[this](const rrkit::test::TinyRequest& r) {
      std::lock_guard lock(mu);
      bodies.push_back(json::parse(r.body, nullptr, false));
      if (bodies.size() == 20) after_20th();
      return rrkit::test::TinyResponse{200, json{{"correlationId", "a-" + std::to_string(bodies.size())}}.dump()};
    }};
  };
  Leaving a;
  EchoEndpoint b, c;
  auto roster = std::make_shared<GatewayRoster>(std::vector<std::uint16_t>{a.server.port(), b.server.port()});
  std::atomic<bool> changed{false};
  a.after_20th = [&] {
    roster->retire(0);
    roster->add(c.server.port());
    changed = true;
  };
  TrafficPlan plan;
  plan.mode = TrafficPlan::Mode::closed;
  plan.concurrency = 1;
  plan.requests = 120;
  plan.gateway_ports = {a.server.port(), b.server.port()};
  plan.roster = roster;
  TrafficProgress progress;
  const auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 120);
  std::map<int, std::set<std::string>> sent_to;
  for (const auto& r : records) {
    CHECK(r.outcome == Outcome::ok);
    sent_to[r.gateway].insert(r.nonce);
  }
  auto seen = [](auto& ep) {
    std::lock_guard lock(ep.mu);
    std::set<std::string> nonces;
    for (const auto& body : ep.bodies) nonces.insert(body.value("nonce", ""));
    return nonces;
  };
  CHECK(changed);
  CHECK(sent_to[0] == seen(a));
  CHECK(sent_to[1] == seen(b));
  CHECK(sent_to[2] == seen(c));
  CHECK(seen(a).size() == 20);  // one at a time: nothing reached a after the change
  CHECK(seen(c).size() > 30);
  CHECK(roster->unsent(0) + roster->unsent(1) + roster->unsent(2) == 0);
}

TEST_CASE("with every instance retired a request fails with the reason, it is not lost") {
  EchoEndpoint a;
  auto roster = std::make_shared<GatewayRoster>(std::vector<std::uint16_t>{a.server.port()});
  roster->retire(0);
  TrafficPlan plan;
  plan.mode = TrafficPlan::Mode::closed;
  plan.requests = 3;
  plan.gateway_ports = {a.server.port()};
  plan.roster = roster;
  TrafficProgress progress;
  const auto records = run_traffic(plan, progress);
  REQUIRE(records.size() == 3);
  for (const auto& r : records) {
    CHECK(r.outcome == Outcome::error);
    CHECK(r.client_error == "no live gateway instance to send to");
  }
}

}  // namespace traffic_test
