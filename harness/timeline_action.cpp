#include "harness/timeline_action.h"

#include <algorithm>

#include <fmt/format.h>

#include "harness/scenario.h"
#include "harness/topology.h"

namespace rrkit::harness {

namespace {

std::size_t gateway(const TimelineAction& a) { return static_cast<std::size_t>(a.target); }
// `instance:` numbers simulator instances, and gateway instances for stop_gateway.
std::size_t simulator(const TimelineAction& a) { return static_cast<std::size_t>(a.instance); }

const std::vector<ActionInfo> kActionTable = {
    {ActionKind::kill_daprd, "kill_daprd", true, false, false, false, "SIGKILL the target gateway's daprd",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.kill_daprd(gateway(a), e); }},
    {ActionKind::restart_daprd, "restart_daprd", true, false, false, false, "start the target gateway's daprd again and wait until it is healthy",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.restart_daprd(gateway(a), e); }},
    {ActionKind::pause_kafka, "pause_kafka", false, false, false, false, "freeze the Kafka broker (SIGSTOP)",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.pause_kafka(e); }},
    {ActionKind::resume_kafka, "resume_kafka", false, false, false, false, "let the Kafka broker run again (SIGCONT)",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.resume_kafka(e); }},
    {ActionKind::crash_simulator, "crash_simulator", false, false, false, false, "SIGKILL the simulator (`instance: N` of several, default 0)",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.crash_simulator(simulator(a), e); }},
    {ActionKind::restart_simulator, "restart_simulator", false, false, false, false, "stop the simulator and start it again (same seed, current profile; `instance: N` as above)",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.restart_simulator(simulator(a), e); }},
    {ActionKind::restart_gateway, "restart_gateway", true, false, false, false, "stop the target gateway gracefully and start it again",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.restart_gateway(gateway(a), e); }},
    {ActionKind::set_profile, "set_profile", false, true, false, false, "replace the simulator's fault profile through its control API",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.set_profile(a.profile_yaml, e); }},
    {ActionKind::pause_simulator, "pause_simulator", false, false, false, false, "pause the simulator through its control API (POST /pause)",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.pause_simulator(e); }},
    {ActionKind::resume_simulator, "resume_simulator", false, false, false, false, "resume the simulator through its control API (POST /resume)",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.resume_simulator(e); }},
    {ActionKind::kill_broker, "kill_broker", false, false, true, false, "SIGKILL the Kafka node `broker` (its log ends there)",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.kill_broker(a.broker, e); }},
    {ActionKind::restart_broker, "restart_broker", false, false, true, false,
     "start the Kafka node `broker` again on its storage (stopping it first if it runs); wait until it serves and, "
     "with every node up, until every partition is fully in sync again",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.restart_broker(a.broker, e); }},
    {ActionKind::pause_broker, "pause_broker", false, false, true, false, "freeze the Kafka node `broker` (SIGSTOP)",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.pause_broker(a.broker, e); }},
    {ActionKind::resume_broker, "resume_broker", false, false, true, false, "let the Kafka node `broker` run again (SIGCONT)",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.resume_broker(a.broker, e); }},
    {ActionKind::kill_leader, "kill_leader", false, false, false, true,
     "SIGKILL the Kafka node leading `partition` of the `topic` (request or reply), as metadata names it then",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.kill_leader(a.topic, a.partition, e); }},
    {ActionKind::kill_controller, "kill_controller", false, false, false, false,
     "SIGKILL the active KRaft controller (the node the metadata quorum follows)",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.kill_controller(e); }},
    {ActionKind::restart_killed_brokers, "restart_killed_brokers", false, false, false, false,
     "restart_broker for every Kafka node a kill action stopped",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.restart_killed_brokers(e); }},
    {ActionKind::add_simulator, "add_simulator", false, false, false, false, "start one more simulator instance in its consumer group (a rebalance) and wait until it owns partitions",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.add_simulator(e); }},
    {ActionKind::add_gateway, "add_gateway", false, false, false, false,
     "start one more gateway instance through the SUT file (own daprd, ports and app id), wait until it is ready, "
     "then let traffic use it",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.add_gateway(e); }},
    {ActionKind::stop_gateway, "stop_gateway", false, false, false, false,
     "stop gateway `instance: N` gracefully: no new request goes to it, SIGTERM (its shutdown answers its waiting "
     "clients), then its daprd",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.stop_gateway(simulator(a), e); }},
};

}  // namespace

const std::vector<ActionInfo>& action_table() { return kActionTable; }

// Rows are in enum order, one per value (a unit test checks that row k has kind k and that the last
// row is the last value), so an enum value indexes its row.
const ActionInfo& info(ActionKind k) { return kActionTable.at(static_cast<std::size_t>(k)); }

const char* to_string(ActionKind k) { return info(k).name; }

std::optional<ActionKind> parse_action(std::string_view name) {
  for (const auto& row : kActionTable) {
    if (name == row.name) return row.kind;
  }
  return std::nullopt;
}

std::optional<TimelineProblem> check_gateway_instances(const std::vector<TimelineAction>& timeline, int gateways,
                                                       const std::string& reply_mode, int rounds) {
  std::vector<bool> stopped(static_cast<std::size_t>(std::max(0, gateways)), false);
  auto serving = [&] { return static_cast<std::size_t>(std::count(stopped.begin(), stopped.end(), false)); };
  auto names_serving = [&](int i) {
    return i >= 0 && static_cast<std::size_t>(i) < stopped.size() && !stopped[static_cast<std::size_t>(i)];
  };
  auto why_not = [&](int i) {
    if (i >= 0 && static_cast<std::size_t>(i) < stopped.size()) return fmt::format("gateway {} was stopped by then", i);
    return fmt::format("no such gateway {} at that time ({} started, numbered from 0)", i, stopped.size());
  };
  for (std::size_t k = 0; k < timeline.size(); ++k) {
    const auto& a = timeline[k];
    const bool changes = a.action == ActionKind::add_gateway || a.action == ActionKind::stop_gateway;
    if (changes && rounds > 1) {
      return TimelineProblem{k, "action", std::string(to_string(a.action)) + " needs traffic in one round"};
    }
    if (a.action == ActionKind::add_gateway) {
      if (reply_mode == "reply-to") {
        return TimelineProblem{k, "action", "add_gateway needs reply_mode broadcast (a reply-to instance's reply topic "
                                            "is made when the stack starts)"};
      }
      // A run folder holds at most 8 instances (stack.gateways' bound), so replay can read every one.
      if (stopped.size() >= 8) return TimelineProblem{k, "action", "add_gateway would start a 9th gateway (at most 8 in a run)"};
      stopped.push_back(false);
    } else if (a.action == ActionKind::stop_gateway) {
      if (!names_serving(a.instance)) return TimelineProblem{k, "instance", why_not(a.instance)};
      if (serving() == 1) return TimelineProblem{k, "instance", "stop_gateway would leave no gateway serving"};
      stopped[static_cast<std::size_t>(a.instance)] = true;
    } else if (info(a.action).uses_target && !names_serving(a.target)) {
      return TimelineProblem{k, "target", why_not(a.target)};
    }
  }
  return std::nullopt;
}

}  // namespace rrkit::harness
