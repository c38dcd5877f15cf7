#include "harness/stack_cli.h"

#include <signal.h>

#include <fstream>
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "common/process.h"
#include "harness/stack.h"

namespace rrkit::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct UpOptions {
  std::string run_dir;
  bool detach = false;
  int daprd_count = 1;
  std::uint16_t kafka_port = 0;
  int partitions = 4;
  std::string request_topic = "rr.requests";
  std::string reply_topic = "rr.replies";
};

fs::path state_file(const stack::Paths& paths) { return paths.cache_dir / "stack" / "current.json"; }

// Waits for SIGINT/SIGTERM, or for one of the children to die. Returns the signal (0 when a child died).
int wait_for_signal_or_death(const std::vector<const stack::Process*>& children) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  for (;;) {
    timespec ts{0, 200'000'000};
    const int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig > 0) return sig;
    for (const auto* c : children) {
      if (!c->alive()) {
        std::cerr << "rr-harness: " << c->name() << " exited unexpectedly (status " << c->exit_status()
                  << "), see " << c->log_file().string() << "\n";
        return 0;
      }
    }
  }
}

int stack_up(const UpOptions& o) {
  stack::Paths paths = stack::Paths::discover();
  const fs::path run_dir = o.run_dir.empty() ? fs::current_path() / "runs" / ("stack-" + stack::timestamp()) : fs::path(o.run_dir);
  fs::create_directories(run_dir);
  if (fs::exists(state_file(paths))) {
    std::cerr << "rr-harness: a detached stack may still be running (" << state_file(paths).string()
              << "); run `rr-harness stack down` first\n";
    return 2;
  }

  stack::KafkaConfig kc;
  kc.port = o.kafka_port;
  kc.default_partitions = o.partitions;
  kc.die_with_parent = !o.detach;
  kc.topics = {{o.request_topic, o.partitions}, {o.reply_topic, o.partitions}};
  stack::Kafka kafka(paths, run_dir, kc);
  std::cerr << "==> starting Kafka (KRaft, single node)\n";
  std::string error;
  const auto t0 = std::chrono::steady_clock::now();
  if (!kafka.start(error)) {
    std::cerr << "rr-harness: " << error << "\n";
    return 2;
  }
  const auto t1 = std::chrono::steady_clock::now();
  std::cerr << "    Kafka ready on " << kafka.brokers() << " in "
            << std::chrono::duration_cast<std::chrono::milliseconds>(t1 - t0).count() << " ms\n";

  std::vector<std::unique_ptr<stack::Daprd>> sidecars;
  for (int i = 0; i < o.daprd_count; ++i) {
    stack::DaprdConfig dc;
    dc.app_id = "rr-app-" + std::to_string(i + 1);
    dc.brokers = kafka.brokers();
    dc.die_with_parent = !o.detach;
    auto d = std::make_unique<stack::Daprd>(paths, run_dir, dc);
    const auto s0 = std::chrono::steady_clock::now();
    if (!d->start(error)) {
      std::cerr << "rr-harness: " << error << "\n";
      return 2;
    }
    std::cerr << "    daprd " << dc.app_id << " healthy on http port " << d->http_port() << " in "
              << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - s0).count()
              << " ms\n";
    sidecars.push_back(std::move(d));
  }

  nlohmann::json state = {{"run_dir", run_dir.string()},
                          {"brokers", kafka.brokers()},
                          {"request_topic", o.request_topic},
                          {"reply_topic", o.reply_topic},
                          {"processes", nlohmann::json::array()}};
  state["processes"].push_back({{"name", "kafka"}, {"pid", kafka.process().pid()}});
  for (auto& d : sidecars) {
    state["processes"].push_back({{"name", d->process().name()},
                                  {"pid", d->process().pid()},
                                  {"dapr_http_port", d->http_port()},
                                  {"pubsub", d->config().pubsub_name}});
  }
  std::ofstream(run_dir / "stack.json") << state.dump(2) << "\n";
  std::cout << state.dump(2) << std::endl;

  if (o.detach) {
    fs::create_directories(state_file(paths).parent_path());
    std::ofstream(state_file(paths)) << state.dump(2) << "\n";
    kafka.process().release();
    for (auto& d : sidecars) d->process().release();
    std::cerr << "==> stack is up (detached); stop it with `rr-harness stack down`\n";
    return 0;
  }

  std::cerr << "==> stack is up; Ctrl-C to stop it\n";
  std::vector<const stack::Process*> children{&kafka.process()};
  for (auto& d : sidecars) children.push_back(&d->process());
  const int sig = wait_for_signal_or_death(children);
  std::cerr << "==> stopping the stack\n";
  for (auto& d : sidecars) d->stop();
  kafka.stop();
  return sig == 0 ? 2 : 0;
}

int stack_down() {
  stack::Paths paths = stack::Paths::discover();
  const fs::path file = state_file(paths);
  if (!fs::exists(file)) {
    std::cerr << "rr-harness: no detached stack is recorded (" << file.string() << ")\n";
    return 0;
  }
  nlohmann::json state;
  try {
    std::ifstream(file) >> state;
  } catch (const std::exception& e) {
    std::cerr << "rr-harness: unreadable state file " << file.string() << ": " << e.what() << "\n";
    return 2;
  }
  // Sidecars first, the broker last (the reverse of start order).
  auto procs = state.value("processes", nlohmann::json::array());
  for (auto it = procs.rbegin(); it != procs.rend(); ++it) {
    const pid_t pid = it->value("pid", -1);
    const std::string name = it->value("name", "?");
    const bool clean = proc::stop(pid, 20s);
    std::cerr << "    stopped " << name << " (pid " << pid << ")" << (clean ? "" : " with SIGKILL") << "\n";
  }
  fs::remove(file);
  std::cerr << "==> stack is down\n";
  return 0;
}

}  // namespace

void add_stack_command(CLI::App& app, int& exit_code) {
  auto* stack_cmd = app.add_subcommand("stack", "Bring the real stack (Kafka + daprd) up or down for manual use");
  stack_cmd->require_subcommand(1);
  auto opts = std::make_shared<UpOptions>();
  auto* up = stack_cmd->add_subcommand("up", "Start Kafka and daprd; stay in the foreground until Ctrl-C (or --detach)");
  up->add_option("--run-dir", opts->run_dir, "Folder for logs and data (default ./runs/stack-<time>)");
  up->add_flag("--detach", opts->detach, "Leave the stack running and return; stop it with `stack down`");
  up->add_option("--daprd", opts->daprd_count, "Number of daprd sidecars (without an app)")->check(CLI::Range(0, 16));
  up->add_option("--kafka-port", opts->kafka_port, "Kafka listener port (default: a free port)");
  up->add_option("--partitions", opts->partitions, "Partitions per topic")->check(CLI::Range(1, 64));
  up->add_option("--request-topic", opts->request_topic, "Request topic to create");
  up->add_option("--reply-topic", opts->reply_topic, "Reply topic to create");
  up->callback([opts, &exit_code] { exit_code = stack_up(*opts); });
  auto* down = stack_cmd->add_subcommand("down", "Stop a stack started with `stack up --detach`");
  down->callback([&exit_code] { exit_code = stack_down(); });
}

}  // namespace rrkit::harness
