#pragma once
// rr-bench: every figure of the benchmark in one run on the real stack (Kafka 4.3.1, daprd 1.18.3):
// latency floors and rr-gateway (paths a, b, c), maximum sustained open-loop rate with CPU per
// request, memory per waiting request, timeout precision, harness capacity, and the Node.js peer.
// Figures only: nothing here passes or fails. Driven from main() on one thread.
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

// CLI11 is header-only and costs seconds of compile time in every translation unit that includes it
// (its validators are namespace-scope objects built in each): only the files that add options include it.
namespace CLI {
class App;
}  // namespace CLI

namespace rrkit::bench {

struct Config {
  std::string sections = "all";  // comma list: capacity,latency,rate,timeout,memory,levers,peer (or all)
  int latency_requests = 1000;   // sequential requests per path and round for section 1
  int latency_rounds = 10;       // section 1's paths are measured in turn, this many times over
  // Open-loop steps (req/s).
  std::vector<double> rates = {100, 250, 500, 750, 1000, 1500, 2000, 2500, 3000, 4000, 5000, 6000, 7000, 8000};
  double step_seconds = 4;       // length of each rate step
  double p99_limit_ms = 100;     // a step is sustained when p99 is under this and every request got 200
  std::vector<int> waiting = {10000, 19000};  // waiting requests for the memory figures
  double timeout_rate = 5000;    // req/s that time out, section 4
  double timeout_rate_low = 1000;  // the same at a rate the stack sustains, to separate saturation from the timer
  double timeout_seconds = 4;
  int timeout_ms = 200;          // X-Request-Timeout-Ms for section 4
  double capacity_seconds = 3;   // section 5
  int capacity_concurrency = 64;
  int publish_bulk_max = 100;    // levers: rr-gateway --publish-bulk-max of the "bulk-publish" and "both" variants
  int bulk_max_messages = 100;   // levers: rr-gateway --reply-bulk-max-messages of the "bulk-subscribe" variant
  int bulk_max_await_ms = 5;     // levers: its --reply-bulk-max-await
  std::string peer_dir;          // examples/node-gateway (server.js, sut.yaml, node_modules)
  std::string node = "node";
  std::filesystem::path run_dir;  // logs of every component; default /tmp/rr-bench-<stamp>
  std::string json_out;          // results JSON
  std::string markdown_out;      // RESULTS.md
  std::string log_level = "warn";  // of rr-gateway, rr-simulator, daprd
};

void add_options(CLI::App& app, Config& config);

// Runs the selected sections; returns the results document (also written to the configured files).
// Exit code: 0 when every selected section produced its figures, 2 on an infrastructure failure.
int run(const Config& config);

// RESULTS.md from the results document.
std::string markdown(const nlohmann::json& results);
// Writes markdown(results) to path, keeping whatever an existing file has from kKeptTail on: measurements made
// by hand (and said so) that a run of rr-bench does not repeat.
inline constexpr const char* kKeptTail = "<!-- rr-bench keeps what follows when it rewrites this file -->";
void write_markdown(const std::string& path, const nlohmann::json& results);

}  // namespace rrkit::bench
