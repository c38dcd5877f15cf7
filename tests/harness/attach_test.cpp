// Attach mode without a stack: the repro line carries every flag an attached run needs, timeline actions on
// processes the harness did not launch are reported not applicable (and replay finds them again).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "harness/attach.h"
#include "harness/decision_logs.h"
#include "harness/run_files.h"
#include "harness/runner.h"
#include "harness/stack_sut.h"
#include "harness/timeline_action.h"

using namespace rrkit::harness;

namespace {

TimelineAction action(ActionKind kind, int target = 0) {
  TimelineAction a;
  a.action = kind;
  a.target = target;
  a.at = std::chrono::seconds(1);
  return a;
}

}  // namespace

TEST_CASE("repro line of an attached run carries every flag it needs", "[attach]") {
  RunOptions o;
  o.gateway_urls = {"http://127.0.0.1:8080", "http://127.0.0.1:8081"};
  o.simulator_url = "http://127.0.0.1:9090";
  o.attach_decisions = "/tmp/stack/decisions.jsonl";
  o.sut_arg = "examples/node-gateway/sut.yaml";
  const std::string line = repro_command(o, "scenarios/late-replies.yaml", 11);
  CHECK(line ==
        "rr-harness run scenarios/late-replies.yaml --seed 11 --sut examples/node-gateway/sut.yaml"
        " --gateway-url http://127.0.0.1:8080 --gateway-url http://127.0.0.1:8081"
        " --simulator-url http://127.0.0.1:9090 --decisions /tmp/stack/decisions.jsonl");
}

TEST_CASE("repro line: --id-pointer only when it differs from the default, --only last", "[attach]") {
  RunOptions o;
  o.gateway_urls = {"http://127.0.0.1:8080"};
  CHECK(repro_command(o, "s.yaml", 1) == "rr-harness run s.yaml --seed 1 --gateway-url http://127.0.0.1:8080");
  o.attach_id_pointer = "/id";
  o.only = {3, 9};
  o.only_text = "3,9";
  CHECK(repro_command(o, "s.yaml", 1) ==
        "rr-harness run s.yaml --seed 1 --gateway-url http://127.0.0.1:8080 --id-pointer /id --only 3,9");
}

TEST_CASE("repro line of a launched run has no attach flags", "[attach]") {
  RunOptions o;
  o.sut_arg = "sut/rr-gateway.yaml";
  CHECK(repro_command(o, "scenarios/happy-path.yaml", 1) ==
        "rr-harness run scenarios/happy-path.yaml --seed 1 --sut sut/rr-gateway.yaml");
}

TEST_CASE("repro line quotes what a shell would split or expand", "[attach]") {
  RunOptions o;
  o.attach_decisions = "/tmp/my runs/decisions.jsonl";
  o.gateway_urls = {"http://127.0.0.1:1"};
  const std::string line = repro_command(o, "it's.yaml", 2);
  CHECK(line == "rr-harness run 'it'\\''s.yaml' --seed 2 --gateway-url http://127.0.0.1:1"
                " --decisions '/tmp/my runs/decisions.jsonl'");
  CHECK(shell_word("") == "''");
  CHECK(shell_word("a$b") == "'a$b'");
  CHECK(shell_word("plain/path-1.yaml") == "plain/path-1.yaml");
}

TEST_CASE("attach mode: actions on launched processes are not applicable, never applied or failed", "[attach]") {
  AttachedSimulator sim("127.0.0.1", 1, "");
  for (const auto kind : {ActionKind::kill_daprd, ActionKind::restart_daprd, ActionKind::pause_kafka,
                          ActionKind::resume_kafka, ActionKind::crash_simulator, ActionKind::restart_simulator,
                          ActionKind::restart_gateway}) {
    std::string error;
    INFO(to_string(kind));
    CHECK(apply_attached(action(kind), &sim, error) == AttachedAction::not_applicable);
    CHECK(error.find("attach mode") != std::string::npos);
  }
}

TEST_CASE("attach mode without --simulator-url: simulator actions are not applicable", "[attach]") {
  for (const auto kind : {ActionKind::set_profile, ActionKind::pause_simulator, ActionKind::resume_simulator}) {
    std::string error;
    INFO(to_string(kind));
    CHECK(apply_attached(action(kind), nullptr, error) == AttachedAction::not_applicable);
    CHECK(error.find("--simulator-url") != std::string::npos);
  }
}

TEST_CASE("attach mode: a simulator that does not answer fails the action (not n/a)", "[attach]") {
  // Port 1 on loopback: refused at once.
  AttachedSimulator sim("127.0.0.1", 1, "");
  std::string error;
  CHECK(apply_attached(action(ActionKind::pause_simulator), &sim, error) == AttachedAction::failed);
  CHECK(error.find("/pause") != std::string::npos);
  CHECK_FALSE(sim.paused_by_run());
}

