#pragma once
// The scenario's timeline, played on its own thread while the traffic runs (harness/runner.cpp).
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "harness/attach.h"
#include "harness/scenario.h"
#include "harness/topology.h"

namespace rrkit::harness {

// Plays the timeline on its own thread while traffic runs. The thread spawns restarted components,
// which die with the thread that spawned them (PR_SET_PDEATHSIG), so it stays alive until the stack
// is down: the destructor takes the stack down, then joins. Whatever happens (an exception included),
// the thread is joined: a joinable std::thread destroyed during unwinding would end the process
// (std::terminate) without a report and with the stack still running.
class TimelinePlayer {
 public:
  // Without a topology (attach mode) the actions go to `attached` (may be null) or are not applicable.
  TimelinePlayer(const Scenario& sc, std::unique_ptr<Topology>& topo, std::int64_t start_us,
                 std::vector<std::string>& events, std::vector<std::string>& failures,
                 AttachedSimulator* attached = nullptr);
  ~TimelinePlayer();
  TimelinePlayer(const TimelinePlayer&) = delete;
  TimelinePlayer& operator=(const TimelinePlayer&) = delete;

  void stop() { stop_ = true; }
  // Until the actions are played or stopped; afterwards the events and failures are the caller's again.
  void wait_played() const {
    while (!done_) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }

 private:
  std::unique_ptr<Topology>& topo_;
  std::atomic<bool> stop_{false}, done_{false}, stack_down_{false};
  std::thread thread_;  // last: started once the flags exist
};

}  // namespace rrkit::harness
