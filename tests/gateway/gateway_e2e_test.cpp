// rr-gateway end to end on the real stack: Kafka 4.3.1 (KRaft) + daprd 1.18.3, the
// gateway as a child process, and a librdkafka replier of the test's own.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <future>
#include <limits>
#include <utility>

#include "common/ids.h"
#include "common/json_limits.h"
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

json parse(const http::Response& r) { return parse_bounded(r.body).value; }

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

// The gateway's current figure for a series. One that cannot be read (failed scrape, missing
// series) is a failure of the test, and NaN, which no comparison accepts: a dead or unreachable
// gateway must never pass "pending == 0".
double metric(const Instance& inst, const std::string& series) {
  const auto read = inst.metric(series);
  if (!read.value) {
    FAIL_CHECK(read.error);
    return std::numeric_limits<double>::quiet_NaN();
  }
  return *read.value;
}

// Waits until the series reads `value`; a read that fails never counts as any value. On a
// timeout the last read (or why there was none) goes with the failed check.
bool wait_metric(const Instance& inst, const std::string& series, double value, std::chrono::milliseconds timeout = 15s) {
  MetricRead last;
  if (proc::wait_until([&] { return (last = inst.metric(series)).value == value; }, timeout)) return true;
  UNSCOPED_INFO(series << " did not reach " << value << " within " << timeout.count() << " ms; last read: "
                       << (last.value ? std::to_string(*last.value) : last.error));
  return false;
}


