// rr-gateway end to end on the real stack: Kafka 4.3.1 (KRaft) + daprd 1.18.3, the
// gateway as a child process, and a librdkafka replier of the test's own.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>

#include "common/ids.h"
#include "common/reply.h"
#include "tests/gateway/e2e_support.h"

using namespace rrkit;
using namespace rrkit::gateway_test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

const std::string kAppToken = "app-token-" + new_uuid_v4();
const std::string kDaprToken = "dapr-token-" + new_uuid_v4();

Replier& replier() {
  static Replier r(SharedStack::get().kafka->brokers());
  return r;
}

json parse(const http::Response& r) { return json::parse(r.body, nullptr, false); }

// The reply in a 200 must be the one computed from exactly the request we sent.
void check_round_trip(const http::Response& r, json request) {
  REQUIRE(r.status == 200);
  const json body = parse(r);
  const std::string id = body.at("correlationId").get<std::string>();
  CHECK(looks_like_uuid(id));
  CHECK(r.header("X-Correlation-Id") == id);
  const json& reply = body.at("response");
  CHECK(reply.at("correlationId") == id);
  request["correlationId"] = id;
  CHECK(payload_matches(request, reply.at("payload")));
}

Instance start_instance(InstanceOptions o) {
  Instance inst(std::move(o));
  std::string error;
  if (!inst.start(error)) FAIL(error);
  return inst;
}

bool wait_metric(const Instance& inst, const std::string& series, double value, std::chrono::milliseconds timeout = 15s) {
  return proc::wait_until([&] { return inst.metric_or_zero(series) == value; }, timeout);
}

}  // namespace

