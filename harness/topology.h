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
};

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
  stack::Process& simulator() { return simulator_; }
  std::uint16_t simulator_control_port() const { return sim_control_port_; }
  std::filesystem::path decisions_file() const { return options_.run_dir / run_files::kDecisions; }
  const TopologyOptions& options() const { return options_; }

  // Timeline actions. Each returns false with a message when it could not be carried out.
  bool kill_daprd(std::size_t i, std::string& error);
  bool restart_daprd(std::size_t i, std::string& error);
  bool pause_kafka(std::string& error);
  bool resume_kafka(std::string& error);
  bool crash_simulator(std::string& error);
  bool restart_simulator(std::string& error);
  bool restart_gateway(std::size_t i, std::string& error);
  bool set_profile(const std::string& yaml, std::string& error);
  bool pause_simulator(std::string& error);
  bool resume_simulator(std::string& error);
  // Broker faults; a node is named by its Kafka node id (1-based).
  bool kill_broker(int id, std::string& error);
  bool restart_broker(int id, std::string& error);
  bool pause_broker(int id, std::string& error);
  bool resume_broker(int id, std::string& error);
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
  bool start_simulator(std::string& error);
  bool start_gateway(GatewayInstance& g, std::string& error);
  std::string startup_failure(const GatewayInstance& g, const std::string& what) const;

  stack::Paths paths_;
  TopologyOptions options_;
  std::unique_ptr<stack::Kafka> kafka_;
  stack::Process simulator_;
  std::uint16_t sim_control_port_ = 0;
  std::vector<std::unique_ptr<GatewayInstance>> gateways_;
  std::vector<std::string> expected_down_;
  std::string note_;
};

}  // namespace rrkit::harness