TEST_CASE("not-applicable actions become not_applicable checks, from the events alone (replay)", "[attach]") {
  const std::vector<std::string> events = {
      "t=0.50s pause_simulator",
      not_applicable_event(2.0, action(ActionKind::kill_daprd, 1), "attach mode: not launched"),
      "traffic client: 3 connection(s) opened",
      not_applicable_event(3.25, action(ActionKind::pause_kafka), "attach mode: not launched"),
  };
  ScenarioResult r;
  add_not_applicable_actions(events, r);
  REQUIRE(r.checks.size() == 2);
  CHECK(r.checks[0].name == "timeline: t=2.00s kill_daprd gateway 1");
  CHECK(r.checks[0].state == CheckState::not_applicable);
  CHECK(r.checks[0].message == "attach mode: not launched");
  CHECK_FALSE(r.checks[0].passed());
  CHECK(r.checks[1].name == "timeline: t=3.25s pause_kafka");
}

TEST_CASE("stack up --detach starts its holder with the same options", "[attach]") {
  SutStackOptions o;
  o.run_dir = "/tmp/s";
  o.sut_file = "/x/sut.yaml";
  o.instances = 2;
  o.simulator = true;
  o.profile_file = "/x/p.yaml";
  o.timeout = "2s";
  o.brokers = 3;
  const auto argv = holder_argv("/bin/rr-harness", o);
  auto has = [&](const std::string& flag, const std::string& value) {
    const auto it = std::find(argv.begin(), argv.end(), flag);
    return it != argv.end() && it + 1 != argv.end() && *(it + 1) == value;
  };
  CHECK(argv.at(0) == "/bin/rr-harness");
  CHECK(argv.at(1) == "stack");
  CHECK(argv.at(2) == "up");
  CHECK(std::find(argv.begin(), argv.end(), "--detach") == argv.end());
  CHECK(std::find(argv.begin(), argv.end(), "--simulator") != argv.end());
  CHECK(has("--run-dir", "/tmp/s"));
  CHECK(has("--sut", "/x/sut.yaml"));
  CHECK(has("--instances", "2"));
  CHECK(has("--profile", "/x/p.yaml"));
  CHECK(has("--timeout", "2s"));
  CHECK(has("--brokers", "3"));
}

TEST_CASE("an attached run keeps the decision lines its checks read, not those the log gained afterwards", "[attach]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / fmt::format("rrkit-attach-keep-{}", ::getpid());
  fs::create_directories(dir);
  const fs::path log = dir / "attached.jsonl";
  {
    std::ofstream out(log);
    out << R"({"type":"event","event":"profile","n":0})" << "\n"   // before the run: the offset skips it
        << "not json\n"                                         // not counted, as decision_log_lines counts
        << R"({"type":"event","event":"profile","n":1})" << "\n"
        << R"({"type":"decision","id":"a","n":2})" << "\n";
  }
  const std::size_t offset = 1;
  const std::size_t end = decision_log_lines(log.string());
  REQUIRE(end == 3);
  // After the checks: the harness puts the stack's profile back, which the attached simulator logs.
  std::ofstream(log, std::ios::app) << R"({"type":"event","event":"profile","n":3})" << "\n";
  const fs::path run_dir = dir / "run";
  fs::create_directories(run_dir);
  keep_attached_decisions(run_dir, log, offset, end);
  std::ifstream in(run_dir / run_files::kDecisions);
  std::vector<std::string> kept;
  for (std::string line; std::getline(in, line);) kept.push_back(line);
  fs::remove_all(dir);
  REQUIRE(kept.size() == 2);
  CHECK(kept[0].find(R"("n":1)") != std::string::npos);
  CHECK(kept[1].find(R"("n":2)") != std::string::npos);
}

TEST_CASE("the settle poll's read of an attached log counts its lines as decision_log_lines does", "[attach]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / fmt::format("rrkit-attach-count-{}", ::getpid());
  fs::create_directories(dir);
  const fs::path log = dir / "attached.jsonl";
  {
    std::ofstream out(log);
    out << R"({"type":"event","event":"profile","n":0})" << "\n"
        << "not json\n"
        << "\n"
        << R"({"type":"decision","id":"a","n":2})" << "\n"
        << R"({"type":"reply","request_id":"a","reply_id":"a","n":3})" << "\n";
  }
  std::size_t lines = 99;
  const DecisionLines read = read_run_decisions(log, 1, fs::path(), {}, &lines);
  CHECK(lines == decision_log_lines(log.string()));
  CHECK(lines == 3);
  CHECK(read.size() == 2);  // the lines after the offset, which keep_attached_decisions keeps up to `lines`
  std::size_t none = 99;
  CHECK(read_run_decisions(dir / "missing.jsonl", 0, fs::path(), {}, &none).empty());
  CHECK(none == 0);
  fs::remove_all(dir);
}
