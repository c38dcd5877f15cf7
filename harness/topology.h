#pragma once
// A whole rrkit deployment on this machine, for one scenario: Kafka, the simulator,
// and N gateways each with its own daprd, on free ports, logs in the run folder.
// Built on rrkit::stack, the same launcher `rr-harness stack up` uses.
// Owned and driven by the scenario runner's thread.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "harness/run_files.h"
#include "harness/sut.h"
#include "harness/traffic_roster.h"
#include "testkit/stack.h"

namespace rrkit::harness {

struct TopologyOptions {
  std::filesystem::path run_dir;
  int gateways = 1;
  bool shared_consumer_group = false;  // negative control: all gateways in one group (replies get lost)
  std::string reply_mode = "broadcast";  // broadcast | reply-to
  int partitions = 4;
  int kafka_brokers = 1;         // KRaft nodes (stack.kafka.brokers)
  int replication_factor = 0;    // 0: the launcher's default for the cluster size
  int min_insync_replicas = 0;   // 0: the launcher's default
  std::string request_topic = "rr.requests";
  std::string reply_topic = "rr.replies";
  std::string gateway_timeout = "1s";
  std::int64_t gateway_timeout_ms = 1000;  // the same, for {{timeout_ms}}
  std::vector<std::string> gateway_args;
  bool simulator = true;
  int simulator_instances = 1;  // rr-simulator processes in one consumer group (scenario simulator.instances)
  std::string simulator_profile_yaml;  // written to run_dir/profile.yaml
  std::uint64_t seed = 1;
  std::vector<std::string> simulator_args;
  std::string app_api_token;  // APP_API_TOKEN shared by daprd and gateway (empty: none)
  // How every gateway instance is started and judged ready. Empty: the default SUT file
  // (choose_sut: $RRKIT_SUT, else sut/rr-gateway.yaml next to the binaries).
  std::shared_ptr<const Sut> sut;
};

struct GatewayInstance {
  std::string id;  // process name and log file ("gw-<n>")
  int instance = 1;
  SutInstance spec;  // the expanded start spec (app id, argv, env, cwd), reused by a restart
  std::uint16_t port = 0;
  std::uint16_t callback_port = 0;
  stack::Process process;
  std::unique_ptr<stack::Daprd> daprd;
  bool joined = false;   // started by add_gateway while traffic ran
  bool stopped = false;  // stopped by stop_gateway: retired from the traffic, then SIGTERM
};

// One rr-simulator process: instance 0 is "simulator" (simulator.log, decisions.jsonl), instance k
// "simulator-k" (simulator-k.log, decisions-k.jsonl), all in the consumer group "rr-simulator".
struct SimulatorInstance {
  std::size_t index = 0;
  std::string name;
  std::uint16_t control_port = 0;
  stack::Process process;
};

// What a gateway's log says its graceful shutdown did: the waiting clients it answered (rr-gateway's
// "stopped" line, answered_on_shutdown); nullopt when the log has no such line (another SUT).
std::optional<std::int64_t> shutdown_answers(const std::filesystem::path& log);

class Topology {
 public:
  Topology(stack::Paths paths, TopologyOptions options);
  ~Topology();
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;

  bool up(std::string& error);
  void down();

  std::vector<std::uint16_t> gateway_ports() const;
  std::size_t gateway_count() const { return gateways_.size(); }
  GatewayInstance& gateway(std::size_t i) { return *gateways_.at(i); }
  stack::Kafka& kafka() { return *kafka_; }
  // Instance 0 (the only one unless the scenario scales the simulator out).
  stack::Process& simulator() { return simulators_.empty() ? no_simulator_ : simulators_[0]->process; }
  std::uint16_t simulator_control_port() const { return simulators_.empty() ? 0 : simulators_[0]->control_port; }
  std::filesystem::path decisions_file() const { return options_.run_dir / run_files::kDecisions; }
  std::size_t simulator_count() const { return simulators_.size(); }
  SimulatorInstance& simulator_instance(std::size_t k) { return *simulators_.at(k); }
  const TopologyOptions& options() const { return options_; }

