#include "harness/timeline_action.h"

#include <algorithm>

#include "harness/scenario.h"
#include "harness/topology.h"

namespace rrkit::harness {

namespace {

std::size_t gateway(const TimelineAction& a) { return static_cast<std::size_t>(a.target); }

const std::vector<ActionInfo> kTable = {
    {ActionKind::kill_daprd, "kill_daprd", true, false, false, false, "SIGKILL the target gateway's daprd",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.kill_daprd(gateway(a), e); }},
    {ActionKind::restart_daprd, "restart_daprd", true, false, false, false, "start the target gateway's daprd again and wait until it is healthy",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.restart_daprd(gateway(a), e); }},
    {ActionKind::pause_kafka, "pause_kafka", false, false, false, false, "freeze the Kafka broker (SIGSTOP)",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.pause_kafka(e); }},
    {ActionKind::resume_kafka, "resume_kafka", false, false, false, false, "let the Kafka broker run again (SIGCONT)",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.resume_kafka(e); }},
    {ActionKind::crash_simulator, "crash_simulator", false, false, false, false, "SIGKILL the simulator",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.crash_simulator(e); }},
    {ActionKind::restart_simulator, "restart_simulator", false, false, false, false, "stop the simulator and start it again (same seed, current profile)",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.restart_simulator(e); }},
    {ActionKind::restart_gateway, "restart_gateway", true, false, false, false, "stop the target gateway gracefully and start it again",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.restart_gateway(gateway(a), e); }},
    {ActionKind::set_profile, "set_profile", false, true, false, false, "replace the simulator's fault profile through its control API",
     [](Topology& t, const TimelineAction& a, std::string& e) { return t.set_profile(a.profile_yaml, e); }},
    {ActionKind::pause_simulator, "pause_simulator", false, false, false, false, "pause the simulator through its control API (POST /pause)",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.pause_simulator(e); }},
    {ActionKind::resume_simulator, "resume_simulator", false, false, false, false, "resume the simulator through its control API (POST /resume)",
     [](Topology& t, const TimelineAction&, std::string& e) { return t.resume_simulator(e); }},
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