std::string http_request(const std::string& method, const std::string& target, const std::string& body,
                         const std::string& extra_headers = "") {
  return method + " " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" + extra_headers +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

int status_of(const std::string& response) {
  return response.size() > 12 ? std::atoi(response.c_str() + 9) : 0;
}

// Where the first response in `text` ends (header + Content-Length body), npos when incomplete.
std::size_t response_end(const std::string& text) {
  const auto head_end = text.find("\r\n\r\n");
  if (head_end == std::string::npos) return std::string::npos;
  const auto cl = RawConn::lower(text.substr(0, head_end)).find("content-length: ");
  const std::size_t want = cl == std::string::npos ? 0 : std::stoul(text.substr(cl + 16));
  return text.size() >= head_end + 4 + want ? head_end + 4 + want : std::string::npos;
}

// `count` responses read from one connection, or what arrived before EOF or the deadline.
std::string read_responses(const RawConn& conn, int count, std::chrono::milliseconds timeout) {
  std::string in;
  const auto until = std::chrono::steady_clock::now() + timeout;
  auto complete = [&] {
    std::size_t at = 0;
    for (int i = 0; i < count; ++i) {
      const auto end = response_end(in.substr(at));
      if (end == std::string::npos) return false;
      at += end;
    }
    return true;
  };
  char buf[4096];
  while (!complete() && std::chrono::steady_clock::now() < until) {
    timeval tv{0, 100000};
    ::setsockopt(conn.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const ssize_t n = ::read(conn.fd, buf, sizeof buf);
    if (n == 0) break;
    if (n > 0) in.append(buf, static_cast<std::size_t>(n));
  }
  return in;
}

// The same figures through the callback listener (when the client listener is full); empty when
// unreadable, which equals no value.
std::optional<double> callback_metric(const Instance& gw, const std::string& series) {
  return read_metric(gw.callback_port(), series).value;
}

// A delivery as daprd posts it to the callback listener; the token is daprd's unless a test forges it.
http::Request delivery_request(const Instance& gw, bool with_token = true) {
  http::Request r;
  r.method = "POST";
  r.port = gw.callback_port();
  r.target = "/dapr/replies";
  if (with_token) r.headers = {{"dapr-api-token", kAppToken}};
  return r;
}

}  // namespace

TEST_CASE("gateway e2e: replies, timeouts and reply faults") {
  replier();
  InstanceOptions o;
  o.app_id = "gw-main";
  o.app_api_token = kAppToken;
  o.dapr_api_token = kDaprToken;
  o.extra_args = {"--timeout", "2s", "--max-body", "4096", "--max-reply-body", "65536", "--late-window", "30s"};
  Instance gw(std::move(o));
  std::string error;
  REQUIRE(gw.start(error));
  INFO(error);

  SECTION("200: each client gets the reply to its own request") {
    for (int i = 0; i < 20; ++i) {
      json req = {{"action", "echo"}, {"data", {{"n", i}, {"nonce", new_uuid_v4()}}}, {"correlationId", "client-chosen"}};
      check_round_trip(send(gw.port(), req), req);
    }
    CHECK(metric(gw, "rr_gateway_requests_total{outcome=\"ok\"}") == 20);
    CHECK(metric(gw, "rr_gateway_pending") == 0);
  }

  SECTION("504 at the header's timeout (not the default, not the late reply) and the late reply is counted late") {
    // Measured from the client on a loaded machine, so the bounds only tell the possible answers
    // apart: the header's 400 ms, the default 2 s, the reply at 4 s. The 504's precision is a
    // benchmark figure.
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = send(gw.port(), {{"mode", "late"}, {"delayMs", 4000}}, 400);
    const auto elapsed = std::chrono::steady_clock::now() - t0;
    REQUIRE(r.status == 504);
    const json body = parse(r);
    CHECK(body["error"] == "timeout");
    CHECK(body["timeoutMs"] == 400);
    CHECK(r.header("X-Correlation-Id") == body["correlationId"]);
    CHECK(elapsed >= 400ms);
    CHECK(elapsed < 1900ms);
    CHECK(wait_metric(gw, "rr_gateway_replies_total{class=\"late\"}", 1));
    CHECK(metric(gw, "rr_gateway_pending") == 0);
    CHECK(metric(gw, "rr_gateway_requests_total{outcome=\"timeout\"}") == 1);
    CHECK(metric(gw, "rr_gateway_replies_total{class=\"unknown\"}") == 0);
  }

  SECTION("a duplicate reply is counted once and harms nobody") {
    json req = {{"mode", "dup"}, {"v", 1}};
    check_round_trip(send(gw.port(), req), req);
    CHECK(wait_metric(gw, "rr_gateway_replies_total{class=\"duplicate\"}", 1));
    json next = {{"v", 2}};
    check_round_trip(send(gw.port(), next), next);
    CHECK(metric(gw, "rr_gateway_replies_total{class=\"duplicate\"}") == 1);
    CHECK(metric(gw, "rr_gateway_replies_total{class=\"matched\"}") == 2);
  }

  SECTION("a malformed reply is dropped without harm") {
    json req = {{"mode", "malformed"}};
    check_round_trip(send(gw.port(), req), req);
    CHECK(wait_metric(gw, "rr_gateway_replies_total{class=\"malformed\"}", 1));
    json next = {{"after", "malformed"}};
    check_round_trip(send(gw.port(), next), next);
    CHECK(metric(gw, "rr_gateway_pending") == 0);
  }

  SECTION("bad client input gets a clear error and publishes nothing") {
    const double published_before = metric(gw, "rr_gateway_publish_duration_seconds_count");
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
    // Over the parser's own default limit (1 MiB), announced by Content-Length as every client does:
    // still 413, not a header error.
    auto huge = call("POST", "/api/send", json{{"blob", std::string(2 << 20, 'x')}}.dump(), "application/json");
    CHECK(huge.status == 413);
    CHECK(parse(huge)["error"] == "too_large");
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
    CHECK(metric(gw, "rr_gateway_publish_duration_seconds_count") == published_before);
    CHECK(metric(gw, "rr_gateway_requests_total{outcome=\"bad_request\"}") == 4);
    CHECK(metric(gw, "rr_gateway_requests_total{outcome=\"too_large\"}") == 2);
    CHECK(metric(gw, "rr_gateway_requests_total{outcome=\"unsupported_media\"}") == 1);
    // And the gateway still works, with a body of exactly --max-body.
    json ok = {{"still", "fine"}, {"pad", ""}};
    ok["pad"] = std::string(4096 - ok.dump().size(), 'p');
    REQUIRE(ok.dump().size() == 4096);
    check_round_trip(send(gw.port(), ok), ok);
  }

  SECTION("a reply over --max-reply-body is DROPped and the next reply on its partition arrives") {
    // The replier sends a 100 KB reply, then the proper one with the same key (same partition).
    // A refusal daprd retries would hold the proper one back until the client's 504.
    json req = {{"mode", "big"}, {"padBytes", 100000}};
    const auto t0 = std::chrono::steady_clock::now();
    check_round_trip(send(gw.port(), req), req);
    CHECK(std::chrono::steady_clock::now() - t0 < 1900ms);
    CHECK(wait_metric(gw, "rr_gateway_replies_total{class=\"malformed\"}", 1));
    for (int i = 0; i < 8; ++i) {
      json next = {{"after", "big"}, {"i", i}};
      check_round_trip(send(gw.port(), next), next);
    }
  }

  SECTION("deliveries the gateway cannot take are answered DROP, never a status daprd retries") {
    http::Request r = delivery_request(gw);
    r.body = json{{"correlationId", new_uuid_v4()}, {"pad", std::string(100000, 'x')}}.dump();
    auto res = http::call(r);
    CHECK(res.status == 200);
    CHECK(parse(res)["status"] == "DROP");
    r.body = json{{"correlationId", new_uuid_v4()}}.dump();
    // 300 KB of headers (one field may hold 64 KB at most).
    for (int i = 0; i < 5; ++i) r.headers.emplace_back("X-Huge-" + std::to_string(i), std::string(60 * 1024, 'h'));
    res = http::call(r);
    CHECK(res.status == 200);
    CHECK(parse(res)["status"] == "DROP");
    CHECK(metric(gw, "rr_gateway_replies_total{class=\"malformed\"}") == 2);
    // The callback listener still serves.
    r.headers.resize(1);
    r.body = json{{"correlationId", new_uuid_v4()}}.dump();
    res = http::call(r);
    CHECK(res.status == 200);
    CHECK(parse(res)["status"] == "SUCCESS");
  }

  SECTION("a forged delivery (wrong or missing token) is rejected with 401 and counted") {
    json reply = {{"correlationId", new_uuid_v4()}, {"status", "ok"}};
    http::Request r = delivery_request(gw, /*with_token=*/false);
    r.body = reply.dump();
    CHECK(http::call(r).status == 401);
    r.headers = {{"dapr-api-token", "guess"}};
    CHECK(http::call(r).status == 401);
    CHECK(metric(gw, "rr_gateway_replies_total{class=\"forged\"}") == 2);
    // The right token is accepted (an unknown id: SUCCESS, never RETRY).
    r.headers = {{"dapr-api-token", kAppToken}};
    const auto ok = http::call(r);
    CHECK(ok.status == 200);
    CHECK(parse(ok)["status"] == "SUCCESS");
    CHECK(metric(gw, "rr_gateway_replies_total{class=\"unknown\"}") == 1);
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
    // Well before the 20 s deadline, which is the only other way out.
    CHECK(wait_metric(gw, "rr_gateway_requests_total{outcome=\"client_gone\"}", 1, 10s));
    CHECK(metric(gw, "rr_gateway_pending") == 0);
    CHECK(metric(gw, "rr_gateway_requests_total{outcome=\"timeout\"}") == 0);
  }

  SECTION("requests pipelined behind a waiting one on the same connection are answered in order after it") {
    // A waiting request parks its connection without a coroutine; the bytes the client sent behind
    // it (read with it into the buffer, or still in the socket) must come back with the connection.
    auto request = [](int n) {
      return n % 2 ? json{{"mode", "late"}, {"delayMs", 800}, {"n", n}} : json{{"n", n}};
    };
    // Each answer is the reply to its own request: the first (odd, answered late) comes first.
    auto check_in_order = [&](const RawConn& conn, int first) {
      const std::string both = read_responses(conn, 2, 15s);
      const auto split = response_end(both);
      REQUIRE(split != std::string::npos);
      int n = first;
      for (const std::string& res : {both.substr(0, split), both.substr(split)}) {
        REQUIRE(status_of(res) == 200);
        const json body = parse_bounded(res.substr(res.find("\r\n\r\n") + 4)).value;
        json sent = request(n++);
        sent["correlationId"] = body.at("correlationId");
        CHECK(body.at("response").at("correlationId") == body.at("correlationId"));
        CHECK(payload_matches(sent, body.at("response").at("payload")));
      }
    };
    {
      // Both in one write: the second arrives in the buffer the first was read with.
      RawConn conn(gw.port());
      REQUIRE(conn.write(http_request("POST", "/api/send", request(1).dump()) +
                         http_request("POST", "/api/send", request(2).dump())));
      check_in_order(conn, 1);
    }
    {
      // The second sent while the first waits: it is in the socket, not the buffer.
      RawConn conn(gw.port());
      REQUIRE(conn.write(http_request("POST", "/api/send", request(3).dump())));
      REQUIRE(wait_metric(gw, "rr_gateway_pending", 1, 10s));
      REQUIRE(conn.write(http_request("POST", "/api/send", request(4).dump())));
      check_in_order(conn, 3);
    }
    CHECK(metric(gw, "rr_gateway_pending") == 0);
  }

  SECTION("garbage deliveries are DROPped, not retried") {
    http::Request r = delivery_request(gw);
    for (const char* body : {"{broken", "{\"status\":\"ok\"}", "{\"specversion\":\"1.0\",\"data_base64\":\"%%\"}"}) {
      r.body = body;
      const auto res = http::call(r);
      CHECK(res.status == 200);
      CHECK(parse(res)["status"] == "DROP");
    }
    CHECK(metric(gw, "rr_gateway_replies_total{class=\"malformed\"}") == 3);
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
  CHECK(metric(gw, "rr_gateway_requests_total{outcome=\"overloaded\"}") == 1);
  CHECK(metric(gw, "rr_gateway_pending") == 0);
  // Capacity is back.
  json req = {{"after", "overload"}};
  check_round_trip(send(gw.port(), req), req);
}

TEST_CASE("gateway e2e: --max-timeout caps the timeout header") {
  replier();
  Instance gw = start_instance({"gw-cap", {"--timeout", "1s", "--max-timeout", "2s"}, "", "", false});
  // Asked for 60 s, given the 2 s cap: the 504 names the cap and comes long before 60 s (the
  // upper bound is loose on purpose, for a loaded machine; the client itself gives up at 20 s).
  const auto t0 = std::chrono::steady_clock::now();
  const auto capped = send(gw.port(), {{"mode", "silent"}}, 60000, 20s);
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  REQUIRE(capped.status == 504);
  CHECK(parse(capped)["timeoutMs"] == 2000);
  CHECK(elapsed >= 2000ms);
  CHECK(elapsed < 10s);
  // Under the cap the header is kept; without one the default applies.
  const auto under = send(gw.port(), {{"mode", "silent"}}, 300, 20s);
  REQUIRE(under.status == 504);
  CHECK(parse(under)["timeoutMs"] == 300);
  const auto fallback = send(gw.port(), {{"mode", "silent"}}, std::nullopt, 20s);
  REQUIRE(fallback.status == 504);
  CHECK(parse(fallback)["timeoutMs"] == 1000);
  CHECK(metric(gw, "rr_gateway_requests_total{outcome=\"timeout\"}") == 3);
  CHECK(metric(gw, "rr_gateway_pending") == 0);
}

TEST_CASE("gateway e2e: 503 dapr_unavailable long before the timeout when daprd is gone, ready again when it is back") {
  replier();
  Instance gw = start_instance({"gw-nodapr", {"--timeout", "30s"}, "", "", false});
  gw.daprd().process().kill9();
  REQUIRE_FALSE(gw.daprd().process().alive());
  const auto t0 = std::chrono::steady_clock::now();
  const auto r = send(gw.port(), {{"x", 1}});
  const auto elapsed = std::chrono::steady_clock::now() - t0;
  // Nothing listens on daprd's port any more: the publish is refused at connect, which is
  // "unreachable" (503); 502 is only for a publish daprd answered with an error.
  CHECK(r.status == 503);
  CHECK(parse(r)["error"] == "dapr_unavailable");
  // Answered on the failed publish, not at the deadline: the 30 s timeout leaves a margin a
  // loaded machine keeps (the figure itself belongs to the benchmark).
  CHECK(elapsed < 10s);
  CHECK(metric(gw, "rr_gateway_requests_total{outcome=\"publish_failed\"}") == 1);
  CHECK(metric(gw, "rr_gateway_requests_total{outcome=\"timeout\"}") == 0);
  CHECK(metric(gw, "rr_gateway_pending") == 0);
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
    CHECK(metric(*inst, "rr_gateway_requests_total{outcome=\"ok\"}") == kPerInstance);
    CHECK(metric(*inst, "rr_gateway_replies_total{class=\"matched\"}") == kPerInstance);
    CHECK(metric(*inst, "rr_gateway_pending") == 0);
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
  // At once rather than at the 20 s deadline; the margin is for a loaded machine.
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);
  REQUIRE(proc::wait_gone(gw.gateway().pid(), 10s));
  CHECK(gw.gateway().exit_status() == 0);
}

TEST_CASE("gateway e2e: a deeply nested body is refused at once and harms nobody") {
  replier();
  // Default --max-body (1 MiB): the 200 KB body is well under it.
  Instance gw = start_instance({"gw-deep", {"--timeout", "10s"}, "", "", false});
  // A client already waiting while the bad request arrives must still get its reply.
  json waiting_req = {{"mode", "late"}, {"delayMs", 1500}, {"who", "waiting"}};
  auto waiting = std::async(std::launch::async, [&] { return send(gw.port(), waiting_req); });
  REQUIRE(wait_metric(gw, "rr_gateway_pending", 1, 5s));
  REQUIRE(wait_metric(gw, "rr_gateway_publish_duration_seconds_count", 1, 5s));
  const double published_before = 1;
  const std::string deep = "{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}";
  const auto r = http::post_json(gw.port(), "/api/send", deep, 5s);
  REQUIRE(r.status == 400);
  CHECK(parse(r)["error"] == "too_deep");
  CHECK(metric(gw, "rr_gateway_publish_duration_seconds_count") == published_before);
  check_round_trip(waiting.get(), waiting_req);
  json next = {{"after", "deep"}};
  check_round_trip(send(gw.port(), next), next);
  // The same nesting in a delivery is malformed: DROP, counted, and the gateway stays up.
  const auto d = http::post_json(gw.callback_port(), "/dapr/replies",
                                 R"({"correlationId":"c-1","payload":)" + std::string(100000, '[') +
                                     std::string(100000, ']') + "}",
                                 5s);
  CHECK(d.status == 200);
  CHECK(parse(d)["status"] == "DROP");
  CHECK(metric(gw, "rr_gateway_replies_total{class=\"malformed\"}") == 1);
  CHECK(gw.gateway().alive());
  check_round_trip(send(gw.port(), next), next);
}

TEST_CASE("gateway e2e: connection cap, header deadline and Keep-Alive") {
  replier();
  constexpr int kCap = 10;
  Instance gw = start_instance(
      {"gw-conns", {"--max-client-connections", std::to_string(kCap), "--header-timeout", "2s"}, "", "", false});

  // A client trickling its header is cut off by the header deadline, not the 120 s idle timeout.
  {
    RawConn slow(gw.port());
    REQUIRE(slow.write("P"));
    CHECK(slow.closed_within(15s));
  }
  REQUIRE(proc::wait_until([&] { return callback_metric(gw, "rr_gateway_connections{listener=\"client\"}") == 0.0; },
                           10s));

  // Fill the client listener with idle keep-alive connections (each served one request).
  std::vector<RawConn> held;
  for (int i = 0; i < kCap; ++i) {
    held.emplace_back(gw.port());
    REQUIRE(held.back().write(http_request("GET", "/healthz", "")));
    const std::string res = held.back().read_response(5s);
    REQUIRE(status_of(res) == 200);
    CHECK(res.find("Keep-Alive: timeout=120") != std::string::npos);
  }
  REQUIRE(proc::wait_until(
      [&] { return callback_metric(gw, "rr_gateway_connections{listener=\"client\"}") == double(kCap); }, 10s));

  // One more client is refused cleanly: a 503 it can read, then the close.
  const auto refused = http::get(gw.port(), "/healthz", 5s);
  CHECK(refused.status == 503);
  CHECK(parse(refused)["error"] == "too_many_connections");
  CHECK(callback_metric(gw, "rr_gateway_connections_refused_total{listener=\"client\"}") == 1.0);

  // The callback listener and the publish path still work: a held connection sends a request.
  CHECK(http::get(gw.callback_port(), "/dapr/subscribe", 5s).status == 200);
  const std::string body = json{{"at", "cap"}}.dump();
  REQUIRE(held.front().write(http_request("POST", "/api/send", body)));
  const std::string res = held.front().read_response(10s);
  REQUIRE(status_of(res) == 200);
  const json answer = parse_bounded(res.substr(res.find("\r\n\r\n") + 4)).value;
  CHECK(answer["response"]["correlationId"] == answer["correlationId"]);

  // Capacity comes back when the connections go.
  held.clear();
  REQUIRE(proc::wait_until(
      [&] { return callback_metric(gw, "rr_gateway_connections{listener=\"client\"}") == 0.0; }, 10s));
  json after = {{"after", "cap"}};
  check_round_trip(send(gw.port(), after), after);
}

namespace {

// daprd stopped (SIGSTOP) for the scope: its connections stay open and nothing answers on them.
struct StalledDaprd {
  explicit StalledDaprd(Instance& gw) : p(gw.daprd().process()) { p.pause(); }
  StalledDaprd(const StalledDaprd&) = delete;
  StalledDaprd& operator=(const StalledDaprd&) = delete;
  ~StalledDaprd() { p.resume(); }
  stack::Process& p;
};

struct Timed {
  http::Response r;
  std::chrono::milliseconds took;
};

// `n` requests at once, each with X-Request-Timeout-Ms `timeout_ms`, timed from its own send.
std::vector<std::future<Timed>> send_at_once(const Instance& gw, const std::string& group, int n, int timeout_ms) {
  std::vector<std::future<Timed>> calls;
  for (int i = 0; i < n; ++i) {
    calls.push_back(std::async(std::launch::async, [&gw, group, i, timeout_ms] {
      const auto t0 = std::chrono::steady_clock::now();
      auto r = send(gw.port(), {{"stall", group}, {"i", i}}, timeout_ms);
      return Timed{r, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)};
    }));
  }
  return calls;
}

// With daprd stalled, each answer is 503 dapr_busy before the deadline (nothing was sent) or 504
// at it (published into the stalled daprd): returns how many were 503.
int busy_answers(std::vector<std::future<Timed>>& calls, int timeout_ms) {
  int busy = 0;
  for (auto& f : calls) {
    const auto t = f.get();
    INFO("status " << t.r.status << " after " << t.took.count() << " ms: " << t.r.body);
    if (t.r.status == 503) {
      ++busy;
      CHECK(parse(t.r)["error"] == "dapr_busy");
      CHECK(t.r.header("Retry-After") == "1");
      CHECK(t.took < std::chrono::milliseconds(timeout_ms));
    } else {
      CHECK(t.r.status == 504);
      CHECK(t.took >= std::chrono::milliseconds(timeout_ms));
      // At the header's deadline, not the 20 s default; loose for a loaded machine.
      CHECK(t.took < std::chrono::milliseconds(timeout_ms + 5000));
    }
  }
  return busy;
}

}  // namespace

