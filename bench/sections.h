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
// a / b, or 0 where b is not positive (a figure that was not measured).
double ratio(double a, double b);
std::optional<double> scrape(std::uint16_t port, const std::string& series);
harness::TrafficPlan base_plan(std::uint16_t port);
Percentiles sequential_latency(std::uint16_t port, int requests, std::uint64_t& failed);
// The same, each answered request's latency in milliseconds.
std::vector<double> sequential_samples(std::uint16_t port, int requests, std::uint64_t& failed);
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

// The Node.js peer: examples/node-gateway (the seed's design done right) behind its own daprd (consumer
// group = its app id), on the same Kafka topics. Owned by the run on the main thread.
class Peer {
 public:
  Peer(const Config& c, const stack::Paths& paths, const std::string& brokers)
      : config_(c), paths_(paths), brokers_(brokers) {}
  // node-gateway publishes CloudEvents and binds a DTO reply, so the simulator must answer in its
  // contract: `base` plus the `contract:` section of the gateway's own sut.yaml, so the two never drift.
  bool profile(const std::string& base, std::string& out, std::string& error) const;
  bool start(int timeout_ms, std::string& error);
  void stop();
  bool restart_node(int timeout_ms, std::string& error);
  std::uint16_t port() const { return port_; }
  stack::Process& node() { return node_; }
  stack::Daprd& daprd() { return *daprd_; }
  // The gateway's own figure (GET /healthz "pending"): the waiter table's size; 0 when unreadable.
  double pending() const;

 private:
  proc::SpawnSpec node_spec(int timeout_ms, std::uint16_t dapr_http_port) const;

  const Config& config_;
  const stack::Paths& paths_;
  std::string brokers_;
  std::uint16_t port_ = 0;
  std::uint16_t dapr_http_port_ = 0;
  stack::Process node_;
  std::unique_ptr<stack::Daprd> daprd_;
};

}  // namespace rrkit::bench
