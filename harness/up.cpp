#include "harness/up.h"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/json_limits.h"
#include "harness/run_folder.h"
#include "testkit/stack.h"
#include "harness/stack_cli.h"
#include "harness/topology.h"
#include "harness/warmup.h"

namespace rrkit::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// Whether the state file names an `up` that is still running (same pid, start time, executable).
bool recorded_up_alive(const nlohmann::json& state) {
  const auto it = state.find("process");
  if (it == state.end()) return false;
  const auto p = recorded_process(*it);
  const auto now = proc::identity(p.pid);
  return p.identity && now && now->start_time == p.identity->start_time && now->exe == p.identity->exe;
}

}  // namespace

fs::path up_state_file() { return stack::Paths::discover().cache_dir / "stack" / "up.json"; }

int scenario_up(const Scenario& sc, const fs::path& out_dir, const std::atomic<int>& interrupt, std::ostream& out) {
  const fs::path state_file = up_state_file();
  if (const auto state = read_state_file(state_file); state && recorded_up_alive(*state)) {
    out << "rr-harness: a scenario is already up (" << state_file.string() << "); run `rr-harness down` first\n";
    return 2;
  }
  fs::path run_dir;
  std::string error;
  if (!create_run_folder(out_dir, sc.name + "-up", sc.seed, sc.path, run_dir, error)) {
    out << "rr-harness: " << error << "\n";
    return 2;
  }

  out << fmt::format("==> bringing up {} (seed {}) in {}\n", sc.name, sc.seed, run_dir.string());
  // Like a run: fault-free first, warmed up, then the scenario's profile — so that the first manual
  // request does not pay for the stack's first messages (a second on a fresh broker).
  Topology topo(stack::Paths::discover(), topology_options(sc, run_dir, sc.warmup == 0));
  if (!topo.up(error)) {
    topo.down();
    out << "rr-harness: " << error << "\n";
    return 2;
  }
  if (const auto w = warm_up(topo, sc, run_dir, &interrupt); w.status != WarmupStatus::done) {
    topo.down();
    if (w.status == WarmupStatus::interrupted) {
      out << "==> down (interrupted during the warm-up)\n";
      return 0;
    }
    out << "rr-harness: " << w.error << "\n";
    return 2;
  }
  for (const auto& c : sc.expected_crashes) topo.mark_expected_down(c, true);

  nlohmann::json info{{"scenario", sc.name},
                      {"seed", sc.seed},
                      {"run_dir", run_dir.string()},
                      {"kafka", topo.kafka().brokers()},
                      {"simulator_control", fmt::format("http://127.0.0.1:{}", topo.simulator_control_port())},
                      {"decisions", topo.decisions_file().string()},
                      {"gateways", nlohmann::json::array()}};
  for (const auto port : topo.gateway_ports()) {
    info["gateways"].push_back({{"send", fmt::format("http://127.0.0.1:{}/api/send", port)},
                                {"metrics", fmt::format("http://127.0.0.1:{}/metrics", port)}});
  }
  std::ofstream(run_dir / run_files::kUpJson) << safe_dump(info, 2) << "\n";
  std::error_code ec;
  fs::create_directories(state_file.parent_path(), ec);
  std::ofstream(state_file) << safe_dump({{"process", process_entry("rr-harness up", ::getpid())}, {"info", info}}, 2)
                            << "\n";

  for (std::size_t i = 0; i < info["gateways"].size(); ++i) {
    out << fmt::format("    gateway {}: {}  (metrics {})\n", i + 1, info["gateways"][i]["send"].get<std::string>(),
                       info["gateways"][i]["metrics"].get<std::string>());
  }
  out << fmt::format("    simulator control: {} (GET /profile, PUT /profile, POST /pause, POST /resume)\n",
                     info["simulator_control"].get<std::string>());
  out << fmt::format("    Kafka: {}    decision log: {}\n", topo.kafka().brokers(), topo.decisions_file().string());
  out << fmt::format(
      "    the simulator decides on the body's \"nonce\": send {{\"action\":\"echo\",\"nonce\":\"rr-{}-137\"}} to meet the "
      "faults request #137 meets in `rr-harness run`\n",
      sc.seed);
  if (!sc.timeline.empty()) out << "    (the scenario's timeline is not played: you drive the stack)\n";
  out << "==> up; Ctrl-C or `rr-harness down` stops it" << std::endl;

  int rc = 0;
  while (interrupt.load() == 0) {
    const auto dead = topo.unexpected_deaths();
    if (!dead.empty()) {
      std::string names;
      for (const auto& d : dead) names += (names.empty() ? "" : ", ") + d;
      out << "rr-harness: " << names << " exited unexpectedly; see the logs in " << run_dir.string() << "\n";
      rc = 2;
      break;
    }
    std::this_thread::sleep_for(200ms);
  }
  out << "==> stopping\n";
  topo.down();
  // Only our own record is removed: a later `up` may have replaced it after a `down` timed out.
  if (const auto state = read_state_file(state_file); state && state->contains("process")) {
    const auto p = recorded_process((*state)["process"]);
    if (p.pid == ::getpid()) fs::remove(state_file, ec);
  }
  out << "==> down" << std::endl;
  return rc;
}

int scenario_down(const fs::path& state_file, std::ostream& out) {
  const auto state = read_state_file(state_file);
  if (!state) {
    out << "rr-harness: nothing is up (" << state_file.string() << " does not exist)\n";
    return 0;
  }
  if (!state->contains("process")) {
    out << "rr-harness: unreadable state file " << state_file.string() << "; removed\n";
    std::error_code ec;
    fs::remove(state_file, ec);
    return 0;
  }
  const auto p = recorded_process((*state)["process"]);
  std::string why;
  // Teardown stops gateways, sidecars, the simulator and Kafka in turn: give it time.
  const auto outcome = stack::stop_recorded(p, 120s, why, false);
  out << "    " << p.name << " (pid " << p.pid << "): " << to_string(outcome) << (why.empty() ? "" : ": " + why) << "\n";
  std::error_code ec;
  fs::remove(state_file, ec);
  return outcome == stack::RecordedStop::killed ? 2 : 0;
}

}  // namespace rrkit::harness
