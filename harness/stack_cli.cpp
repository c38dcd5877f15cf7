#include "harness/stack_cli.h"

#include <signal.h>

#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <memory>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "common/json_limits.h"
#include "harness/stack_sut.h"
#include "testkit/process.h"
#include "testkit/stack.h"

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
  int brokers = 1;
  std::string request_topic = "rr.requests";
  std::string reply_topic = "rr.replies";
  SutStackOptions sut;  // with --sut or --simulator: the topology `rr-harness run` launches
};

fs::path state_file(const stack::Paths& paths) { return paths.cache_dir / "stack" / "current.json"; }

}  // namespace

nlohmann::json process_entry(const std::string& name, pid_t pid) {
  nlohmann::json entry{{"name", name}, {"pid", pid}};
  if (const auto id = proc::identity(pid)) {
    entry["start_time"] = id->start_time;
    entry["exe"] = id->exe;
  }
  return entry;
}

stack::RecordedProcess recorded_process(const nlohmann::json& entry) {
  stack::RecordedProcess p;
  p.name = entry.is_object() && entry.contains("name") && entry["name"].is_string() ? entry["name"].get<std::string>()
                                                                                     : "?";
  if (!entry.is_object()) return p;
  if (const auto it = entry.find("pid"); it != entry.end() && it->is_number_integer()) {
    const auto pid = it->get<std::int64_t>();
    if (pid > 0 && pid <= std::numeric_limits<pid_t>::max()) p.pid = static_cast<pid_t>(pid);
  }
  const auto start = entry.find("start_time");
  const auto exe = entry.find("exe");
  if (start != entry.end() && start->is_number_unsigned() && exe != entry.end() && exe->is_string()) {
    p.identity = proc::Identity{start->get<std::uint64_t>(), exe->get<std::string>()};
  }
  return p;
}

namespace {

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
  kc.nodes = o.brokers;
  kc.die_with_parent = !o.detach;
  kc.topics = {{o.request_topic, o.partitions}, {o.reply_topic, o.partitions}};
  stack::Kafka kafka(paths, run_dir, kc);
  std::cerr << "==> starting Kafka (KRaft, " << (o.brokers == 1 ? std::string("single node") : std::to_string(o.brokers) + " nodes") << ")\n";
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
  for (int id = 1; id <= kafka.node_count(); ++id) {
    state["processes"].push_back(process_entry(kafka.node(id).process.name(), kafka.node(id).process.pid()));
  }
  for (auto& d : sidecars) {
    auto entry = process_entry(d->process().name(), d->process().pid());
    entry["dapr_http_port"] = d->http_port();
    entry["pubsub"] = d->config().pubsub_name;
    state["processes"].push_back(std::move(entry));
  }
  std::ofstream(run_dir / "stack.json") << state.dump(2) << "\n";
  std::cout << state.dump(2) << std::endl;

  if (o.detach) {
    fs::create_directories(state_file(paths).parent_path());
    std::ofstream(state_file(paths)) << state.dump(2) << "\n";
    for (int id = 1; id <= kafka.node_count(); ++id) kafka.node(id).process.release();
    for (auto& d : sidecars) d->process().release();
    std::cerr << "==> stack is up (detached); stop it with `rr-harness stack down`\n";
    return 0;
  }

  std::cerr << "==> stack is up; Ctrl-C to stop it\n";
  std::vector<const stack::Process*> children;
  for (int id = 1; id <= kafka.node_count(); ++id) children.push_back(&kafka.node(id).process);
  for (auto& d : sidecars) children.push_back(&d->process());
  const int sig = wait_for_signal_or_death(children);
  std::cerr << "==> stopping the stack\n";
  for (auto& d : sidecars) d->stop();
  kafka.stop();
  return sig == 0 ? 2 : 0;
}

int stack_down() {
  stack::Paths paths = stack::Paths::discover();
  return stop_detached_stack(state_file(paths), std::cerr);
}

}  // namespace

std::optional<nlohmann::json> read_state_file(const fs::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto parsed = parse_bounded(text);
  if (!parsed.ok() || !parsed.value.is_object()) return nlohmann::json::object();
  return std::move(parsed.value);
}

