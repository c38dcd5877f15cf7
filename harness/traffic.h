#pragma once
// Load generation against one or more gateways: closed loop (N workers, each waiting for
// its answer before sending again) or open loop (a constant arrival rate, latency measured
// from the intended send time so that a slow server cannot hide queueing: no coordinated
// omission). One thread, asynchronous I/O: thousands of requests in flight at once.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/result.h"

namespace rrkit::harness {

struct TrafficPlan {
  enum class Mode { closed, open };
  Mode mode = Mode::closed;
  int concurrency = 4;                   // closed loop workers
  double rate = 100;                     // open loop requests per second
  std::uint64_t requests = 100;          // total to send (0: until duration)
  std::chrono::microseconds duration{0};  // stop sending after this (0: until requests)
  nlohmann::json body_template = nlohmann::json::object();  // "{{seq}}" / "{{nonce}}" strings are substituted
  std::string nonce_field = "nonce";     // field added to every body with a unique value
  std::int64_t request_timeout_ms = 0;   // X-Request-Timeout-Ms when > 0
  std::chrono::microseconds client_timeout{std::chrono::seconds(60)};  // client gives up (outcome no_answer)
  double disconnect_fraction = 0;        // share of requests the client abandons (closes the socket)
  std::chrono::microseconds disconnect_after{std::chrono::milliseconds(200)};
  std::vector<std::uint16_t> gateway_ports;  // requests go round-robin
  std::string host = "127.0.0.1";
  std::string target = "/api/send";
  std::string id_header = "X-Correlation-Id";  // where the gateway names the correlation id
  std::string id_pointer = "/correlationId";   // JSON pointer into the answer body, used when the header is absent
  std::uint64_t seed = 1;                // chooses which requests are abandoned
};

struct TrafficProgress {
  std::atomic<std::uint64_t> sent{0};
  std::atomic<std::uint64_t> answered{0};
};

// Runs the plan to completion (every request answered, abandoned or given up on) and returns
// one record per request, in sending order. `progress` is updated as it goes (any thread may read it).
std::vector<RequestRecord> run_traffic(const TrafficPlan& plan, TrafficProgress& progress);

// Fills a body template: strings "{{seq}}" become the request index (a number), "{{nonce}}" the nonce;
// the nonce field is then set. Exposed for tests.
nlohmann::json render_body(const nlohmann::json& templ, std::uint64_t seq, const std::string& nonce,
                           const std::string& nonce_field);

// Microseconds since the Unix epoch (the simulator's decision log uses the same clock).
std::int64_t now_us();

}  // namespace rrkit::harness
