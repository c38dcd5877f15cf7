#pragma once
// The real stack rrkit runs against: a KRaft Kafka cluster (one node by default) and one
// daprd sidecar per app, each a child process with its log in the run folder.
// This is the only launcher: scripts/stack.sh, `rr-harness stack up|down`,
// `rr-harness run` and the end-to-end tests all start the stack through it.
//
// Ownership: a Kafka / Daprd / Process object owns its child; destroying it
// stops the child. Objects are used from one thread (the launcher's).
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "testkit/kafka.h"
#include "testkit/process.h"

namespace rrkit::stack {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Paths {
  fs::path cache_dir;   // $RRKIT_CACHE, default ~/.cache/rrkit
  fs::path kafka_libs;  // <cache>/kafka-<version>/libs
  fs::path daprd;       // <cache>/bin/daprd-<version>
  fs::path bin_dir;     // where rr-gateway / rr-simulator live (next to the running executable)

  // Throws std::runtime_error naming what is missing and how to install it (scripts/setup.sh).
  static Paths discover();
};

// One managed child process. Not copyable; stops the child on destruction.
class Process {
 public:
  Process() = default;
  explicit Process(proc::SpawnSpec spec) : spec_(std::move(spec)) {}
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  ~Process();

  bool start(std::string& error);
  // SIGTERM, then SIGKILL after grace. Returns true when it exited within grace.
  bool stop(std::chrono::milliseconds grace = 10s);
  void kill9();
  void pause();   // SIGSTOP the process group
  void resume();  // SIGCONT
  bool alive() const;
  // Exit status once the process is gone (128+signal for a signal death), -1 while running/unknown.
  int exit_status() const;
  pid_t pid() const { return pid_; }
  const std::string& name() const { return spec_.name; }
  const fs::path& log_file() const { return spec_.log_file; }
  proc::SpawnSpec& spec() { return spec_; }
  // Forget the child without stopping it (detached stacks).
  void release() { pid_ = -1; }

 private:
  proc::SpawnSpec spec_;
  pid_t pid_ = -1;
};

struct KafkaConfig {
  std::uint16_t port = 0;             // node 1's client port; 0: a free port
  std::uint16_t controller_port = 0;  // node 1's controller port; 0: a free port
  // Combined broker+controller KRaft nodes (node ids 1..nodes). 1 is a single-node cluster; 3 gives a
  // controller quorum and partition replicas that survive the loss of any one node.
  int nodes = 1;
  int replication_factor = 0;   // of the configured topics; 0: the node count (at most 3)
  int min_insync_replicas = 0;  // of the configured topics; 0: replication_factor - 1 (at least 1)
  int default_partitions = 4;
  std::vector<kafka::TopicSpec> topics;  // their replication settings are overridden by the two above
  std::chrono::milliseconds ready_timeout = 90s;
  bool die_with_parent = true;  // false: the broker outlives the launcher (detached stacks)
};

// Replication settings after the defaults are applied.
int effective_replication_factor(const KafkaConfig& c);
int effective_min_insync_replicas(const KafkaConfig& c);

// The server.properties of node `id` (1-based) in a cluster whose ports are given per node (index id-1).
std::string kafka_node_properties(const KafkaConfig& c, int id, const std::vector<std::uint16_t>& ports,
                                  const std::vector<std::uint16_t>& controller_ports, const fs::path& data_dir);

// One Kafka node of the cluster: its process and its folder (log, data) in the run folder.
struct KafkaNode {
  int id = 0;
  std::uint16_t port = 0, controller_port = 0;
  fs::path dir;
  Process process;
  int restarts = 0;  // each restart keeps the previous log as kafka.log.<n>, ending where the node died
  std::string bootstrap() const { return "127.0.0.1:" + std::to_string(port); }
};

// A KRaft cluster of KafkaConfig::nodes combined nodes. With one node the run folder holds
// kafka/kafka.log and kafka/data as it always did; with more, kafka/node-<id>/ per node.
class Kafka {
 public:
  Kafka(Paths paths, fs::path run_dir, KafkaConfig config);
  // Formats fresh KRaft storage for every node under run_dir, starts the nodes, waits until every
  // node answers metadata listing all nodes, creates the configured topics and waits until every
  // partition of them has a leader and a full ISR.
  bool start(std::string& error);
  void stop();
  // The bootstrap list of every node, comma-separated (what clients and daprd get).
  std::string brokers() const;
  // Node 1's process (the only one of a single-node cluster).
  Process& process() { return nodes_.front()->process; }
  const KafkaConfig& config() const { return config_; }
  int node_count() const { return static_cast<int>(nodes_.size()); }
  // Node by id (1-based); throws std::out_of_range for another id.
  KafkaNode& node(int id);

