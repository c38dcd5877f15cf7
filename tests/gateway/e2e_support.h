#pragma once
// End-to-end helpers for rr-gateway tests and the gateway bench: a real Kafka broker
// (shared by a test binary), gateway + daprd instances as child processes started in the
// order that loses nothing, a small librdkafka replier, and metric scraping.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "testkit/http_client.h"
#include "testkit/stack.h"

namespace rrkit::gateway_test {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

inline constexpr const char* kRequestTopic = "rr.requests";
inline constexpr const char* kReplyTopic = "rr.replies";

// One Kafka for the whole test binary (started on first use, stopped at exit).
struct SharedStack {
  stack::Paths paths;
  fs::path run_dir;
  std::unique_ptr<stack::Kafka> kafka;
  static SharedStack& get();
};

// Consumes the request topic and answers on the reply topic. What it does with each
// request is chosen by the request itself, field "mode":
//   "echo" (default) reply at once; "silent" never reply; "late" reply after "delayMs";
//   "dup" reply twice; "malformed" first send a non-JSON message, then the proper reply;
//   "big" first send a reply with a "padBytes" (default 100000) pad, then the proper reply.
// Replies go to the Kafka header replyTo when present (reply-to mode).
class Replier {
 public:
  explicit Replier(const std::string& brokers, bool answer_all_silently = false);
  ~Replier();
  std::uint64_t received() const { return received_; }
  std::uint64_t sent() const { return sent_; }
  void set_silent(bool silent) { silent_ = silent; }

 private:
  void loop();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> silent_{false};
  std::atomic<std::uint64_t> received_{0}, sent_{0};
  std::thread thread_;
};

// A figure read from /metrics, or why it could not be read.
struct MetricRead {
  std::optional<double> value;
  std::string error;  // set when value is empty
};

struct InstanceOptions {
  std::string app_id = "gw";
  std::vector<std::string> extra_args;  // e.g. {"--timeout", "1s"}
  std::string app_api_token;
  std::string dapr_api_token;
  bool shared_listener = false;  // --callback-listen equal to --listen
};

// One rr-gateway with its own daprd (consumer group = app id).
class Instance {
 public:
  explicit Instance(InstanceOptions options);
  // Starts the gateway, then daprd pointing at its callback port, then waits for /readyz 200.
  bool start(std::string& error);
  std::uint16_t port() const { return port_; }
  std::uint16_t callback_port() const { return callback_port_; }
  stack::Process& gateway() { return gateway_; }
  stack::Daprd& daprd() { return *daprd_; }
  // Current value of a metric line such as `rr_gateway_replies_total{class="late"}`. A failed
  // scrape or a missing series is never a value: the gateway pre-creates every series it has, so
  // either means the figure cannot be known (a dead or unreachable gateway), not that it is zero.
  MetricRead metric(const std::string& series) const;

 private:
  InstanceOptions options_;
  std::uint16_t port_ = 0, callback_port_ = 0;
  stack::Process gateway_;
  std::unique_ptr<stack::Daprd> daprd_;
};

// POST /api/send with an optional timeout header.
http::Response send(std::uint16_t port, const nlohmann::json& body, std::optional<int> timeout_ms = std::nullopt,
                    std::chrono::milliseconds client_timeout = 30s);

// Parses `name{labels} value` out of Prometheus text.
std::optional<double> metric_value(const std::string& text, const std::string& series);

// GET /metrics on a port and reads one series from it.
MetricRead read_metric(std::uint16_t port, const std::string& series);

// Reads VmRSS (kB) and Threads from /proc/<pid>/status.
struct ProcStatus {
  long rss_kb = -1;
  long threads = -1;
};
ProcStatus proc_status(int pid);

// A raw client connection, for what the blocking client cannot do (trickle, hold a request half
// sent, keep a connection alive across SIGTERM, reuse).
struct RawConn {
  int fd = -1;
  explicit RawConn(std::uint16_t port);
  ~RawConn();
  RawConn(RawConn&& o) noexcept;
  RawConn(const RawConn&) = delete;
  RawConn& operator=(const RawConn&) = delete;
  bool write(const std::string& bytes) const;
  // One response (header + Content-Length body), or what arrived before EOF / the timeout.
  std::string read_response(std::chrono::milliseconds timeout) const;
  // True when the server closed the connection within the timeout.
  bool closed_within(std::chrono::milliseconds timeout) const;
  static std::string lower(std::string s);
};

}  // namespace rrkit::gateway_test
