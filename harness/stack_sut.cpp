#include "harness/stack_sut.h"

#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include <fmt/format.h>

#include "common/duration.h"
#include "common/json_limits.h"
#include "harness/attach.h"
#include "harness/stack_cli.h"
#include "harness/sut_launch.h"
#include "harness/warmup.h"
#include "testkit/process.h"

namespace rrkit::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

// The holder stops gateways (their stop_grace), sidecars, the simulator and Kafka in turn.
constexpr int kHolderGraceSeconds = 180;

std::optional<std::string> read_file_text(const fs::path& file, std::string& error) {
  std::ifstream in(file);
  if (!in) {
    error = "cannot read " + file.string();
    return std::nullopt;
  }
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The holder pid a state file records (0: none).
pid_t recorded_holder(const nlohmann::json& state) {
  const auto procs = state.find("processes");
  if (procs == state.end() || !procs->is_array() || procs->empty()) return 0;
  return recorded_process(procs->front()).pid;
}

void print_info(const nlohmann::json& info, std::ostream& out) {
  for (const auto& g : info.value("gateways", nlohmann::json::array())) {
    out << fmt::format("    instance {} ({}): {}  (daprd http port {}, log {})\n", g.value("instance", 0),
                       g.value("app_id", ""), g.value("url", ""), g.value("dapr_http_port", 0), g.value("log", ""));
  }
  if (info.contains("simulator_control")) {
    out << fmt::format("    simulator control: {} (GET/PUT /profile, POST /pause, POST /resume, GET /stats)\n",
                       info.value("simulator_control", ""));
    out << "    decision log: " << info.value("decisions", "") << "\n";
  }
  out << "    Kafka: " << info.value("kafka", "") << "    run folder: " << info.value("run_dir", "") << "\n";
  if (info.contains("attach")) {
    out << "    attach a run to it (the scenario's stack.gateway_timeout should be " << info.value("timeout", "")
        << ", as here):\n      " << info.value("attach", "") << "\n";
  }
}

}  // namespace

bool SutStack::up(const std::atomic<int>* interrupt, std::string& error) {
  const auto timeout = parse_duration(options_.timeout);
  if (!timeout || timeout->count() <= 0) {
    error = "--timeout: cannot read \"" + options_.timeout + "\" as a duration (e.g. 1s, 500ms)";
    return false;
  }
  std::string profile;
  if (!options_.profile_file.empty()) {
    const auto text = read_file_text(options_.profile_file, error);
    if (!text) return false;
    profile = *text;
  }
  TopologyOptions to;
  to.run_dir = options_.run_dir;
  to.gateways = options_.sut_file.empty() ? 0 : options_.instances;
  to.partitions = options_.partitions;
  to.kafka_brokers = options_.brokers;
  to.request_topic = options_.request_topic;
  to.reply_topic = options_.reply_topic;
  to.gateway_timeout = options_.timeout;
  to.gateway_timeout_ms = std::chrono::duration_cast<std::chrono::milliseconds>(*timeout).count();
  to.simulator = options_.simulator;
  to.seed = options_.seed;
  // Like a run: fault-free through the warm-up, then the profile.
  const bool warm = options_.simulator && to.gateways > 0 && options_.warmup > 0;
  to.simulator_profile_yaml = warm ? std::string() : profile;
  if (!options_.sut_file.empty()) {
    auto load = load_sut(options_.sut_file);
    if (!load.ok()) {
      error = load.error;
      return false;
    }
    to.sut = std::make_shared<const Sut>(std::move(*load.sut));
  }
  topo_ = std::make_unique<Topology>(stack::Paths::discover(), std::move(to));
  if (!topo_->up(error)) return false;
  if (warm) {
    Scenario sc;
    sc.name = "stack-up";
    sc.warmup = options_.warmup;
    sc.seed = options_.seed;
    sc.profile_yaml = profile;
    const auto w = warm_up(*topo_, sc, options_.run_dir, interrupt);
    if (w.status == WarmupStatus::interrupted) {
      error = "interrupted during the warm-up";
      return false;
    }
    if (w.status == WarmupStatus::failed) {
      error = w.error;
      return false;
    }
  }
  return true;
}

