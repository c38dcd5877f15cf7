#pragma once
// The real stack rrkit runs against: a single-node KRaft Kafka broker and one
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
  std::uint16_t port = 0;             // 0: a free port
  std::uint16_t controller_port = 0;  // 0: a free port
  int default_partitions = 4;
  std::vector<kafka::TopicSpec> topics;
  std::chrono::milliseconds ready_timeout = 90s;
  bool die_with_parent = true;  // false: the broker outlives the launcher (detached stacks)
};

class Kafka {
 public:
  Kafka(Paths paths, fs::path run_dir, KafkaConfig config);
  // Formats fresh KRaft storage under run_dir, starts the broker, waits until it
  // answers metadata requests, then creates the configured topics.
  bool start(std::string& error);
  void stop() { process_.stop(20s); }
  std::string brokers() const { return "127.0.0.1:" + std::to_string(config_.port); }
  Process& process() { return process_; }
  const KafkaConfig& config() const { return config_; }

 private:
  Paths paths_;
  fs::path dir_;
  KafkaConfig config_;
  Process process_;
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