  // Timeline actions. Each returns false with a message when it could not be carried out.
  bool kill_daprd(std::size_t i, std::string& error);
  bool restart_daprd(std::size_t i, std::string& error);
  bool pause_kafka(std::string& error);
  bool resume_kafka(std::string& error);
  bool crash_simulator(std::size_t k, std::string& error);
  bool restart_simulator(std::size_t k, std::string& error);
  bool add_simulator(std::string& error);  // one more instance in the group: a rebalance mid-traffic
  bool restart_gateway(std::size_t i, std::string& error);
  // One more instance of the system under test, started through its SUT file like the others (own
  // daprd, ports, app id): ready before the traffic may send to it.
  bool add_gateway(std::string& error);
  // Stops instance i gracefully: no new request goes to it, then SIGTERM (its waiting clients are its
  // shutdown's to answer), then its daprd.
  bool stop_gateway(std::size_t i, std::string& error);
  // The instances traffic may send to (set by up()); shared with the traffic thread.
  std::shared_ptr<GatewayRoster> roster() const { return roster_; }
  bool set_profile(const std::string& yaml, std::string& error);
  bool pause_simulator(std::string& error);
  bool resume_simulator(std::string& error);
  // Broker faults; a node is named by its Kafka node id (1-based).
  bool kill_broker(int id, std::string& error);
  bool restart_broker(int id, std::string& error);
  bool pause_broker(int id, std::string& error);
  bool resume_broker(int id, std::string& error);
  // restart_broker for every node a kill action stopped (kill_leader and kill_controller pick theirs at run time).
  bool restart_killed_brokers(std::string& error);
  // SIGKILL the node leading partition `partition` of the request or reply topic ("request" | "reply"),
  // as Kafka's metadata names it at that moment.
  bool kill_leader(const std::string& topic, int partition, std::string& error);
  // SIGKILL the active KRaft controller (the quorum leader).
  bool kill_controller(std::string& error);
  // What the last action found out (e.g. which node it killed), for the timeline's event line; cleared.
  std::string take_note() { return std::exchange(note_, std::string()); }

  // Names of components that are not running although no action stopped them.
  std::vector<std::string> unexpected_deaths() const;
  // Components a timeline action stopped on purpose (they are not counted as crashes).
  void mark_expected_down(const std::string& name, bool down);

  const Sut& sut() const { return *options_.sut; }

  // Waits until a gateway is ready as its SUT file says (HTTP check and/or daprd's subscription);
  // a process that exits or a deadline that passes is an error carrying the log's tail.
  bool wait_gateway_ready(std::size_t i, std::chrono::milliseconds timeout, std::string& error);

 private:
  bool start_simulator(SimulatorInstance& sim, std::string& error);
  bool any_simulator_alive(std::string& error) const;
  bool start_gateway(GatewayInstance& g, std::string& error);
  // A new instance numbered after the others, its ports, its SUT start spec and its daprd (not started).
  GatewayInstance& configure_gateway();
  bool launch_gateway(GatewayInstance& g, std::string& error);  // the gateway, then its daprd
  bool gateway_in_service(std::size_t i, std::string& error) const;  // exists and was not stopped
  std::string startup_failure(const GatewayInstance& g, const std::string& what) const;

  stack::Paths paths_;
  TopologyOptions options_;
  std::unique_ptr<stack::Kafka> kafka_;
  std::vector<std::unique_ptr<SimulatorInstance>> simulators_;
  stack::Process no_simulator_;  // simulator() of a topology without one: never started, never alive
  std::vector<std::unique_ptr<GatewayInstance>> gateways_;
  std::shared_ptr<GatewayRoster> roster_;
  std::vector<std::string> expected_down_;
  std::string note_;
};

}  // namespace rrkit::harness