TEST_CASE("gateway e2e: replies, timeouts and reply faults") {
  replier();
  InstanceOptions o;
  o.app_id = "gw-main";
  o.app_api_token = kAppToken;
  o.dapr_api_token = kDaprToken;
  o.extra_args = {"--timeout", "2s", "--max-body", "4096", "--late-window", "30s"};
  Instance gw(std::move(o));
  std::string error;
  REQUIRE(gw.start(error));
  INFO(error);

  SECTION("200: each client gets the reply to its own request") {
    for (int i = 0; i < 20; ++i) {
      json req = {{"action", "echo"}, {"data", {{"n", i}, {"nonce", new_uuid_v4()}}}, {"correlationId", "client-chosen"}};
      check_round_trip(send(gw.port(), req), req);
    }
    CHECK(gw.metric_or_zero("rr_gateway_requests_total{outcome=\"ok\"}") == 20);
    CHECK(gw.metric_or_zero("rr_gateway_pending") == 0);
  }

  SECTION("504 arrives within [timeout, timeout + 100ms] and the late reply is counted late") {
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = send(gw.port(), {{"mode", "late"}, {"delayMs", 1200}}, 400);
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    REQUIRE(r.status == 504);
    const json body = parse(r);
    CHECK(body["error"] == "timeout");
    CHECK(body["timeoutMs"] == 400);
    CHECK(r.header("X-Correlation-Id") == body["correlationId"]);
    CHECK(elapsed >= 400ms);
    CHECK(elapsed <= 500ms);
    CHECK(wait_metric(gw, "rr_gateway_replies_total{class=\"late\"}", 1));
    CHECK(gw.metric_or_zero("rr_gateway_pending") == 0);
    CHECK(gw.metric_or_zero("rr_gateway_requests_total{outcome=\"timeout\"}") == 1);
    CHECK(gw.metric_or_zero("rr_gateway_replies_total{class=\"unknown\"}") == 0);
  }

  SECTION("the timeout header is capped by --max-timeout and a silent replier gives 504") {
    const auto r = send(gw.port(), {{"mode", "silent"}}, 300);
    CHECK(r.status == 504);
    CHECK(gw.metric_or_zero("rr_gateway_pending") == 0);
  }

  SECTION("a duplicate reply is counted once and harms nobody") {
    json req = {{"mode", "dup"}, {"v", 1}};
    check_round_trip(send(gw.port(), req), req);
    CHECK(wait_metric(gw, "rr_gateway_replies_total{class=\"duplicate\"}", 1));
    json next = {{"v", 2}};
    check_round_trip(send(gw.port(), next), next);
    CHECK(gw.metric_or_zero("rr_gateway_replies_total{class=\"duplicate\"}") == 1);
    CHECK(gw.metric_or_zero("rr_gateway_replies_total{class=\"matched\"}") == 2);
  }

  SECTION("a malformed reply is dropped without harm") {
    json req = {{"mode", "malformed"}};
    check_round_trip(send(gw.port(), req), req);
    CHECK(wait_metric(gw, "rr_gateway_replies_total{class=\"malformed\"}", 1));
    json next = {{"after", "malformed"}};
    check_round_trip(send(gw.port(), next), next);
    CHECK(gw.metric_or_zero("rr_gateway_pending") == 0);
  }

  SECTION("bad client input gets a clear error and publishes nothing") {
    const double published_before = gw.metric_or_zero("rr_gateway_publish_duration_seconds_count");
    auto call = [&](std::string method, std::string target, std::string body, std::string content_type) {
      http::Request r;
      r.method = std::move(method);
      r.port = gw.port();
      r.target = std::move(target);
      r.body = std::move(body);
      r.content_type = std::move(content_type);
      return http::call(r);
    };
    auto bad_json = call("POST", "/api/send", "{\"a\":", "application/json");
    CHECK(bad_json.status == 400);
    CHECK(parse(bad_json)["error"] == "invalid_json");
    CHECK(call("POST", "/api/send", "[1,2]", "application/json").status == 400);
    auto too_big = call("POST", "/api/send", json{{"blob", std::string(8000, 'x')}}.dump(), "application/json");
    CHECK(too_big.status == 413);
    CHECK(parse(too_big)["error"] == "too_large");
    CHECK(call("POST", "/api/send", "{}", "text/plain").status == 415);
    CHECK(call("GET", "/nope", "", "application/json").status == 404);
    auto wrong_method = call("GET", "/api/send", "", "application/json");
    CHECK(wrong_method.status == 405);
    CHECK(wrong_method.header("Allow") == "POST");
    http::Request bad_timeout;
    bad_timeout.method = "POST";
    bad_timeout.port = gw.port();
    bad_timeout.target = "/api/send";
    bad_timeout.body = "{}";
    bad_timeout.headers = {{"X-Request-Timeout-Ms", "soon"}};
    CHECK(http::call(bad_timeout).status == 400);
    CHECK(gw.metric_or_zero("rr_gateway_publish_duration_seconds_count") == published_before);
    CHECK(gw.metric_or_zero("rr_gateway_requests_total{outcome=\"bad_request\"}") == 4);
    CHECK(gw.metric_or_zero("rr_gateway_requests_total{outcome=\"too_large\"}") == 1);
    CHECK(gw.metric_or_zero("rr_gateway_requests_total{outcome=\"unsupported_media\"}") == 1);
    // And the gateway still works.
    json ok = {{"still", "fine"}};
    check_round_trip(send(gw.port(), ok), ok);
  }

  SECTION("a forged delivery (wrong or missing token) is rejected with 401 and counted") {
    json reply = {{"correlationId", new_uuid_v4()}, {"status", "ok"}};
    http::Request r;
    r.method = "POST";
    r.port = gw.callback_port();
    r.target = "/dapr/replies";
    r.body = reply.dump();
    CHECK(http::call(r).status == 401);
    r.headers = {{"dapr-api-token", "guess"}};
    CHECK(http::call(r).status == 401);
    CHECK(gw.metric_or_zero("rr_gateway_replies_total{class=\"forged\"}") == 2);
    // The right token is accepted (an unknown id: SUCCESS, never RETRY).
    r.headers = {{"dapr-api-token", kAppToken}};
    const auto ok = http::call(r);
    CHECK(ok.status == 200);
    CHECK(parse(ok)["status"] == "SUCCESS");
    CHECK(gw.metric_or_zero("rr_gateway_replies_total{class=\"unknown\"}") == 1);
    // The client API is not served on the callback listener and vice versa.
    CHECK(http::post_json(gw.callback_port(), "/api/send", "{}").status == 404);
    CHECK(http::post_json(gw.port(), "/dapr/replies", "{}").status == 404);
  }

  SECTION("a client that disconnects while waiting is removed at once") {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(gw.port());
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    const std::string body = R"({"mode":"silent"})";
    const std::string req = "POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                            "X-Request-Timeout-Ms: 20000\r\nContent-Length: " + std::to_string(body.size()) +
                            "\r\n\r\n" + body;
    REQUIRE(::write(fd, req.data(), req.size()) == static_cast<ssize_t>(req.size()));
    REQUIRE(wait_metric(gw, "rr_gateway_pending", 1, 5s));
    ::close(fd);
    CHECK(wait_metric(gw, "rr_gateway_requests_total{outcome=\"client_gone\"}", 1, 2s));
    CHECK(gw.metric_or_zero("rr_gateway_pending") == 0);
    CHECK(gw.metric_or_zero("rr_gateway_requests_total{outcome=\"timeout\"}") == 0);
  }

  SECTION("garbage deliveries are DROPped, not retried") {
    http::Request r;
    r.method = "POST";
    r.port = gw.callback_port();
    r.target = "/dapr/replies";
    r.headers = {{"dapr-api-token", kAppToken}};
    for (const char* body : {"{broken", "{\"status\":\"ok\"}", "{\"specversion\":\"1.0\",\"data_base64\":\"%%\"}"}) {
      r.body = body;
      const auto res = http::call(r);
      CHECK(res.status == 200);
      CHECK(parse(res)["status"] == "DROP");
    }
    CHECK(gw.metric_or_zero("rr_gateway_replies_total{class=\"malformed\"}") == 3);
  }
}

