#pragma once
// Runs scenarios end to end: deploy (or attach), warm up, drive traffic and the timeline, settle,
// collect the evidence into the run folder (harness/run_folder.h), check.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/result.h"
#include "harness/run_folder.h"
#include "harness/scenario.h"
#include "harness/sut.h"
#include "harness/topology.h"
#include "harness/warmup.h"

namespace rrkit::harness {

struct RunOptions {
  std::filesystem::path out_dir = "runs";   // each scenario gets <out>/<name>-seed<N>/
  std::optional<std::uint64_t> seed;        // overrides the scenarios' seeds
  // Attach mode: test gateways that are already running (ours or not).
  std::vector<std::string> gateway_urls;    // http://127.0.0.1:8080
  std::string attach_decisions;             // a simulator decision log to join with, if there is one
  std::string simulator_url;                // a running rr-simulator's control API: profiles and pause/resume go there
  std::string attach_id_pointer = "/correlationId";
  bool progress_tty = false;                // live progress line instead of periodic lines
  std::string self_command = "rr-harness";  // for the reproduce line
  // Set (to the signal number) by whoever catches SIGINT/SIGTERM: traffic stops, the stack is torn
  // down, and the result of what ran is returned with status "interrupted".
  const std::atomic<int>* interrupt = nullptr;
  // --only: the request indexes to send (sorted, unique) and the list as the user wrote it.
  std::vector<std::uint64_t> only;
  std::string only_text;
  // The system under test every launched gateway instance is (empty: the default, see choose_sut),
  // and the --sut argument as given, for the repro line.
  std::shared_ptr<const Sut> sut;
  std::string sut_arg;
  // --compress: the run folder's history and decision logs are gzipped once the scenario is judged.
  bool compress_run_folder = false;
};

// Reads http://HOST:PORT (a name is resolved now, so that a bad one is a usage error at start-up
// rather than a failure of every request); false with a message when it cannot.
bool parse_gateway_url(const std::string& url, std::string& host, std::uint16_t& port, std::string& error);

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options);

// A narrowed run (--only) reproduces single requests: assertions about the whole run (counts,
// fractions) and negative controls have nothing to say about it; the per-request invariants stay.
// Says so in events when it drops any.
void narrow_for_only(Scenario& sc, const std::string& only_text, std::vector<std::string>& events);

// Re-runs the checker on a stored run folder.
std::optional<ScenarioResult> replay_run(const std::filesystem::path& run_dir, std::string& error);

}  // namespace rrkit::harness