int stop_detached_stack(const fs::path& file, std::ostream& out) {
  if (!fs::exists(file)) {
    out << "rr-harness: no detached stack is recorded (" << file.string() << ")\n";
    return 0;
  }
  std::ifstream in(file);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto parsed = parse_bounded(text);
  if (!parsed.ok() || !parsed.value.is_object()) {
    out << "rr-harness: unreadable state file " << file.string()
        << (parsed.errc == JsonErrc::too_deep ? ": nested too deeply" : ": not a JSON object") << "\n";
    return 2;
  }
  const auto procs_it = parsed.value.find("processes");
  const nlohmann::json procs =
      procs_it != parsed.value.end() && procs_it->is_array() ? *procs_it : nlohmann::json::array();
  // Sidecars first, the broker last (the reverse of start order).
  int skipped = 0;
  for (auto it = procs.rbegin(); it != procs.rend(); ++it) {
    const auto p = recorded_process(*it);
    std::string why;
    // A holder of a SUT stack (`stack up --sut`) takes its stack down itself and says how long that may take.
    const auto grace = std::chrono::seconds(it->is_object() ? it->value("grace_s", 20) : 20);
    const bool whole_group = !it->is_object() || it->value("whole_group", true);
    const auto outcome = stack::stop_recorded(p, grace, why, whole_group);
    out << "    " << p.name << " (pid " << p.pid << "): " << to_string(outcome) << (why.empty() ? "" : ": " + why)
        << "\n";
    if (outcome == stack::RecordedStop::mismatch) ++skipped;
  }
  fs::remove(file);
  if (skipped > 0) {
    // Typical after a reboot: the recorded processes are long gone and their pids reused.
    out << "==> stack is down; " << skipped << " recorded pid(s) were not the stack's processes and were left alone\n";
    return 0;
  }
  out << "==> stack is down\n";
  return 0;
}

void add_stack_command(CLI::App& app, int& exit_code) {
  auto* stack_cmd = app.add_subcommand("stack", "Bring the real stack (Kafka + daprd, or with --sut/--simulator the "
                                                "topology of a run) up or down for manual use or an attached run");
  stack_cmd->require_subcommand(1);
  auto opts = std::make_shared<UpOptions>();
  auto* up = stack_cmd->add_subcommand("up", "Start Kafka and daprd; stay in the foreground until Ctrl-C (or --detach)");
  up->add_option("--run-dir", opts->run_dir, "Folder for logs and data (default ./runs/stack-<time>)");
  up->add_flag("--detach", opts->detach, "Leave the stack running and return; stop it with `stack down`");
  up->add_option("--daprd", opts->daprd_count, "Number of daprd sidecars (without an app)")->check(CLI::Range(0, 16));
  up->add_option("--kafka-port", opts->kafka_port, "Kafka listener port (default: a free port)");
  up->add_option("--partitions", opts->partitions, "Partitions per topic")->check(CLI::Range(1, 64));
  up->add_option("--brokers", opts->brokers, "Kafka KRaft nodes (3: replication 3, min.insync.replicas 2)")
      ->check(CLI::Range(1, 5));
  up->add_option("--request-topic", opts->request_topic, "Request topic to create");
  up->add_option("--reply-topic", opts->reply_topic, "Reply topic to create");
  up->add_option("--sut", opts->sut.sut_file,
                 "Start this system under test (a SUT file), each instance with its daprd, as `rr-harness run` does");
  up->add_option("--instances", opts->sut.instances, "With --sut: number of instances")->check(CLI::Range(1, 16));
  up->add_flag("--simulator", opts->sut.simulator, "Start rr-simulator too (control API, decision log)");
  up->add_option("--profile", opts->sut.profile_file, "With --simulator: its fault profile file (default: fault-free)");
  up->add_option("--timeout", opts->sut.timeout, "With --sut: the gateways' timeout ({{timeout}})")->capture_default_str();
  up->add_option("--seed", opts->sut.seed, "With --simulator: its seed")->capture_default_str();
  up->add_option("--warmup", opts->sut.warmup,
                 "With --sut and --simulator: fault-free requests per instance before the profile applies")
      ->capture_default_str();
  up->callback([opts, &exit_code] {
    if (opts->sut.sut_file.empty() && !opts->sut.simulator) {
      exit_code = stack_up(*opts);
      return;
    }
    SutStackOptions o = opts->sut;
    o.run_dir = opts->run_dir.empty() ? fs::current_path() / "runs" / ("stack-" + stack::timestamp()) : fs::path(opts->run_dir);
    o.partitions = opts->partitions;
    o.brokers = opts->brokers;
    o.request_topic = opts->request_topic;
    o.reply_topic = opts->reply_topic;
    const fs::path state = state_file(stack::Paths::discover());
    exit_code = opts->detach ? detach_sut_stack(o, state, std::cout) : hold_sut_stack(o, state, std::cout);
  });
  auto* down = stack_cmd->add_subcommand("down", "Stop a stack started with `stack up --detach`");
  down->callback([&exit_code] { exit_code = stack_down(); });
}

}  // namespace rrkit::harness