void SutStack::down() {
  if (topo_) topo_->down();
}

nlohmann::json SutStack::info() const {
  nlohmann::json info{{"run_dir", options_.run_dir.string()},
                      {"kafka", topo_->kafka().brokers()},
                      {"timeout", options_.timeout},
                      {"gateways", nlohmann::json::array()}};
  if (!options_.sut_file.empty()) info["sut"] = options_.sut_file;
  for (std::size_t i = 0; i < topo_->gateway_count(); ++i) {
    const auto& g = topo_->gateway(i);
    const Sut& sut = topo_->sut();
    nlohmann::json entry{{"instance", g.instance},
                         {"url", fmt::format("http://127.0.0.1:{}", g.port)},
                         {"request", fmt::format("{} http://127.0.0.1:{}{}", sut.request.method, g.port, sut.request.path)},
                         {"app_id", g.spec.app_id},
                         {"dapr_http_port", g.daprd->http_port()},
                         {"log", g.process.log_file().string()}};
    if (sut.metrics) entry["metrics"] = fmt::format("http://127.0.0.1:{}{}", g.port, sut.metrics->path);
    info["gateways"].push_back(std::move(entry));
  }
  if (options_.simulator) {
    info["simulator_control"] = fmt::format("http://127.0.0.1:{}", topo_->simulator_control_port());
    info["decisions"] = topo_->decisions_file().string();
    if (!options_.profile_file.empty()) info["profile"] = options_.profile_file;
  }
  if (topo_->gateway_count() > 0) info["attach"] = attach_command("SCENARIO.yaml");
  return info;
}

std::string SutStack::attach_command(const std::string& scenario) const {
  std::string line = "rr-harness run " + shell_word(scenario);
  for (std::size_t i = 0; i < topo_->gateway_count(); ++i) {
    line += fmt::format(" --gateway-url http://127.0.0.1:{}", topo_->gateway(i).port);
  }
  if (options_.simulator) {
    line += fmt::format(" --simulator-url http://127.0.0.1:{} --decisions {}", topo_->simulator_control_port(),
                        shell_word(topo_->decisions_file().string()));
  }
  if (!options_.sut_file.empty()) line += " --sut " + shell_word(options_.sut_file);
  return line;
}

int hold_sut_stack(const SutStackOptions& options, const fs::path& state_file, std::ostream& out) {
  if (fs::exists(state_file)) {
    out << "rr-harness: a stack may still be running (" << state_file.string()
        << "); run `rr-harness stack down` first\n";
    return 2;
  }
  fs::create_directories(options.run_dir);
  out << "==> starting Kafka" << (options.simulator ? ", rr-simulator" : "")
      << (options.sut_file.empty() ? "" : fmt::format(" and {} instance(s) of {}", options.instances, options.sut_file))
      << " in " << options.run_dir.string() << std::endl;
  SutStack stack(options);
  std::string error;
  if (!stack.up(nullptr, error)) {
    stack.down();
    out << "rr-harness: " << error << "\n";
    return 2;
  }
  auto holder = process_entry("rr-harness stack up", ::getpid());
  holder["grace_s"] = kHolderGraceSeconds;
  // Started from a script, the holder may share its caller's process group: signal it alone.
  holder["whole_group"] = false;
  const nlohmann::json info = stack.info();
  const nlohmann::json state{{"run_dir", options.run_dir.string()},
                             {"processes", nlohmann::json::array({holder})},
                             {"info", info}};
  std::error_code ec;
  fs::create_directories(state_file.parent_path(), ec);
  std::ofstream(options.run_dir / "stack.json") << safe_dump(info, 2) << "\n";
  {
    // Written whole under another name first: a reader polling for the file never sees half of it.
    const fs::path partial = state_file.string() + ".partial";
    std::ofstream(partial) << safe_dump(state, 2) << "\n";
    fs::rename(partial, state_file, ec);
  }
  print_info(info, out);
  out << "==> stack is up; Ctrl-C or `rr-harness stack down` stops it" << std::endl;

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  int rc = 0;
  for (;;) {
    const timespec poll{0, 200'000'000};
    if (sigtimedwait(&set, nullptr, &poll) > 0) break;
    const auto dead = stack.topology().unexpected_deaths();
    if (!dead.empty()) {
      std::string names;
      for (const auto& d : dead) names += (names.empty() ? "" : ", ") + d;
      out << "rr-harness: " << names << " exited unexpectedly; see the logs in " << options.run_dir.string() << "\n";
      rc = 2;
      break;
    }
  }
  out << "==> stopping the stack" << std::endl;
  stack.down();
  // Only our own record is removed: `stack down` may already have removed it, and a later `stack up` replaced it.
  if (const auto now = read_state_file(state_file); now && recorded_holder(*now) == ::getpid()) fs::remove(state_file, ec);
  out << "==> stack is down" << std::endl;
  return rc;
}

