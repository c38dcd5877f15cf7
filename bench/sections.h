#pragma once
// rr-bench's measurement sections (bench/sections.cpp), used by the run in bench/bench.cpp.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench.h"
#include "bench/measure.h"
#include "harness/traffic.h"
#include "testkit/http_client.h"
#include "testkit/net.h"
#include "testkit/stack.h"

namespace rrkit::bench {

using json = nlohmann::json;
namespace fs = std::filesystem;
using namespace std::chrono_literals;  // (an internal header of rr-bench)

bool selected(const Config& c, const std::string& section);
void say(const std::string& line);
void pin_current_thread(int core);
void unpin_current_thread();
double thread_cpu_seconds();
std::optional<double> scrape(std::uint16_t port, const std::string& series);
harness::TrafficPlan base_plan(std::uint16_t port);
Percentiles sequential_latency(std::uint16_t port, int requests, std::uint64_t& failed);
bool warm_up(std::uint16_t port, int warm, std::chrono::seconds budget);

struct Watched {
  std::string name;
  pid_t pgid;
};

json rate_sweep(const Config& c, std::uint16_t port, const std::vector<Watched>& watched, const std::string& who);
json memory_figures(const Config& c, std::uint16_t port, pid_t pid, const std::function<double()>& pending,
                    std::vector<std::thread>& clients,
                    std::vector<std::unique_ptr<harness::TrafficProgress>>& progress, const std::string& who);
void write_file(const std::string& path, const std::string& text);
json capacity_run(const Config& c);

// The Node.js peer behind its own daprd (consumer group = its app id), on the same Kafka topics.
class Peer {
 public:
  Peer(const Config& c, const stack::Paths& paths, const std::string& brokers)
      : config_(c), paths_(paths), brokers_(brokers) {}
  bool start(int timeout_ms, std::string& error) {
    port_ = net::free_port();
    std::vector<std::pair<std::string, std::string>> env = {{"PEER_PORT", std::to_string(port_)},
                                                            {"DAPR_HTTP_PORT", "0"},
                                                            {"PEER_TIMEOUT_MS", std::to_string(timeout_ms)}};
    stack::DaprdConfig dc;
    dc.app_id = "bench-peer";
    dc.app_port = port_;
    dc.http_port = net::free_port();
    dc.brokers = brokers_;
    dc.log_level = config_.log_level;
    env[1].second = std::to_string(dc.http_port);
    node_ = stack::Process(proc::SpawnSpec{"peer", {config_.node, (fs::path(config_.peer_dir) / "server.js").string()},
                                           env, config_.run_dir / "peer.log", config_.peer_dir});
    if (!node_.start(error)) return false;
    if (!stack::wait_http_status(port_, "/healthz", 200, 30s, &node_)) {
      error = "the Node.js peer did not answer /healthz (see " + node_.log_file().string() + ")";
      return false;
    }
    daprd_ = std::make_unique<stack::Daprd>(paths_, config_.run_dir, dc);
    if (!daprd_->start(error)) return false;
    if (!warm_up(port_, 20, 90s)) {
      error = "the Node.js peer never answered 200 (see " + node_.log_file().string() + ")";
      return false;
    }
    return true;
  }
  void stop() {
    node_.stop(5s);
    if (daprd_) daprd_->stop();
  }
  void restart_node(int timeout_ms, std::string& error) {
    node_.stop(5s);
    node_.spec().env[2].second = std::to_string(timeout_ms);
    if (!node_.start(error)) return;
    stack::wait_http_status(port_, "/healthz", 200, 30s, &node_);
  }
  std::uint16_t port() const { return port_; }
  stack::Process& node() { return node_; }
  stack::Daprd& daprd() { return *daprd_; }
  double pending() const {
    const auto r = http::get(port_, "/healthz", 5s);
    const auto j = json::parse(r.body, nullptr, false);
    return j.is_object() ? j.value("pending", 0.0) : 0.0;
  }

 private:
  const Config& config_;
  const stack::Paths& paths_;
  std::string brokers_;
  std::uint16_t port_ = 0;
  stack::Process node_;
  std::unique_ptr<stack::Daprd> daprd_;
};

}  // namespace rrkit::bench
