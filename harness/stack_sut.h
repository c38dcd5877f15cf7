#pragma once
// `rr-harness stack up --sut FILE [--instances N] [--simulator [--profile FILE]]`: Kafka, rr-simulator and N
// instances of a system under test, each with its daprd, launched by the same code as `rr-harness run`
// (harness/topology.cpp), left running for manual use or for an attached run (`run --gateway-url ...
// --simulator-url ... --decisions ...`). Foreground until Ctrl-C or `stack down`; --detach starts that
// foreground holder in the background and returns once it is up.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/topology.h"

namespace rrkit::harness {

struct SutStackOptions {
  std::filesystem::path run_dir;     // logs, data, the decision log
  std::string sut_file;              // empty: no gateway instances
  int instances = 1;
  bool simulator = false;
  std::string profile_file;          // the simulator's fault profile (empty: fault-free)
  std::string timeout = "1s";        // the gateways' timeout ({{timeout}}); an attached scenario should match it
  std::uint64_t seed = 1;
  int warmup = 5;                    // fault-free requests per instance before the profile applies (0: none)
  int partitions = 4;
  std::string request_topic = "rr.requests";
  std::string reply_topic = "rr.replies";
};

// The stack itself, for `stack up` and for tests that attach to it.
class SutStack {
 public:
  explicit SutStack(SutStackOptions options) : options_(std::move(options)) {}
  // Loads the SUT file and the profile, starts everything, warms the gateways up (when there is a
  // simulator to answer them) and applies the profile. False with the reason (a log tail included).
  bool up(const std::atomic<int>* interrupt, std::string& error);
  void down();
  Topology& topology() { return *topo_; }
  // Where everything is: run_dir, kafka, simulator_control, decisions, gateways[{instance, url, app_id, ...}],
  // and `attach`, the run command line for it.
  nlohmann::json info() const;
  // `rr-harness run SCENARIO --gateway-url ... --simulator-url ... --decisions ... --sut ...` for this stack.
  std::string attach_command(const std::string& scenario) const;

 private:
  SutStackOptions options_;
  std::unique_ptr<Topology> topo_;
};

// The foreground holder: brings the stack up, records itself in state_file (so `stack down` stops it),
// prints where everything is, waits for a signal or a component's death, takes the stack down.
int hold_sut_stack(const SutStackOptions& options, const std::filesystem::path& state_file, std::ostream& out);

// --detach: starts the holder (this program, the same options) in the background, waits until it has
// recorded itself in state_file or died, prints where everything is. The holder's log is
// <run_dir>/stack-up.log.
int detach_sut_stack(const SutStackOptions& options, const std::filesystem::path& state_file, std::ostream& out);

// The holder's command line for these options (program first).
std::vector<std::string> holder_argv(const std::string& program, const SutStackOptions& options);

}  // namespace rrkit::harness
