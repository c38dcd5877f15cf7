// rr-gateway's shutdown on the real stack (Kafka 4.3.1 + daprd 1.18.3): what happens between
// SIGTERM and exit while a client holds the drain open with a request whose body never completes.
//   - a waiting client is answered 503 shutdown at once; its reply, arriving mid-shutdown on a
//     callback connection daprd already had open, is taken (SUCCESS, never a retry) and counted late;
//   - a request on a kept-alive client connection gets 503 shutdown, Connection: close, and the close;
//   - the listeners are closed; the drain gives up after 10 s and the process exits 0.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <fstream>
#include <future>
#include <utility>

#include "common/ids.h"
#include "tests/gateway/e2e_support.h"

using namespace rrkit;
using namespace rrkit::gateway_test;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

Replier& replier() {
  static Replier r(SharedStack::get().kafka->brokers());
  return r;
}


std::string http_request(const std::string& method, const std::string& target, const std::string& body) {
  return method + " " + target + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

int status_of(const std::string& response) { return response.size() > 12 ? std::atoi(response.c_str() + 9) : 0; }
bool closes(const std::string& response) {
  return RawConn::lower(response.substr(0, response.find("\r\n\r\n"))).find("\r\nconnection: close") != std::string::npos;
}
json body_of(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  return json::parse(at == std::string::npos ? std::string() : response.substr(at + 4), nullptr, false);
}

// One series from GET /metrics; nullopt when the scrape or the series failed (never a zero).
std::optional<double> read_series(std::uint16_t port, const std::string& series) {
  const auto r = http::get(port, "/metrics", 5s);
  if (!r.ok()) return std::nullopt;
  return metric_value(r.body, series);
}

// The gateway's "stopped" log line.
json stopped_line(const fs::path& log) {
  std::ifstream in(log);
  std::string line;
  while (std::getline(in, line)) {
    const auto j = json::parse(line, nullptr, false);
    if (j.is_object() && j.value("msg", "") == "stopped") return j;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("gateway shutdown: kept-alive requests are refused and closed, a mid-shutdown reply is late, the drain gives up after 10 s") {
  replier();
  Instance gw(InstanceOptions{"gw-drain", {"--timeout", "20s"}, "", "", false});
  std::string error;
  if (!gw.start(error)) FAIL(error);

  // Connections opened before SIGTERM and proven kept alive: the listeners close on SIGTERM,
  // so these are the only ways in afterwards.
  RawConn client(gw.port());
  REQUIRE(client.write(http_request("POST", "/api/send", R"({"mode":"echo","n":1})")));
  const std::string first = client.read_response(15s);
  REQUIRE(status_of(first) == 200);
  REQUIRE_FALSE(closes(first));
  RawConn scrape(gw.port());
  REQUIRE(scrape.write(http_request("GET", "/healthz", "")));
  REQUIRE(status_of(scrape.read_response(5s)) == 200);
  RawConn callback(gw.callback_port());
  REQUIRE(callback.write(http_request("GET", "/healthz", "")));
  REQUIRE(status_of(callback.read_response(5s)) == 200);

  const auto published = [&] { return read_series(gw.port(), "rr_gateway_publish_duration_seconds_count"); };
  const auto published_first = published();
  REQUIRE(published_first);

  // A client waiting for a reply that has not come yet.
  auto waiting = std::async(std::launch::async, [&] { return send(gw.port(), {{"mode", "silent"}}); });
  // A request whose body never completes: it is in the gateway's hands (header read) and holds
  // the drain open until the gateway gives up on it.
  RawConn trickle(gw.port());
  REQUIRE(trickle.write("POST /api/send HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: 64\r\n\r\n{\"held\":"));
  REQUIRE(proc::wait_until([&] { return read_series(gw.port(), "rr_gateway_pending") == 1.0; }, 10s));
  const double published_before = *published_first + 1;
  REQUIRE(proc::wait_until([&] { return published() == published_before; }, 10s));

  const auto t0 = std::chrono::steady_clock::now();
  REQUIRE(proc::signal_group(gw.gateway().pid(), SIGTERM));

  const auto answer = waiting.get();
  REQUIRE(answer.status == 503);
  const json answered = json::parse(answer.body, nullptr, false);
  CHECK(answered["error"] == "shutdown");
  const std::string waiting_id = answered.value("correlationId", "");
  REQUIRE(looks_like_uuid(waiting_id));

  // A new request on the kept-alive connection: refused, nothing published, and the connection closed.
  REQUIRE(client.write(http_request("POST", "/api/send", R"({"mode":"echo","n":2})")));
  const std::string refused = client.read_response(5s);
  CHECK(status_of(refused) == 503);
  CHECK(body_of(refused)["error"] == "shutdown");
  CHECK(closes(refused));
  CHECK(client.closed_within(3s));

  // The waiting client's reply arrives mid-shutdown: taken, not retried, counted late.
  const json reply = {{"correlationId", waiting_id}, {"status", "ok"}, {"payload", {{"late", true}}}};
  REQUIRE(callback.write(http_request("POST", "/dapr/replies", reply.dump())));
  const std::string delivered = callback.read_response(5s);
  CHECK(status_of(delivered) == 200);
  CHECK(body_of(delivered)["status"] == "SUCCESS");

  // The counters, read on the last kept-alive connection (the scrape is answered, then closed).
  REQUIRE(scrape.write(http_request("GET", "/metrics", "")));
  const std::string metrics = scrape.read_response(5s);
  REQUIRE(status_of(metrics) == 200);
  const std::string text = metrics.substr(metrics.find("\r\n\r\n") + 4);
  CHECK(metric_value(text, "rr_gateway_replies_total{class=\"late\"}") == 1.0);
  CHECK(metric_value(text, "rr_gateway_requests_total{outcome=\"shutdown\"}") == 2.0);
  CHECK(metric_value(text, "rr_gateway_pending") == 0.0);
  CHECK(metric_value(text, "rr_gateway_publish_duration_seconds_count") == published_before);
  CHECK(closes(metrics));

  // The listeners are closed: a new connection is refused.
  CHECK(RawConn(gw.port()).fd < 0);
  // Still draining: the half-sent request keeps the gateway up until the give-up.
  CHECK(gw.gateway().alive());

  // The drain gives up 10 s after SIGTERM (not at the half-sent request's 30 s body deadline).
  REQUIRE(proc::wait_gone(gw.gateway().pid(), 60s));
  const auto took = std::chrono::steady_clock::now() - t0;
  INFO("exit after " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
  CHECK(took >= 10s);
  CHECK(took < 25s);
  CHECK(gw.gateway().exit_status() == 0);
  CHECK(trickle.closed_within(5s));
  const json stopped = stopped_line(gw.gateway().log_file());
  INFO(stopped.dump());
  REQUIRE(stopped.is_object());
  CHECK(stopped["unfinished"] == 1);
  CHECK(stopped["answered_on_shutdown"] == 1);
}