TEST_CASE("gateway e2e: a stalled daprd gets 503 dapr_busy at once, 504 on time and a prompt shutdown") {
  replier();
  // One publish per request, so that each waits for a connection of the pool (the bulk queue is below).
  Instance gw = start_instance({"gw-stall",
                                {"--dapr-connections", "3", "--dapr-acquire-timeout", "100ms", "--timeout", "20s",
                                 "--publish-bulk-max", "0"},
                                "",
                                "",
                                false});
  json warm = {{"warm", 1}};
  check_round_trip(send(gw.port(), warm), warm);
  StalledDaprd stalled(gw);

  // More requests than connections: those without one are answered 503 dapr_busy long before
  // their deadline; those whose publish hangs in daprd get their 504 at the deadline.
  constexpr int kTimeoutMs = 1500;
  auto calls = send_at_once(gw, "pool", 8, kTimeoutMs);
  const int busy = busy_answers(calls, kTimeoutMs);
  CHECK(busy >= 5);  // 3 connections at most, one of them possibly taken by the health check
  CHECK(busy < 8);   // and the first of them was published
  REQUIRE(wait_metric(gw, "rr_gateway_pending", 0, 5s));

  // SIGTERM while a publish hangs in the stalled daprd: the client's 503 comes at once.
  auto waiting = std::async(std::launch::async, [&] { return send(gw.port(), {{"stall", "shutdown"}}); });
  REQUIRE(wait_metric(gw, "rr_gateway_pending", 1, 5s));
  const auto t0 = std::chrono::steady_clock::now();
  proc::signal_group(gw.gateway().pid(), SIGTERM);
  const auto r = waiting.get();
  CHECK(r.status == 503);
  CHECK(parse(r)["error"] == "shutdown");
  CHECK(std::chrono::steady_clock::now() - t0 < 10s);  // at once, not at the 20 s deadline
  REQUIRE(proc::wait_gone(gw.gateway().pid(), 15s));
}

