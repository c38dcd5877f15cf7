// Ctrl-C on a real run: `rr-harness run` on a scenario that freezes Kafka (SIGSTOP) is sent SIGINT
// while Kafka is frozen. It must exit promptly with 130, write its JSON/JUnit/HTML reports marked
// interrupted, and leave no process of the run behind (no stopped Kafka in particular).
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "testkit/process.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

struct ProcInfo {
  pid_t pid = 0;
  pid_t ppid = 0;
  char state = '?';
  unsigned long long start_time = 0;  // clock ticks since boot: tells a reused pid apart
  std::string cmdline;
};

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<ProcInfo> proc_info(pid_t pid) {
  const std::string stat = read_all(fs::path("/proc") / std::to_string(pid) / "stat");
  const auto close = stat.rfind(')');
  if (stat.empty() || close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 2));
  ProcInfo p;
  p.pid = pid;
  rest >> p.state >> p.ppid;
  std::string field;
  for (int i = 0; i < 18 && rest >> field; ++i) {
  }
  rest >> p.start_time;  // field 22
  p.cmdline = read_all(fs::path("/proc") / std::to_string(pid) / "cmdline");
  for (auto& c : p.cmdline) {
    if (c == '\0') c = ' ';
  }
  return p;
}

std::vector<ProcInfo> all_processes() {
  std::vector<ProcInfo> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    const auto name = e.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (auto p = proc_info(static_cast<pid_t>(std::stol(name)))) out.push_back(*p);
  }
  return out;
}

std::vector<ProcInfo> children_of(pid_t parent) {
  std::vector<ProcInfo> out;
  for (const auto& p : all_processes()) {
    if (p.ppid == parent) out.push_back(p);
  }
  return out;
}

}  // namespace

TEST_CASE("SIGINT during a run with Kafka frozen: reports written and marked interrupted, nothing left behind") {
  const fs::path out = fs::temp_directory_path() / ("rrkit-interrupt-" + rrkit::new_uuid_v4());
  fs::create_directories(out);
  const fs::path scenario = fs::path(RRKIT_SOURCE_DIR) / "tests/harness/scenarios/interrupt-kafka-pause.yaml";
  std::string error;
  const pid_t harness = rrkit::proc::spawn(
      rrkit::proc::SpawnSpec{"rr-harness",
                             {RR_HARNESS_BIN, "run", scenario.string(), "--out", out.string(), "--json",
                              (out / "r.json").string(), "--junit", (out / "r.xml").string(), "--html",
                              (out / "r.html").string()},
                             {},
                             out / "harness.log",
                             {}},
      error);
  REQUIRE(harness > 0);

  // Wait (stack start-up included) until the run's Kafka is frozen.
  std::vector<ProcInfo> children;
  const bool frozen = rrkit::proc::wait_until(
      [&] {
        if (!rrkit::proc::alive(harness)) return true;
        children = children_of(harness);
        for (const auto& c : children) {
          if (c.cmdline.find("kafka.Kafka") != std::string::npos && c.state == 'T') return true;
        }
        return false;
      },
      300s, 100ms);
  INFO(read_all(out / "harness.log"));
  REQUIRE(frozen);
  REQUIRE(rrkit::proc::alive(harness));
  CHECK(children.size() >= 4);  // Kafka, simulator, gateway, daprd

  const auto signalled = std::chrono::steady_clock::now();
  REQUIRE(::kill(harness, SIGINT) == 0);
  const bool exited = rrkit::proc::wait_gone(harness, 120s);
  if (!exited) rrkit::proc::stop(harness, 5s);
  REQUIRE(exited);
  std::cout << "rr-harness exited "
            << std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - signalled).count()
            << " ms after SIGINT\n";
  CHECK(rrkit::proc::exit_status(harness) == 130);

  // The reports exist and say interrupted.
  const auto report = nlohmann::json::parse(read_all(out / "r.json"), nullptr, false);
  REQUIRE(report.is_object());
  CHECK(report["interrupted"] == true);
  CHECK(report["interrupt_signal"] == SIGINT);
  REQUIRE(report["scenarios"].size() == 1);
  CHECK(report["scenarios"][0]["status"] == "interrupted");
  CHECK(report["scenarios"][0]["error"].get<std::string>().find("SIGINT") != std::string::npos);
  CHECK(report["scenarios"][0]["requests"].size() > 0);
  CHECK(read_all(out / "r.xml").find("interrupted") != std::string::npos);
  CHECK(read_all(out / "r.html").find("interrupted") != std::string::npos);
  const fs::path run_dir = report["scenarios"][0]["run_dir"].get<std::string>();
  CHECK(fs::exists(run_dir / "history.jsonl"));
  CHECK(read_all(run_dir / "run.json").find("\"interrupted\": true") != std::string::npos);

  // Nothing of the run is left: each child seen before the signal is gone (or its pid now names
  // another process), and no process anywhere refers to the run's folder, stopped or not.
  for (const auto& c : children) {
    const auto now = proc_info(c.pid);
    INFO("child " << c.pid << " " << c.cmdline);
    CHECK((!now || now->start_time != c.start_time || now->state == 'Z'));
  }
  for (const auto& p : all_processes()) {
    INFO("left behind: " << p.pid << " state " << p.state << " " << p.cmdline);
    CHECK(p.cmdline.find(out.string()) == std::string::npos);
  }
  std::error_code ec;
  fs::remove_all(out, ec);
}
