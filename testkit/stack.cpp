#include "testkit/stack.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <stdexcept>

#include "testkit/http_client.h"
#include "testkit/net.h"
#include "testkit/stack_detail.h"
#include "rrkit/versions.h"

namespace rrkit::stack {

namespace detail {

void write_file(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace detail

using detail::write_file;

namespace {

fs::path self_dir() {
  std::error_code ec;
  auto exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? fs::current_path() : exe.parent_path();
}

}  // namespace

Paths Paths::discover() {
  Paths p;
  if (const char* c = std::getenv("RRKIT_CACHE"); c && *c) {
    p.cache_dir = c;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    p.cache_dir = fs::path(home) / ".cache" / "rrkit";
  } else {
    throw std::runtime_error("neither RRKIT_CACHE nor HOME is set");
  }
  p.kafka_libs = p.cache_dir / ("kafka-" + std::string(versions::kKafka)) / "libs";
  p.daprd = p.cache_dir / "bin" / ("daprd-" + std::string(versions::kDaprd));
  p.bin_dir = self_dir();
  if (!fs::exists(p.kafka_libs / ("kafka_" + std::string(versions::kKafkaScala) + "-" + std::string(versions::kKafka) + ".jar"))) {
    throw std::runtime_error("Kafka " + std::string(versions::kKafka) + " is not installed in " + p.kafka_libs.string() +
                             "; run `rr-harness setup` (scripts/setup.sh in a clone)");
  }
  if (!fs::exists(p.daprd)) {
    throw std::runtime_error("daprd " + std::string(versions::kDaprd) + " is not built at " + p.daprd.string() +
                             "; run `rr-harness setup` (scripts/setup.sh in a clone)");
  }
  return p;
}

// ---- Process -------------------------------------------------------------

Process::Process(Process&& other) noexcept : spec_(std::move(other.spec_)), pid_(other.pid_) { other.pid_ = -1; }

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    stop(5s);
    spec_ = std::move(other.spec_);
    pid_ = other.pid_;
    other.pid_ = -1;
  }
  return *this;
}

Process::~Process() { stop(5s); }

bool Process::start(std::string& error) {
  if (alive()) return true;
  pid_ = proc::spawn(spec_, error);
  return pid_ > 0;
}

bool Process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return true;
  return proc::stop(pid_, grace);
}

void Process::kill9() {
  if (pid_ > 0) {
    proc::signal_group(pid_, SIGKILL);
    proc::wait_gone(pid_, 5s);
  }
}
void Process::pause() { proc::signal_group(pid_, SIGSTOP); }
void Process::resume() { proc::signal_group(pid_, SIGCONT); }
bool Process::alive() const { return proc::alive(pid_); }
int Process::exit_status() const { return pid_ > 0 ? proc::exit_status(pid_) : -1; }

std::string to_string(RecordedStop s) {
  switch (s) {
    case RecordedStop::stopped: return "stopped";
    case RecordedStop::killed: return "stopped with SIGKILL";
    case RecordedStop::gone: return "already gone";
    case RecordedStop::mismatch: return "not signalled";
  }
  return "?";
}

RecordedStop stop_recorded(const RecordedProcess& p, std::chrono::milliseconds grace, std::string& why, bool whole_group) {
  if (p.pid <= 0) {
    why = "no pid recorded";
    return RecordedStop::gone;
  }
  if (!p.identity) {
    why = "the state file records no start time or executable, so pid " + std::to_string(p.pid) +
          " cannot be told apart from a later process; stop it by hand if it is still the stack's";
    return RecordedStop::mismatch;
  }
  const auto now = proc::identity(p.pid);
  if (!now) {
    if (::kill(p.pid, 0) != 0 && errno == ESRCH) {
      why = "pid " + std::to_string(p.pid) + " no longer exists";
      return RecordedStop::gone;
    }
    why = "pid " + std::to_string(p.pid) + " cannot be inspected (another user's process?)";
    return RecordedStop::mismatch;
  }
  if (now->start_time != p.identity->start_time) {
    why = "pid " + std::to_string(p.pid) + " started at tick " + std::to_string(now->start_time) + ", not " +
          std::to_string(p.identity->start_time) + ": it is another process (" + now->exe + ")";
    return RecordedStop::mismatch;
  }
  if (now->exe != p.identity->exe) {
    why = "pid " + std::to_string(p.pid) + " runs " + now->exe + ", not " + p.identity->exe;
    return RecordedStop::mismatch;
  }
  // Between this check and the signal the process could exit and its pid be reused: a window of
  // microseconds against the reboot-sized one the check closes.
  if (whole_group) return proc::stop(p.pid, grace) ? RecordedStop::stopped : RecordedStop::killed;
  ::kill(p.pid, SIGTERM);
  if (proc::wait_gone(p.pid, grace)) return RecordedStop::stopped;
  ::kill(p.pid, SIGKILL);
  proc::wait_gone(p.pid, std::chrono::seconds(5));
  return RecordedStop::killed;
}