TEST_CASE("gateway e2e: with a stalled daprd, queued requests go in calls of their own, then get 503 dapr_busy") {
  replier();
  // Bulk publish is on by default: one call in flight, the requests arriving meanwhile queue for the next.
  Instance gw = start_instance(
      {"gw-stall-bulk", {"--dapr-connections", "3", "--dapr-acquire-timeout", "100ms", "--timeout", "20s"}, "", "", false});
  json warm = {{"warm", 1}};
  check_round_trip(send(gw.port(), warm), warm);
  StalledDaprd stalled(gw);
  constexpr int kTimeoutMs = 5000;
  const auto bulk_calls = [&] { return callback_metric(gw, "rr_gateway_bulk_publish_calls_total").value_or(-1); };

  // The first request's publish holds the one call in flight, hanging in the stalled daprd.
  auto first = std::async(std::launch::async, [&] { return send(gw.port(), {{"stall", "first"}}, kTimeoutMs); });
  REQUIRE(wait_metric(gw, "rr_gateway_pending", 1, 5s));
  // Six more queue behind it. After the acquire timeout they go in a call of their own on a second
  // connection (the third is free, or held by the gateway's health check of daprd).
  auto a = send_at_once(gw, "a", 6, kTimeoutMs);
  REQUIRE(proc::wait_until([&] { return bulk_calls() >= 1.0; }, 5s));
  // Two more groups, one after the other: each starts a call of its own too, and by the last of them
  // every connection is held (first, a, and b or the health check), so at least one group finds none
  // free and is answered 503 dapr_busy at once instead of waiting for its deadline.
  auto b = send_at_once(gw, "b", 6, kTimeoutMs);
  REQUIRE(proc::wait_until([&] { return bulk_calls() >= 2.0; }, 5s));
  auto c = send_at_once(gw, "c", 6, kTimeoutMs);
  REQUIRE(proc::wait_until([&] { return bulk_calls() >= 3.0; }, 5s));

  CHECK(busy_answers(a, kTimeoutMs) == 0);  // a connection was free for them: published, 504 on time
  const int busy_b = busy_answers(b, kTimeoutMs);
  const int busy_c = busy_answers(c, kTimeoutMs);
  CHECK((busy_b == 6 || busy_c == 6));  // a group's requests share one call: all or none find no connection
  CHECK(first.get().status == 504);
  REQUIRE(wait_metric(gw, "rr_gateway_pending", 0, 5s));
  CHECK(bulk_calls() == 3.0);
}

