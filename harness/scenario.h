#pragma once
// Scenario files (YAML): what to deploy, what traffic to send, what to do on the way,
// and what must hold afterwards. Loading validates strictly: an unknown key, a wrong type
// or an out-of-range value is an error naming the file, line and key.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/invariant.h"
#include "harness/timeline_action.h"
#include "harness/memory.h"
#include "harness/traffic.h"

namespace rrkit::harness {

struct TimelineAction {
  std::chrono::microseconds at{0};
  ActionKind action = ActionKind::set_profile;  // see the table in harness/timeline_action.cpp
  int target = 0;      // gateway index for actions on a gateway or its daprd
  int broker = 0;      // Kafka node id (1-based, as Kafka numbers them) for actions on one broker
  std::string topic;   // kill_leader: "request" or "reply"
  int partition = 0;   // kill_leader: the partition whose leader is killed
  std::string profile_yaml;  // set_profile
  int line = 0;
};

struct Assertion {
  std::string text;  // as written, e.g. "outcome.timeout == 40"
  std::string lhs, op, rhs;
  int line = 0;
};

struct Scenario {
  std::string path;
  std::string name;
  std::string description;
  std::vector<std::string> tags;
  std::uint64_t seed = 1;

  // Deployment
  int gateways = 1;
  bool shared_consumer_group = false;
  std::string reply_mode = "broadcast";
  int partitions = 4;
  // stack.kafka: a KRaft cluster of this many combined broker+controller nodes; 0 in the two replication
  // settings means the launcher's default (replication = nodes up to 3, min in-sync = replication - 1).
  int kafka_brokers = 1;
  int replication_factor = 0;
  int min_insync_replicas = 0;
  std::chrono::microseconds gateway_timeout = std::chrono::seconds(1);
  std::vector<std::string> gateway_args;
  std::vector<std::string> simulator_args;
  std::string profile_yaml;  // the simulator's fault profile (from a file or inline)

  TrafficPlan traffic;
  // traffic.rounds: the requests in this many consecutive equal rounds, each followed by the settle wait and
  // a memory sample (memory_returns judges the trend over them); closed loop with a request count only.
  int rounds = 1;
  std::vector<TimelineAction> timeline;
  std::chrono::microseconds settle = std::chrono::seconds(5);
  int warmup = 10;  // fault-free requests per gateway before the scenario starts (0: none)

  // Checks
  std::chrono::microseconds timeout_epsilon = std::chrono::milliseconds(150);
  std::vector<Invariant> expect_violations;  // negative controls: these invariants MUST be reported
  std::vector<Invariant> allow;                // invariants this scenario waives, with the reason in the file
  std::vector<std::string> expected_crashes;   // components the scenario itself crashes (e.g. simulator)
  std::vector<Assertion> assertions;
  MemoryJudgeConfig memory;  // expect.memory: memory_returns's thresholds
};

// Loads and validates. On error returns nullopt and sets error to "file:line: key: problem".
// read_profile=false skips reading simulator.profile_file (replay of a stored run needs only the checks).
std::optional<Scenario> load_scenario(const std::filesystem::path& path, std::string& error, bool read_profile = true);

// Scenario files under the given paths (files as given, folders searched for *.yaml, sorted).
// Profile files (scenarios/profiles/) are not scenarios and are skipped.
std::vector<std::filesystem::path> find_scenarios(const std::vector<std::string>& paths, std::string& error);

// Each scenario's run folder is named after it (<out>/<name>-seed<N>): two scenarios of one name in
// one run would share, and empty, one folder. False with "file: name: ..." lines for each repeat.
bool check_unique_names(const std::vector<Scenario>& scenarios, std::string& error);

// The `--tag` filter of `run` and `list`: no tags asked selects every scenario; otherwise the scenario
// must carry one of them as a whole tag (`ci` does not select a scenario tagged `cinema`).
bool has_any_tag(const Scenario& scenario, const std::vector<std::string>& tags);

// One name an assertion may use. The loader refuses any other name and the checker gives a value to
// exactly these, so that a typo is an error at load time instead of a figure that reads 0 forever.
struct OperandInfo {
  std::string name;     // e.g. "gateway.replies_late"; "class.http_NNN" stands for any three-digit status
  std::string meaning;  // one line, for the README's assertion reference and for error messages
};
const std::vector<OperandInfo>& assertion_operands();

// True for a name of assertion_operands() (with NNN read as any three digits).
bool is_known_operand(const std::string& name);

// Checks an assertion side ("a", "a / b", "outcome.ok + outcome.timeout * 2": operands and + - * /
// separated by spaces); false with the problem (an unknown name, a missing operand) in error.
bool check_expression(const std::string& expr, std::string& error);

}  // namespace rrkit::harness
