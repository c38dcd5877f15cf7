#pragma once
// Timeline actions (what a scenario does to the stack while traffic runs): one closed enum and one
// table (harness/timeline_action.cpp) giving each its name, its argument rules, its meaning (the README
// is checked against it) and its implementation on the Topology. Adding an action is one enum value
// and one table row.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rrkit::harness {

class Topology;
struct TimelineAction;

// Values index the table's rows (harness/timeline_action.cpp): add a value and its row in the same place.
enum class ActionKind {
  kill_daprd,
  restart_daprd,
  pause_kafka,
  resume_kafka,
  crash_simulator,
  restart_simulator,
  restart_gateway,
  set_profile,
  pause_simulator,
  resume_simulator,
  kill_broker,
  restart_broker,
  pause_broker,
  resume_broker,
  kill_leader,
  kill_controller,
  restart_killed_brokers,
  add_simulator,
  add_gateway,
  stop_gateway,
};

struct ActionInfo {
  ActionKind kind;
  const char* name;     // as scenario files write it: `action: kill_daprd`
  bool uses_target;     // `target:` picks the gateway (and its daprd); other actions ignore it
  bool needs_profile;   // `profile:` is required
  bool needs_broker;    // `broker:` (a Kafka node id, 1-based) is required
  bool needs_partition; // `topic:` (request | reply) and `partition:` are required
  const char* meaning;  // one line, for the README
  bool (*apply)(Topology&, const TimelineAction&, std::string& error);
};

const std::vector<ActionInfo>& action_table();
const ActionInfo& info(ActionKind k);

const char* to_string(ActionKind k);
std::optional<ActionKind> parse_action(std::string_view name);

// Why a timeline does not fit its stack's gateway instances: the action (its index in the sorted
// timeline), the key at fault ("target", "instance" or "action") and the reason.
struct TimelineProblem {
  std::size_t action = 0;
  std::string key;
  std::string message;
};

// Instances are numbered from 0: the stack's `gateways`, then one per add_gateway in timeline order.
// `target:` and stop_gateway's `instance:` must name one that exists and was not stopped when the action
// plays; stop_gateway must leave at least one serving; add_gateway needs broadcast replies (a reply-to
// instance's own reply topic is made with the stack); neither runs with traffic in several rounds (the
// runner samples each instance's memory between rounds). nullopt when the timeline fits.
std::optional<TimelineProblem> check_gateway_instances(const std::vector<TimelineAction>& timeline, int gateways,
                                                       const std::string& reply_mode, int rounds = 1);

}  // namespace rrkit::harness
