#pragma once
// Runs scenarios end to end: deploy (or attach), drive traffic and the timeline, settle,
// collect the evidence into the run folder, check, and report.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/result.h"
#include "harness/scenario.h"
#include "harness/topology.h"

namespace rrkit::harness {

struct RunOptions {
  std::filesystem::path out_dir = "runs";   // each scenario gets <out>/<name>-seed<N>/
  std::optional<std::uint64_t> seed;        // overrides the scenarios' seeds
  // Attach mode: test gateways that are already running (ours or not).
  std::vector<std::string> gateway_urls;    // http://127.0.0.1:8080
  std::string attach_decisions;             // a simulator decision log to join with, if there is one
  std::string attach_id_pointer = "/correlationId";
  bool progress_tty = false;                // live progress line instead of periodic lines
  std::string self_command = "rr-harness";  // for the reproduce line
  // Set (to the signal number) by whoever catches SIGINT/SIGTERM: traffic stops, the stack is torn
  // down, and the result of what ran is returned with status "interrupted".
  const std::atomic<int>* interrupt = nullptr;
  // --only: the request indexes to send (sorted, unique) and the list as the user wrote it.
  std::vector<std::uint64_t> only;
  std::string only_text;
};

// Reads http://HOST:PORT (a name is resolved now, so that a bad one is a usage error at start-up
// rather than a failure of every request); false with a message when it cannot.
bool parse_gateway_url(const std::string& url, std::string& host, std::uint16_t& port, std::string& error);

// The folder a scenario's run gets: <out>/<name>-seed<seed>. False with a message when it would not
// be a direct child of out (names are validated at load; this is the last line of defence before the
// folder is emptied).
bool run_folder_for(const std::filesystem::path& out_dir, const std::string& name, std::uint64_t seed,
                    std::filesystem::path& folder, std::string& error);

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options);

// The stack a scenario runs on, in run_dir; with_profile=false starts the simulator fault-free
// (the runner applies the scenario's profile after the warm-up).
TopologyOptions topology_options(const Scenario& sc, const std::filesystem::path& run_dir, bool with_profile);

// The warm-up's traffic: sc.warmup fault-free requests per gateway, one at a time, with a long timeout.
TrafficPlan warmup_plan(const Scenario& sc, const std::vector<std::uint16_t>& gateway_ports);

// The JSON lines of a file (bounded parsing; blank and unparseable lines are skipped).
std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& file);

// Re-runs the checker on a stored run folder.
std::optional<ScenarioResult> replay_run(const std::filesystem::path& run_dir, std::string& error);

}  // namespace rrkit::harness