TEST_CASE("gateway e2e: requests queued behind a publish go together in one bulk publish") {
  replier();
  Instance gw = start_instance({"gw-bulkpub", {"--timeout", "10s", "--publish-bulk-max", "20"}, "", "", false});
  // One at a time: each goes alone, as a plain publish.
  for (int i = 0; i < 5; ++i) {
    json req = {{"seq", i}, {"nonce", new_uuid_v4()}};
    check_round_trip(send(gw.port(), req), req);
  }
  CHECK(metric(gw, "rr_gateway_bulk_publish_calls_total") == 0);
  // A burst: requests that arrive while a publish is in flight queue and go in bulk calls, and
  // every client still gets the reply to its own request, its body as it sent it.
  std::vector<std::future<void>> clients;
  for (int c = 0; c < 16; ++c) {
    clients.push_back(std::async(std::launch::async, [&gw, c] {
      for (int i = 0; i < 10; ++i) {
        json req = {{"client", c}, {"i", i}, {"big", 12345678901234567890ULL}, {"text", "é\n\u0001"}, {"nonce", new_uuid_v4()}};
        check_round_trip(send(gw.port(), req), req);
      }
    }));
  }
  for (auto& f : clients) f.get();
  CHECK(metric(gw, "rr_gateway_requests_total{outcome=\"ok\"}") == 165);
  CHECK(metric(gw, "rr_gateway_replies_total{class=\"matched\"}") == 165);
  CHECK(metric(gw, "rr_gateway_pending") == 0);
  const double calls = metric(gw, "rr_gateway_bulk_publish_calls_total");
  const double entries = metric(gw, "rr_gateway_bulk_publish_entries_total");
  INFO("bulk calls " << calls << ", requests in them " << entries);
  CHECK(calls >= 1);
  CHECK(entries >= 2 * calls);
  CHECK(entries <= 160);
}

