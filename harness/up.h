#pragma once
// `rr-harness up FILE`: a scenario's whole topology (Kafka, the simulator with the scenario's
// fault profile and seed, the gateways with their daprd) left running for a developer to poke with
// curl, until Ctrl-C or `rr-harness down`. No traffic and no timeline: the developer is the client.
#include <atomic>
#include <filesystem>
#include <ostream>

#include "harness/scenario.h"

namespace rrkit::harness {

// Brings the topology up, prints where everything is, and waits until `interrupt` is set (by a
// signal) or a component dies; then tears it down. 0 after a stop, 2 when it could not start or a
// component died.
int scenario_up(const Scenario& sc, const std::filesystem::path& out_dir, const std::atomic<int>& interrupt,
                std::ostream& out);

// Stops the `up` recorded in `state_file` (SIGTERM, after checking the pid is still that process).
// 0 when it stopped or nothing was up, 2 when it could not be stopped.
int scenario_down(const std::filesystem::path& state_file, std::ostream& out);

// Where a running `up` records itself: <cache>/stack/up.json.
std::filesystem::path up_state_file();

}  // namespace rrkit::harness
