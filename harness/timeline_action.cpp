#include "harness/timeline_action.h"

#include <algorithm>

#include "harness/scenario.h"
#include "harness/topology.h"

namespace rrkit::harness {

namespace {

std::size_t gateway(const TimelineAction& a) { return static_cast<std::size_t>(a.target); }
std::size_t simulator(const TimelineAction& a) { return static_cast<std::size_t>(a.instance); }

const std::vector<ActionInfo> kTable = {
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
};

}  // namespace

const std::vector<ActionInfo>& action_table() { return kTable; }

// Rows are in enum order, one per value (a unit test checks that row k has kind k and that the last
// row is the last value), so an enum value indexes its row.
const ActionInfo& info(ActionKind k) { return kTable.at(static_cast<std::size_t>(k)); }

const char* to_string(ActionKind k) { return info(k).name; }

std::optional<ActionKind> parse_action(std::string_view name) {
  for (const auto& row : kTable) {
    if (name == row.name) return row.kind;
  }
  return std::nullopt;
}

}  // namespace rrkit::harness
