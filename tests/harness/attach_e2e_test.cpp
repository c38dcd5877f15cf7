// Attach mode on the real stack: `rr-harness stack up --sut sut/rr-gateway.yaml --simulator --detach` brings up
// Kafka, rr-simulator and an rr-gateway with its daprd; an attached `rr-harness run` applies a scenario's fault
// profile and a set_profile action to that running simulator through its control API, judges the run from its
// decision log, reports a kill_daprd not applicable, and leaves the simulator's profile as it found it;
// `stack down` stops it all. The stack's state file lives in a cache folder of the test's own, so that
// stacks of other runs on this machine are neither seen nor stopped.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/json_limits.h"
#include "testkit/http_client.h"
#include "testkit/net.h"
#include "testkit/process.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Temp {
  fs::path dir = fs::temp_directory_path() / ("rrkit-attach-e2e-" + std::to_string(::getpid()));
  Temp() { fs::create_directories(dir); }
  ~Temp() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

// The real cache's downloads (Kafka, daprd), seen through a cache folder of the test's own.
fs::path own_cache(const fs::path& dir) {
  const char* env = std::getenv("RRKIT_CACHE");
  const char* home = std::getenv("HOME");
  const fs::path real = env && *env ? fs::path(env) : fs::path(home ? home : "/root") / ".cache" / "rrkit";
  const fs::path cache = dir / "cache";
  fs::create_directories(cache);
  for (const auto& entry : fs::directory_iterator(real)) {
    if (entry.path().filename() != "stack") fs::create_directory_symlink(entry.path(), cache / entry.path().filename());
  }
  return cache;
}

struct Run {
  int status = -1;
  std::string log;
};

Run harness(const fs::path& cache, const fs::path& log, std::vector<std::string> args, std::chrono::seconds limit) {
  args.insert(args.begin(), RR_HARNESS_BIN);
  std::string error;
  const pid_t pid =
      rrkit::proc::spawn(rrkit::proc::SpawnSpec{"rr-harness", args, {{"RRKIT_CACHE", cache.string()}}, log, {}}, error);
  Run r;
  if (pid <= 0) {
    r.log = error;
    return r;
  }
  if (!rrkit::proc::wait_gone(pid, limit)) {
    rrkit::proc::stop(pid, 30s);
    r.log = "did not finish within the limit\n" + read_all(log);
    return r;
  }
  r.status = rrkit::proc::exit_status(pid);
  r.log = read_all(log);
  return r;
}

nlohmann::json read_json(const fs::path& p) { return rrkit::parse_bounded(read_all(p)).value; }

std::uint16_t port_of(const std::string& url) {
  return static_cast<std::uint16_t>(std::stoi(url.substr(url.rfind(':') + 1)));
}

// `stack down` whatever happens, once the stack may be up.
struct StackGuard {
  fs::path cache, log;
  bool down = false;
  ~StackGuard() {
    if (!down) harness(cache, log, {"stack", "down"}, 240s);
  }
};

}  // namespace