TEST_CASE("gateway e2e: 503 with Retry-After at --max-pending") {
  replier();
  Instance gw = start_instance({"gw-pending", {"--max-pending", "5", "--timeout", "3s"}, "", "", true});
  std::vector<std::future<http::Response>> waiting;
  for (int i = 0; i < 5; ++i) {
    waiting.push_back(std::async(std::launch::async, [&] { return send(gw.port(), {{"mode", "silent"}}); }));
  }
  REQUIRE(wait_metric(gw, "rr_gateway_pending", 5, 5s));
  const auto r = send(gw.port(), {{"mode", "echo"}});
  CHECK(r.status == 503);
  CHECK(r.header("Retry-After") == "1");
  CHECK(parse(r)["error"] == "overloaded");
  for (auto& f : waiting) CHECK(f.get().status == 504);
  CHECK(gw.metric_or_zero("rr_gateway_requests_total{outcome=\"overloaded\"}") == 1);
  CHECK(gw.metric_or_zero("rr_gateway_pending") == 0);
  // Capacity is back.
  json req = {{"after", "overload"}};
  check_round_trip(send(gw.port(), req), req);
}

TEST_CASE("gateway e2e: fast 503 when daprd is gone, ready again when it is back") {
  replier();
  Instance gw = start_instance({"gw-nodapr", {"--timeout", "5s"}, "", "", false});
  gw.daprd().process().kill9();
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = send(gw.port(), {{"x", 1}});
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  CHECK((r.status == 503 || r.status == 502));
  CHECK(elapsed < 500ms);
  CHECK(parse(r)["error"] == "dapr_unavailable");
  CHECK(gw.metric_or_zero("rr_gateway_requests_total{outcome=\"publish_failed\"}") == 1);
  CHECK(gw.metric_or_zero("rr_gateway_pending") == 0);
  CHECK(stack::wait_http_status(gw.port(), "/readyz", 503, 5s));
  std::string error;
  REQUIRE(gw.daprd().restart(error));
  REQUIRE(stack::wait_http_status(gw.port(), "/readyz", 200, 60s));
  json req = {{"after", "restart"}};
  check_round_trip(send(gw.port(), req), req);
}

TEST_CASE("gateway e2e: two instances with per-instance consumer groups lose nothing") {
  replier();
  Instance a = start_instance({"gw-a", {"--timeout", "10s"}, "", "", false});
  Instance b = start_instance({"gw-b", {"--timeout", "10s", "--threads", "2"}, "", "", false});
  constexpr int kPerInstance = 40;
  std::vector<std::future<void>> clients;
  for (Instance* inst : {&a, &b}) {
    for (int c = 0; c < 4; ++c) {
      clients.push_back(std::async(std::launch::async, [inst, c] {
        for (int i = 0; i < kPerInstance / 4; ++i) {
          json req = {{"client", c}, {"i", i}, {"nonce", new_uuid_v4()}};
          check_round_trip(send(inst->port(), req), req);
        }
      }));
    }
  }
  for (auto& f : clients) f.get();
  for (Instance* inst : {&a, &b}) {
    CHECK(inst->metric_or_zero("rr_gateway_requests_total{outcome=\"ok\"}") == kPerInstance);
    CHECK(inst->metric_or_zero("rr_gateway_replies_total{class=\"matched\"}") == kPerInstance);
    CHECK(inst->metric_or_zero("rr_gateway_pending") == 0);
  }
  // Broadcast: each instance also sees (and ignores as unknown) the other's replies.
  CHECK(wait_metric(a, "rr_gateway_replies_total{class=\"unknown\"}", kPerInstance));
  CHECK(wait_metric(b, "rr_gateway_replies_total{class=\"unknown\"}", kPerInstance));
}

TEST_CASE("gateway e2e: reply-to mode uses a per-instance reply topic") {
  replier();
  Instance gw = start_instance({"gw-replyto", {"--reply-mode", "reply-to"}, "", "", false});
  for (int i = 0; i < 5; ++i) {
    json req = {{"reply", "to"}, {"i", i}};
    check_round_trip(send(gw.port(), req), req);
  }
}

TEST_CASE("gateway e2e: SIGTERM answers every waiting client and exits 0") {
  replier();
  Instance gw = start_instance({"gw-term", {"--timeout", "20s"}, "", "", false});
  std::vector<std::future<http::Response>> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.push_back(std::async(std::launch::async, [&] { return send(gw.port(), {{"mode", "silent"}}); }));
  }
  REQUIRE(wait_metric(gw, "rr_gateway_pending", 3, 5s));
  const auto t0 = std::chrono::steady_clock::now();
  proc::signal_group(gw.gateway().pid(), SIGTERM);
  for (auto& f : waiting) {
    const auto r = f.get();
    CHECK(r.status == 503);
    CHECK(parse(r)["error"] == "shutdown");
  }
  CHECK(std::chrono::steady_clock::now() - t0 < 3s);
  REQUIRE(proc::wait_gone(gw.gateway().pid(), 10s));
  CHECK(gw.gateway().exit_status() == 0);
}