std::vector<std::string> holder_argv(const std::string& program, const SutStackOptions& o) {
  std::vector<std::string> argv = {program, "stack", "up", "--run-dir", o.run_dir.string(),
                                   "--instances", std::to_string(o.instances), "--timeout", o.timeout,
                                   "--seed", std::to_string(o.seed), "--warmup", std::to_string(o.warmup),
                                   "--partitions", std::to_string(o.partitions), "--brokers", std::to_string(o.brokers),
                                   "--request-topic", o.request_topic,
                                   "--reply-topic", o.reply_topic};
  if (!o.sut_file.empty()) argv.insert(argv.end(), {"--sut", o.sut_file});
  if (o.simulator) argv.push_back("--simulator");
  if (!o.profile_file.empty()) argv.insert(argv.end(), {"--profile", o.profile_file});
  return argv;
}

int detach_sut_stack(const SutStackOptions& options, const fs::path& state_file, std::ostream& out) {
  if (fs::exists(state_file)) {
    out << "rr-harness: a stack may still be running (" << state_file.string()
        << "); run `rr-harness stack down` first\n";
    return 2;
  }
  fs::create_directories(options.run_dir);
  SutStackOptions o = options;
  // The holder runs in this folder too, but absolute paths survive any change of it.
  o.run_dir = fs::absolute(o.run_dir);
  if (!o.sut_file.empty()) o.sut_file = fs::absolute(o.sut_file).string();
  if (!o.profile_file.empty()) o.profile_file = fs::absolute(o.profile_file).string();
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  if (ec) {
    out << "rr-harness: cannot find this program's path: " << ec.message() << "\n";
    return 2;
  }
  const fs::path log = o.run_dir / "stack-up.log";
  proc::SpawnSpec spec{"rr-harness stack up", holder_argv(self.string(), o), {}, log, {}};
  spec.die_with_parent = false;
  std::string error;
  const pid_t pid = proc::spawn(spec, error);
  if (pid <= 0) {
    out << "rr-harness: " << error << "\n";
    return 2;
  }
  out << "==> starting the stack in the background (log " << log.string() << ")" << std::endl;
  std::optional<nlohmann::json> state;
  // Kafka, the simulator's group join and every instance's readiness and warm-up: minutes on a loaded machine.
  proc::wait_until(
      [&] {
        state = read_state_file(state_file);
        if (state && recorded_holder(*state) == pid) return true;
        state.reset();
        return !proc::alive(pid);
      },
      600s, 200ms);
  if (!state) {
    const bool running = proc::alive(pid);
    if (running) proc::stop(pid, std::chrono::seconds(kHolderGraceSeconds));
    out << "rr-harness: the stack did not come up" << (running ? " in time (stopped it)" : "") << "; log "
        << log.string() << ", last lines:\n"
        << log_tail(log) << "\n";
    return 2;
  }
  print_info(state->value("info", nlohmann::json::object()), out);
  out << "==> stack is up (detached); stop it with `rr-harness stack down`" << std::endl;
  return 0;
}

}  // namespace rrkit::harness
