#include "harness/warmup.h"

#include <algorithm>
#include <exception>
#include <thread>

#include <fmt/format.h>

namespace rrkit::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

TopologyOptions topology_options(const Scenario& sc, const fs::path& run_dir, bool with_profile) {
  TopologyOptions to;
  to.run_dir = run_dir;
  to.gateways = sc.gateways;
  to.shared_consumer_group = sc.shared_consumer_group;
  to.reply_mode = sc.reply_mode;
  to.partitions = sc.partitions;
  to.kafka_brokers = sc.kafka_brokers;
  to.replication_factor = sc.replication_factor;
  to.min_insync_replicas = sc.min_insync_replicas;
  to.gateway_timeout = fmt::format("{}ms", sc.gateway_timeout.count() / 1000);
  to.gateway_timeout_ms = sc.gateway_timeout.count() / 1000;
  to.gateway_args = sc.gateway_args;
  to.simulator_profile_yaml = with_profile ? sc.profile_yaml : std::string();
  to.seed = sc.seed;
  to.simulator_args = sc.simulator_args;
  to.simulator_instances = sc.simulator_instances;
  return to;
}

TrafficPlan warmup_plan(const Scenario& sc, const std::vector<std::uint16_t>& gateway_ports) {
  TrafficPlan w;
  w.mode = TrafficPlan::Mode::closed;
  w.concurrency = 1;
  w.requests = static_cast<std::uint64_t>(sc.warmup) * gateway_ports.size();
  w.body_template = {{"warmup", true}};
  // The first messages on a fresh stack take ~250 ms each way (producer ids, metadata, first
  // fetches), more than some scenarios' timeouts: the warm-up waits longer than the scenario does.
  w.request_timeout_ms = 10000;
  w.gateway_ports = gateway_ports;
  w.seed = sc.seed;
  w.key_prefix = "warmup";  // keys of their own: the scenario's requests keep theirs
  return w;
}

TrafficPlan warmup_burst_plan(const Scenario& sc, const std::vector<std::uint16_t>& gateway_ports) {
  TrafficPlan w = warmup_plan(sc, gateway_ports);
  const bool concurrent = sc.traffic.mode == TrafficPlan::Mode::closed && sc.traffic.concurrency > 1;
  w.concurrency = concurrent ? sc.traffic.concurrency : 1;
  w.requests = concurrent ? static_cast<std::uint64_t>(sc.traffic.concurrency) * gateway_ports.size() : 0;
  w.key_prefix = "warmup-burst";
  return w;
}

TrafficPlan warmup_hold_plan(const Scenario& sc, const std::vector<std::uint16_t>& gateway_ports,
                             std::chrono::microseconds hold) {
  TrafficPlan w = warmup_burst_plan(sc, gateway_ports);
  const bool held = w.requests > 0 && hold.count() > 0;
  w.concurrency = std::min(w.concurrency, kWarmupHoldConcurrency);
  w.requests = 0;
  w.duration = held ? hold : std::chrono::microseconds{0};
  w.key_prefix = "warmup-hold";
  return w;
}

std::vector<RequestRecord> run_traffic_watched(const TrafficPlan& plan, TrafficProgress& progress,
                                               const std::atomic<int>* interrupt, const std::function<void()>& tick) {
  std::vector<RequestRecord> records;
  std::exception_ptr failure;
  std::atomic<bool> done{false};
  std::thread traffic([&] {
    try {
      records = run_traffic(plan, progress);
    } catch (...) {
      failure = std::current_exception();
    }
    done = true;
  });
  // Joined on every way out, so that an exception here cannot destroy a joinable thread.
  struct Join {
    std::thread& thread;
    TrafficProgress& progress;
    ~Join() {
      if (thread.joinable()) {
        progress.stop = true;
        thread.join();
      }
    }
  } join{traffic, progress};
  while (!done) {
    std::this_thread::sleep_for(100ms);
    if (interrupt && interrupt->load() != 0) progress.stop = true;
    if (tick) tick();
  }
  traffic.join();
  if (failure) std::rethrow_exception(failure);
  return records;
}