bool wait_http_status(std::uint16_t port, const std::string& path, int status, std::chrono::milliseconds timeout,
                      const Process* owner) {
  bool owner_died = false;
  const bool ok = proc::wait_until(
      [&] {
        if (owner && !owner->alive()) {
          owner_died = true;
          return true;
        }
        const auto r = http::get(port, path, 1s);
        return !r.ec && r.status == status;
      },
      timeout, 100ms);
  return ok && !owner_died;
}

std::string timestamp(const char* format) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, format, &tm);
  return buf;
}

// ---- Daprd ---------------------------------------------------------------

std::string kafka_component_yaml(const DaprdConfig& c, const std::string& protocol) {
  return "apiVersion: dapr.io/v1alpha1\n"
         "kind: Component\n"
         "metadata:\n"
         "  name: " + c.pubsub_name + "\n"
         "spec:\n"
         "  type: pubsub.kafka\n"
         "  version: v1\n"
         "  metadata:\n"
         "  - name: brokers\n    value: \"" + c.brokers + "\"\n"
         "  - name: authType\n    value: \"none\"\n"
         "  - name: consumerGroup\n    value: \"" + c.consumer_group + "\"\n"
         "  - name: clientID\n    value: \"" + c.app_id + "\"\n"
         "  - name: initialOffset\n    value: \"" + c.initial_offset + "\"\n"
         "  - name: version\n    value: \"" + protocol + "\"\n"
         // Fail fast instead of retrying forever inside daprd when the app rejects a message.
         "  - name: consumeRetryInterval\n    value: \"200ms\"\n"
         // A daprd killed with -9 holds its partitions until its session expires: keep that short.
         "  - name: sessionTimeout\n    value: \"4s\"\n"
         "  - name: heartbeatInterval\n    value: \"1s\"\n";
}

Daprd::Daprd(Paths paths, fs::path run_dir, DaprdConfig config)
    : paths_(std::move(paths)), config_(std::move(config)) {
  dir_ = std::move(run_dir) / ("daprd-" + config_.app_id);
  resources_dir_ = dir_ / "resources";
}

bool Daprd::start(std::string& error) {
  if (config_.http_port == 0) config_.http_port = net::free_port();
  if (config_.grpc_port == 0) config_.grpc_port = net::free_port();
  if (config_.metrics_port == 0) config_.metrics_port = net::free_port();
  write_file(resources_dir_ / "pubsub.yaml", kafka_component_yaml(config_, std::string(versions::kDaprKafkaProtocol)));

  std::vector<std::string> argv = {paths_.daprd.string(),
                                   "--app-id", config_.app_id,
                                   "--dapr-http-port", std::to_string(config_.http_port),
                                   "--dapr-grpc-port", std::to_string(config_.grpc_port),
                                   "--metrics-port", std::to_string(config_.metrics_port),
                                   "--resources-path", resources_dir_.string(),
                                   "--dapr-listen-addresses", "127.0.0.1",
                                   "--log-level", config_.log_level,
                                   "--dapr-graceful-shutdown-seconds", "2"};
  if (config_.app_port != 0) {
    argv.insert(argv.end(), {"--app-port", std::to_string(config_.app_port), "--app-channel-address", "127.0.0.1"});
  }
  std::vector<std::pair<std::string, std::string>> env;
  if (!config_.app_api_token.empty()) env.emplace_back("APP_API_TOKEN", config_.app_api_token);
  if (!config_.dapr_api_token.empty()) env.emplace_back("DAPR_API_TOKEN", config_.dapr_api_token);
  process_ = Process(proc::SpawnSpec{"daprd-" + config_.app_id, std::move(argv), std::move(env), dir_ / "daprd.log", {}});
  process_.spec().die_with_parent = config_.die_with_parent;
  if (!process_.start(error)) return false;
  if (!wait_http_status(config_.http_port, "/v1.0/healthz", 204, config_.ready_timeout, &process_)) {
    error = "daprd " + config_.app_id + " did not become healthy on port " + std::to_string(config_.http_port) +
            (process_.alive() ? "" : " (process exited)") + ", see " + process_.log_file().string();
    return false;
  }
  return true;
}

bool Daprd::restart(std::string& error) {
  process_.stop(10s);
  if (!process_.start(error)) return false;
  if (!wait_http_status(config_.http_port, "/v1.0/healthz", 204, config_.ready_timeout, &process_)) {
    error = "daprd " + config_.app_id + " did not become healthy again, see " + process_.log_file().string();
    return false;
  }
  return true;
}

}  // namespace rrkit::stack
