#include "harness/timeline_player.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "harness/timeline_action.h"
#include "harness/traffic.h"

namespace rrkit::harness {

using namespace std::chrono_literals;

namespace {

// Plays the timeline's actions at their times while traffic runs, recording each in events and each
// failure in failures.
void run_timeline(const Scenario& sc, Topology* topo, AttachedSimulator* attached, std::int64_t start_us,
                  const std::atomic<bool>& stop, std::vector<std::string>& events, std::vector<std::string>& failures) {
  for (const auto& a : sc.timeline) {
    const std::int64_t due = start_us + a.at.count();
    while (now_us() < due && !stop) {
      std::this_thread::sleep_for(std::chrono::microseconds(std::min<std::int64_t>(due - now_us(), 20'000)));
    }
    if (stop) return;
    std::string error;
    bool ok = true;
    if (!topo) {
      const auto outcome = apply_attached(a, attached, error);
      if (outcome == AttachedAction::not_applicable) {
        events.push_back(not_applicable_event(static_cast<double>(now_us() - start_us) / 1e6, a, error));
        continue;
      }
      ok = outcome == AttachedAction::applied;
    } else {
      ok = info(a.action).apply(*topo, a, error);
    }
    const double at_s = static_cast<double>(now_us() - start_us) / 1e6;
    const auto& row = info(a.action);
    std::string what = row.uses_target ? fmt::format(" gateway {}", a.target) : "";
    if (a.action == ActionKind::stop_gateway) what = fmt::format(" gateway {}", a.instance);
    if (row.needs_broker) what += fmt::format(" broker {}", a.broker);
    if (row.needs_partition) what += fmt::format(" {} partition {}", a.topic, a.partition);
    if (topo) {
      if (const auto note = topo->take_note(); !note.empty()) what += " (" + note + ")";
    }
    events.push_back(fmt::format("t={:.2f}s {}{}{}", at_s, to_string(a.action), what, ok ? "" : " FAILED: " + error));
    if (!ok) failures.push_back(fmt::format("{}:{}: {} failed: {}", sc.path, a.line, to_string(a.action), error));
  }
}

}  // namespace

TimelinePlayer::TimelinePlayer(const Scenario& sc, std::unique_ptr<Topology>& topo, std::int64_t start_us,
               std::vector<std::string>& events, std::vector<std::string>& failures, AttachedSimulator* attached)
    : topo_(topo), thread_([&sc, &events, &failures, start_us, attached, this] {
        try {
          run_timeline(sc, topo_.get(), attached, start_us, stop_, events, failures);
        } catch (const std::exception& e) {
          failures.push_back(fmt::format("{}: timeline: {}", sc.path, e.what()));
        }
        done_ = true;
        while (!stack_down_) std::this_thread::sleep_for(20ms);
      }) {}

TimelinePlayer::~TimelinePlayer() {
  stop_ = true;
  if (topo_) topo_->down();
  stack_down_ = true;
  if (thread_.joinable()) thread_.join();
}

}  // namespace rrkit::harness