namespace {

// One pass of the warm-up's load after the sequential pass (the hold, then the burst). Its answers
// only condition the stack: a cold gateway may reject some (503) or time some out, and that is
// reported in the summary, not failed. Only the requests that were published (answered 200 or the
// timeout status) count as sent, since only their replies reach the gateway's counters. False when
// interrupted or the traffic failed.
bool warm_up_load(Topology& topo, TrafficPlan plan, const std::string& what, WarmupResult& r,
                  const std::atomic<int>* interrupt, const std::shared_ptr<KeptConnections>& keep) {
  if (plan.requests == 0 && plan.duration.count() == 0) return true;
  plan.keep = keep;
  plan.request = topo.sut().request;
  plan.answer = topo.sut().answer;
  std::vector<RequestRecord> sent;
  TrafficProgress progress;
  try {
    sent = run_traffic_watched(plan, progress, interrupt, nullptr);
  } catch (const std::exception& e) {
    r.status = WarmupStatus::failed;
    r.error = "warm-up " + what + " traffic: " + e.what();
    return false;
  }
  if (interrupt && interrupt->load() != 0) {
    r.status = WarmupStatus::interrupted;
    return false;
  }
  std::size_t ok = 0, timed_out = 0;
  double worst = 0;
  for (const auto& b : sent) {
    ok += b.outcome == Outcome::ok;
    timed_out += b.outcome == Outcome::timeout;
    worst = std::max(worst, b.latency_ms());
  }
  r.sent += ok + timed_out;
  const std::string shape = plan.duration.count() > 0
                                ? fmt::format("{} ms at {} at once ({} requests)", plan.duration.count() / 1000,
                                              plan.concurrency, sent.size())
                                : fmt::format("{} at once", sent.size());
  r.summary += fmt::format("; then {}: {} answered 200, {} timed out, {} otherwise, slowest {:.0f} ms", shape, ok,
                           timed_out, sent.size() - ok - timed_out, worst);
  return true;
}

}  // namespace

WarmupResult warm_up(Topology& topo, const Scenario& sc, const fs::path& run_dir, const std::atomic<int>* interrupt,
                     const std::shared_ptr<KeptConnections>& keep) {
  WarmupResult r;
  if (sc.warmup <= 0) return r;
  std::vector<RequestRecord> warm;
  while (r.attempts < kWarmupAttempts) {
    TrafficProgress progress;
    try {
      TrafficPlan plan = warmup_plan(sc, topo.gateway_ports());
      plan.request = topo.sut().request;
      plan.answer = topo.sut().answer;
      plan.keep = keep;
      // Keys of each attempt's own: the simulator decides once per key.
      if (r.attempts > 0) plan.key_prefix += std::to_string(r.attempts + 1);
      warm = run_traffic_watched(plan, progress, interrupt, nullptr);
    } catch (const std::exception& e) {
      r.status = WarmupStatus::failed;
      r.error = std::string("warm-up traffic: ") + e.what();
      return r;
    }
    ++r.attempts;
    r.sent += warm.size();
    if (interrupt && interrupt->load() != 0) {
      r.status = WarmupStatus::interrupted;
      return r;
    }
    if (std::all_of(warm.begin(), warm.end(), [](const RequestRecord& w) { return w.outcome == Outcome::ok; })) break;
  }
  const double first_ms = warm.empty() ? 0 : warm.front().latency_ms();
  double worst = 0;
  std::size_t ok = 0;
  for (const auto& w : warm) {
    ok += w.outcome == Outcome::ok;
    worst = std::max(worst, w.latency_ms());
  }
  r.summary = fmt::format("warm-up: {}/{} requests answered 200, first {:.0f} ms, slowest {:.0f} ms", ok, warm.size(),
                          first_ms, worst);
  if (r.attempts > 1) r.summary += fmt::format(" (attempt {} of {})", r.attempts, kWarmupAttempts);
  std::string error;
  if (ok != warm.size()) {
    r.error = r.summary + " (the stack does not answer; see the logs in " + run_dir.string() + ")";
  } else if (!warm_up_load(topo, warmup_hold_plan(sc, topo.gateway_ports(), topo.sut().ready.warmup), "hold", r, interrupt,
                           keep) ||
             !warm_up_load(topo, warmup_burst_plan(sc, topo.gateway_ports()), "burst", r, interrupt, keep)) {
    return r;
  } else if (!sc.profile_yaml.empty() && !topo.set_profile(sc.profile_yaml, error)) {
    r.error = "applying the scenario's profile: " + error;
  }
  if (!r.error.empty()) r.status = WarmupStatus::failed;
  return r;
}

}  // namespace rrkit::harness