  // Fault injection. Each returns false with a message when it could not be carried out.
  bool kill_node(int id, std::string& error);     // SIGKILL: the node's log ends there
  bool restart_node(int id, std::string& error);  // start a stopped node on its storage, wait until it serves
  bool pause_node(int id, std::string& error);    // SIGSTOP
  bool resume_node(int id, std::string& error);   // SIGCONT
  // The node id of the active controller (the KRaft quorum leader), from the quorum state the
  // running nodes keep on disk: the highest leader epoch any of them recorded. -1 with a message.
  int active_controller(std::string& error) const;
  // Waits until every partition of the configured topics has a leader and all its replicas in sync.
  bool wait_replicated(std::chrono::milliseconds timeout, std::string& error) const;

 private:
  bool start_node(KafkaNode& n, std::string& error);
  bool wait_node_serving(KafkaNode& n, std::string& error);

  Paths paths_;
  fs::path dir_;
  KafkaConfig config_;
  std::vector<std::unique_ptr<KafkaNode>> nodes_;
};

struct DaprdConfig {
  std::string app_id = "rr-app";
  std::uint16_t app_port = 0;  // 0: no app channel
  std::uint16_t http_port = 0, grpc_port = 0, metrics_port = 0;  // 0: free ports
  std::string brokers;
  std::string pubsub_name = "rr-pubsub";
  std::string consumer_group = "{appID}";  // Dapr templates: {appID}, {uuid}, {podName}
  std::string initial_offset = "newest";
  std::string app_api_token;   // APP_API_TOKEN: daprd sends it to the app
  std::string dapr_api_token;  // DAPR_API_TOKEN: daprd requires it from the app
  std::string log_level = "info";
  std::chrono::milliseconds ready_timeout = 60s;
  bool die_with_parent = true;  // false: daprd outlives the launcher (detached stacks)
};

class Daprd {
 public:
  Daprd(Paths paths, fs::path run_dir, DaprdConfig config);
  // Writes the pubsub.kafka component, starts daprd, waits for GET /v1.0/healthz = 204.
  bool start(std::string& error);
  bool restart(std::string& error);
  void stop() { process_.stop(15s); }
  std::uint16_t http_port() const { return config_.http_port; }
  const DaprdConfig& config() const { return config_; }
  Process& process() { return process_; }
  const fs::path& resources_dir() const { return resources_dir_; }

 private:
  Paths paths_;
  fs::path dir_;
  fs::path resources_dir_;
  DaprdConfig config_;
  Process process_;
};

// The pubsub.kafka component YAML for a config (exposed for tests and docs).
std::string kafka_component_yaml(const DaprdConfig& config, const std::string& kafka_protocol_version);

// Waits until GET 127.0.0.1:port/path answers `status`. False on timeout or if `owner` died.
bool wait_http_status(std::uint16_t port, const std::string& path, int status, std::chrono::milliseconds timeout,
                      const Process* owner = nullptr);

// A process of a detached stack as the state file records it. The pid alone does not name a
// process: it survives a reboot or the process's death and may since belong to anything.
struct RecordedProcess {
  std::string name;
  pid_t pid = -1;
  std::optional<proc::Identity> identity;  // none in state files from before identities were kept
};

// What stop_recorded did.
enum class RecordedStop {
  stopped,   // exited on SIGTERM within the grace period
  killed,    // needed SIGKILL
  gone,      // no process has this pid any more
  mismatch,  // another process has the pid now (or nothing identifies it): left alone
};
std::string to_string(RecordedStop s);

// Stops a recorded process only when the pid still names it (same start time and executable);
// otherwise nothing is signalled and why says what differed. whole_group=false signals the process
// alone (one that does not lead its process group, such as `rr-harness up` started by a script).
RecordedStop stop_recorded(const RecordedProcess& p, std::chrono::milliseconds grace, std::string& why,
                           bool whole_group = true);

// Current UTC time in a strftime format; the default is a run-folder friendly stamp, e.g. 20261124-101500.
std::string timestamp(const char* format = "%Y%m%d-%H%M%S");

}  // namespace rrkit::stack