TEST_CASE("attach: a run on a `stack up --sut --simulator` stack applies the scenario's profiles there") {
  Temp t;
  const fs::path cache = own_cache(t.dir);
  const fs::path src(RRKIT_SOURCE_DIR);
  StackGuard guard{cache, t.dir / "down.log"};
  const auto up = harness(cache, t.dir / "up.log",
                          {"stack", "up", "--sut", (src / "sut/rr-gateway.yaml").string(), "--simulator", "--detach",
                           "--timeout", "1s", "--run-dir", (t.dir / "stack").string()},
                          300s);
  INFO(up.log);
  REQUIRE(up.status == 0);
  CHECK(up.log.find("rr-harness run SCENARIO.yaml --gateway-url http://127.0.0.1:") != std::string::npos);
  const auto state = read_json(cache / "stack" / "current.json");
  const auto& info = state.at("info");
  const std::string gateway = info.at("gateways").at(0).at("url");
  const std::string simulator = info.at("simulator_control");
  const std::string decisions = info.at("decisions");
  const auto profile_before = rrkit::http::get(port_of(simulator), "/profile", 5s);
  REQUIRE(profile_before.ok());

  // Everything dropped until the set_profile action answers everything: the drops must show in the
  // decision log as this run's (its nonces), and the action's profile after them.
  const fs::path scenario = t.dir / "attach-drops.yaml";
  std::ofstream(scenario) << R"(name: attach-drops
seed: 41
stack: {gateway_timeout: 1s}
simulator:
  profile:
    default: {drop: true}
traffic: {mode: open, rate: 20, duration: 4s, body: {action: echo}}
timeline:
  - {at: 2s, action: set_profile, profile: {default: {delay: 5ms}}}
  - {at: 2500ms, action: kill_daprd, target: 0}
settle: 15s
expect:
  # Open loop on two loaded cores: a 504 may come well after its deadline.
  timeout_epsilon: 1500ms
  assert:
    - "outcome.ok + outcome.timeout == requests"
    - "simulator.drop >= 10"
    - "simulator.ok >= 10"
    - "outcome.timeout == simulator.drop"
    - "simulator.events.profile == 2"
)";
  const fs::path out = t.dir / "out";
  const auto run = harness(cache, t.dir / "run.log",
                           {"run", scenario.string(), "--gateway-url", gateway, "--simulator-url", simulator,
                            "--decisions", decisions, "--sut", (src / "sut/rr-gateway.yaml").string(), "--out",
                            out.string()},
                           240s);
  INFO(run.log);
  CHECK(run.status == 0);

  const auto report = read_json(out / "report.json");
  const auto& result = report.at("scenarios").at(0);
  CHECK(result.at("status") == "pass");
  bool kill_daprd_not_applicable = false;
  for (const auto& c : result.at("checks")) {
    if (c.at("name").get<std::string>().find("kill_daprd") != std::string::npos) {
      kill_daprd_not_applicable = c.at("state") == "not_applicable" && c.at("passed") == false;
    }
  }
  CHECK(kill_daprd_not_applicable);

  // The decision log as the simulator wrote it: this run's requests (nonces rr-41-*) dropped first, answered
  // after the action's profile line.
  std::size_t dropped = 0, answered_after_switch = 0, profiles = 0;
  std::ifstream log(decisions);
  for (std::string line; std::getline(log, line);) {
    const auto j = rrkit::parse_bounded(line).value;
    if (!j.is_object()) continue;
    if (j.value("type", "") == "profile") ++profiles;
    if (j.value("type", "") != "decision" || j.value("key", "").rfind("rr-41-", 0) != 0) continue;
    if (j.value("drop", false)) {
      CHECK(profiles == 2);  // the scenario's own profile, applied by the attached run
      ++dropped;
    } else if (profiles >= 3) {
      ++answered_after_switch;
    }
  }
  CHECK(dropped >= 10);
  CHECK(answered_after_switch >= 10);
  // The run put the simulator's own profile back (a fourth profile line).
  CHECK(profiles == 4);
  const auto profile_after = rrkit::http::get(port_of(simulator), "/profile", 5s);
  REQUIRE(profile_after.ok());
  CHECK(rrkit::parse_bounded(profile_after.body).value == rrkit::parse_bounded(profile_before.body).value);

  const auto down = harness(cache, t.dir / "down.log", {"stack", "down"}, 240s);
  guard.down = true;
  INFO(down.log);
  CHECK(down.status == 0);
  CHECK(down.log.find("stack is down") != std::string::npos);
  CHECK_FALSE(fs::exists(cache / "stack" / "current.json"));
  // The holder took its stack down before it exited.
  CHECK_FALSE(rrkit::net::port_open(port_of(gateway)));
  CHECK_FALSE(rrkit::net::port_open(port_of(simulator)));
}