TEST_CASE("gateway e2e: bulk subscribe on the reply subscription keeps every reply rule") {
  replier();
  Instance gw = start_instance(
      {"gw-bulk", {"--timeout", "10s", "--reply-bulk-subscribe", "--reply-bulk-max-messages", "20",
                   "--reply-bulk-max-await", "10ms"}, "", "", false});
  // daprd was told to batch; a delivery in any other form would be answered 404 (dropped) by the
  // bulk route, so every round trip below also proves the batches arrive and are understood.
  const auto sub = http::get(gw.callback_port(), "/dapr/subscribe");
  REQUIRE(sub.status == 200);
  const json bulk = parse(sub).at(0).at("bulkSubscribe");
  CHECK(bulk == json{{"enabled", true}, {"maxMessagesCount", 20}, {"maxAwaitDurationMs", 10}});

  SECTION("each client gets the reply to its own request, one by one and in a burst") {
    for (int i = 0; i < 10; ++i) {
      json req = {{"seq", i}, {"nonce", new_uuid_v4()}};
      check_round_trip(send(gw.port(), req), req);
    }
    std::vector<std::future<void>> clients;
    for (int c = 0; c < 8; ++c) {
      clients.push_back(std::async(std::launch::async, [&gw, c] {
        for (int i = 0; i < 10; ++i) {
          json req = {{"client", c}, {"i", i}, {"nonce", new_uuid_v4()}};
          check_round_trip(send(gw.port(), req), req);
        }
      }));
    }
    for (auto& f : clients) f.get();
    CHECK(metric(gw, "rr_gateway_requests_total{outcome=\"ok\"}") == 90);
    CHECK(metric(gw, "rr_gateway_replies_total{class=\"matched\"}") == 90);
    CHECK(metric(gw, "rr_gateway_pending") == 0);
  }

  SECTION("a duplicate and a malformed reply in a batch are counted and harm nobody") {
    json dup = {{"mode", "dup"}, {"v", 1}};
    check_round_trip(send(gw.port(), dup), dup);
    CHECK(wait_metric(gw, "rr_gateway_replies_total{class=\"duplicate\"}", 1));
    json bad = {{"mode", "malformed"}};
    check_round_trip(send(gw.port(), bad), bad);
    CHECK(wait_metric(gw, "rr_gateway_replies_total{class=\"malformed\"}", 1));
    json next = {{"after", "faults"}};
    check_round_trip(send(gw.port(), next), next);
    CHECK(metric(gw, "rr_gateway_replies_total{class=\"duplicate\"}") == 1);
    CHECK(metric(gw, "rr_gateway_replies_total{class=\"matched\"}") == 3);
    CHECK(metric(gw, "rr_gateway_pending") == 0);
  }

  SECTION("a reply after the deadline is counted late") {
    const auto r = send(gw.port(), {{"mode", "late"}, {"delayMs", 1500}}, 300);
    REQUIRE(r.status == 504);
    CHECK(wait_metric(gw, "rr_gateway_replies_total{class=\"late\"}", 1));
    CHECK(metric(gw, "rr_gateway_pending") == 0);
  }
}
