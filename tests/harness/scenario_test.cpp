#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <optional>
#include <map>
#include <sstream>

#include "common/ids.h"
#include "harness/runner.h"
#include "harness/scenario.h"

namespace scenario_test {

namespace fs = std::filesystem;
using rrkit::harness::load_scenario;

namespace {

// Writes text to a fresh file and returns its path.
fs::path write_temp(const std::string& text) {
  const auto path = fs::temp_directory_path() / ("rrkit-scenario-" + rrkit::new_uuid_v4() + ".yaml");
  std::ofstream(path) << text;
  return path;
}

// A scenario file's text as the loader takes it: the scenario, or the loader's message.
struct Loaded {
  std::optional<rrkit::harness::Scenario> scenario;
  std::string error;
};

Loaded load_text(const std::string& text) {
  const auto path = write_temp(text);
  Loaded out;
  out.scenario = load_scenario(path, out.error);
  fs::remove(path);
  return out;
}

std::string load_error(const std::string& text) {
  const auto loaded = load_text(text);
  return loaded.scenario ? std::string() : loaded.error;
}

// Loads every scenario file below dir; each must load. Returns how many files there were.
std::size_t check_every_scenario_loads(const fs::path& dir) {
  std::string error;
  const auto files = rrkit::harness::find_scenarios({dir.string()}, error);
  REQUIRE(error.empty());
  for (const auto& f : files) {
    INFO(f.string());
    const auto s = load_scenario(f, error);
    INFO(error);
    CHECK(s.has_value());
  }
  return files.size();
}

}  // namespace

TEST_CASE("every scenario in the library is valid") {
  CHECK(check_every_scenario_loads(fs::path(RRKIT_SOURCE_DIR) / "scenarios") >= 15);
}

TEST_CASE("a full scenario loads with its values") {
  const auto loaded = load_text(R"(name: demo
description: d
tags: [ci]
seed: 9
stack: {gateways: 2, consumer_groups: per-instance, gateway_timeout: 750ms, gateway_args: ["--max-pending", "5"]}
simulator:
  profile: {default: {delay: 10ms}}
traffic: {mode: open, rate: 20, duration: 2s, request_timeout: 300ms, body: {a: "{{seq}}"}}
timeline:
  - {at: 1s, action: kill_daprd, target: 1}
  - {at: 500ms, action: pause_kafka}
settle: 3s
expect:
  allow: [reply_counters]
  assert: ["outcome.ok >= 10", "latency.p99 < 200"]
)");
  INFO(loaded.error);
  const auto& s = loaded.scenario;
  REQUIRE(s);
  CHECK(s->name == "demo");
  CHECK(s->seed == 9);
  CHECK(s->gateways == 2);
  CHECK(s->gateway_timeout == std::chrono::milliseconds(750));
  CHECK(s->gateway_args.size() == 2);
  CHECK(s->profile_yaml.find("delay") != std::string::npos);
  CHECK(s->traffic.mode == rrkit::harness::TrafficPlan::Mode::open);
  CHECK(s->traffic.requests == 0);  // duration without a count
  CHECK(s->traffic.request_timeout_ms == 300);
  REQUIRE(s->timeline.size() == 2);
  CHECK(std::string(to_string(s->timeline[0].action)) == "pause_kafka");  // sorted by time
  CHECK(s->timeline[1].target == 1);
  REQUIRE(s->assertions.size() == 2);
  CHECK(s->assertions[1].lhs == "latency.p99");
  CHECK(s->assertions[1].op == "<");
  CHECK(s->assertions[1].rhs == "200");
}

TEST_CASE("scenario errors name the file, the line and the key") {
  CHECK(load_error("name: x\nbogus: 1\n").find(":2: bogus: unknown key") != std::string::npos);
  CHECK(load_error("traffic:\n  mode: sideways\n").find(":2: traffic.mode: must be closed or open") != std::string::npos);
  CHECK(load_error("traffic: {concurrency: 0}\n").find("traffic.concurrency: must be between") != std::string::npos);
  CHECK(load_error("settle: soon\n").find(":1: settle: is not a duration") != std::string::npos);
  CHECK(load_error("stack: {gateways: 2}\ntimeline:\n  - {at: 1s, action: explode}\n")
            .find(":3: timeline[].action: unknown action \"explode\"") != std::string::npos);
  CHECK(load_error("timeline:\n  - {at: 1s, action: kill_daprd, target: 3}\n").find("no such gateway") != std::string::npos);
  CHECK(load_error("expect:\n  violations: [everything_fine]\n").find("unknown invariant") != std::string::npos);
  CHECK(load_error("expect:\n  assert: [\"latency is fine\"]\n").find("expect.assert: cannot read") != std::string::npos);
  CHECK(load_error("traffic: [1, 2\n").find("YAML syntax error") != std::string::npos);
  CHECK(load_error("simulator: {profile_file: no/such/file.yaml}\n").find("cannot read") != std::string::npos);
}

TEST_CASE("an assertion operand that is not a known name is refused at load, with file:line: key") {
  const std::string typo = load_error("name: x\nexpect:\n  assert:\n    - \"outcome.ok > 1\"\n"
                                      "    - \"gateway.replies_unknwn == 0\"\n");
  INFO(typo);
  CHECK(typo.find(":5: expect.assert: \"gateway.replies_unknwn == 0\": unknown operand \"gateway.replies_unknwn\"") !=
        std::string::npos);
  CHECK(typo.find("gateway.replies_unknown") != std::string::npos);  // the names it may have meant
  CHECK(load_error("expect:\n  assert: [\"outcome.ok == requests - outcome.timout\"]\n")
            .find("unknown operand \"outcome.timout\"") != std::string::npos);
  CHECK(load_error("expect:\n  assert: [\"latency.rejected.p98 < 200\"]\n")
            .find("unknown operand \"latency.rejected.p98\"") != std::string::npos);
  CHECK(load_error("expect:\n  assert: [\"class.http_5xx > 0\"]\n").find("unknown operand") != std::string::npos);
  CHECK(load_error("expect:\n  assert: [\"outcome.ok % 2 == 0\"]\n").find("unknown operator \"%\"") != std::string::npos);
  CHECK(load_error("expect:\n  assert: [\"outcome.ok + == 0\"]\n").find("needs an operand") != std::string::npos);
  // Known names, numbers, the http_NNN family and per-outcome latency load.
  CHECK(load_error("expect:\n  assert: [\"latency.rejected.p99 < 200\", \"class.http_418 == 0\",\n"
                   "           \"outcome.ok / requests > 0.5\", \"latency.p99 < latency.timeout.max * 2\"]\n") == "");
}

TEST_CASE("every name of the operand table is accepted by the loader") {
  std::string list;
  for (const auto& op : rrkit::harness::assertion_operands()) {
    CHECK_FALSE(op.meaning.empty());
    const std::string name = op.name == "class.http_NNN" ? std::string("class.http_503") : op.name;
    list += "    - \"" + name + " >= 0\"\n";
  }
  CHECK(load_error("expect:\n  assert:\n" + list) == "");
}

TEST_CASE("the test scenarios are valid too") {
  check_every_scenario_loads(fs::path(RRKIT_SOURCE_DIR) / "tests" / "harness" / "scenarios");
}

TEST_CASE("a missing scenario file is a clear error") {
  std::string error;
  CHECK_FALSE(load_scenario("/nonexistent/rrkit.yaml", error));
  CHECK(error.find("cannot read the file") != std::string::npos);
}

TEST_CASE("a scenario name must be a safe run folder name") {
  for (const char* bad : {"../escape", "a/b", ".hidden", "..", "two words", "x\\\\y"}) {
    INFO(bad);
    const auto error = load_error(std::string("name: \"") + bad + "\"\nseed: 1\n");
    CHECK(error.find(":1: name:") != std::string::npos);
  }
  for (const char* good : {"happy-path", "v1.2_x", "A9"}) {
    INFO(good);
    CHECK(load_error(std::string("name: ") + good + "\n").empty());
  }
  // The default name is the file's stem, and it must be safe too.
  const auto path = fs::temp_directory_path() / ("bad name " + rrkit::new_uuid_v4() + ".yaml");
  std::ofstream(path) << "seed: 1\n";
  std::string error;
  CHECK_FALSE(load_scenario(path, error).has_value());
  fs::remove(path);
  CHECK(error.find("name:") != std::string::npos);
}

TEST_CASE("two scenarios of one name cannot run together") {
  rrkit::harness::Scenario a, b, c;
  a.name = b.name = "same";
  c.name = "other";
  a.path = "a.yaml";
  b.path = "b.yaml";
  c.path = "c.yaml";
  std::string error;
  CHECK(rrkit::harness::check_unique_names({a, c}, error));
  CHECK_FALSE(rrkit::harness::check_unique_names({a, c, b}, error));
  CHECK(error.find("b.yaml: name: \"same\" is already the name of a.yaml") != std::string::npos);
}

TEST_CASE("a run folder is always a direct child of --out") {
  fs::path folder;
  std::string error;
  CHECK(rrkit::harness::run_folder_for("runs", "happy-path", 7, folder, error));
  CHECK(folder == (fs::absolute("runs") / "happy-path-seed7").lexically_normal());
  CHECK_FALSE(rrkit::harness::run_folder_for("runs", "../../etc", 7, folder, error));
  CHECK_FALSE(rrkit::harness::run_folder_for("runs", "a/b", 7, folder, error));
  CHECK_FALSE(rrkit::harness::run_folder_for("runs", "", 7, folder, error));
}

TEST_CASE("traffic phases load in order and need open loop") {
  const auto loaded = load_text(R"(name: phased
traffic:
  mode: open
  keepalive_idle: 20s
  phases:
    - {duration: 60s, rate: 200}
    - {duration: 130s, rate: 0}
    - {duration: 10s, rate: 50}
)");
  INFO(loaded.error);
  const auto& s = loaded.scenario;
  REQUIRE(s.has_value());
  REQUIRE(s->traffic.phases.size() == 3);
  CHECK(s->traffic.phases[1].rate == 0);
  CHECK(s->traffic.phases[1].duration == std::chrono::seconds(130));
  CHECK(s->traffic.keepalive_idle == std::chrono::seconds(20));
  CHECK(s->traffic.requests == 0);
  CHECK(load_error("traffic: {mode: closed, phases: [{duration: 1s, rate: 5}]}\n").find("traffic.phases") !=
        std::string::npos);
  CHECK(load_error("traffic: {mode: open, rate: 5, phases: [{duration: 1s, rate: 5}]}\n").find("not both") !=
        std::string::npos);
  CHECK(load_error("traffic: {mode: open, phases: [{duration: 1s}]}\n").find("needs duration and rate") !=
        std::string::npos);
}

TEST_CASE("the ci tag selects whole tags, in flow and block lists alike") {
  // The files the build's `rr-harness list --tag ci` step is also checked against.
  const fs::path dir = fs::path(RRKIT_SOURCE_DIR) / "tests/harness/scenarios/tags";
  std::string error;
  const auto files = rrkit::harness::find_scenarios({dir.string()}, error);
  REQUIRE(error.empty());
  std::map<std::string, bool> selected;
  for (const auto& f : files) {
    const auto s = load_scenario(f, error);
    INFO(error);
    REQUIRE(s);
    selected[s->name] = rrkit::harness::has_any_tag(*s, {"ci"});
  }
  CHECK(selected == std::map<std::string, bool>{{"block-ci", true}, {"cinema", false}, {"flow-ci", true},
                                                {"untagged", false}});
}

TEST_CASE("no tag asked selects every scenario, several tags select any of them") {
  rrkit::harness::Scenario s;
  CHECK(rrkit::harness::has_any_tag(s, {}));
  CHECK_FALSE(rrkit::harness::has_any_tag(s, {"ci"}));
  s.tags = {"soak", "cinema"};
  CHECK(rrkit::harness::has_any_tag(s, {"ci", "soak"}));
  CHECK_FALSE(rrkit::harness::has_any_tag(s, {"ci", "cine"}));
}

namespace {

std::string read_readme() {
  std::ifstream in(fs::path(RRKIT_SOURCE_DIR) / "README.md");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

// Each row of a closed enum's table: its position is its value, its name parses back and prints the
// same, it has an implementation, and the README's table has its line (`| `name` | meaning` then readme_end).
template <class Row, class Id, class Impl, class Parse>
void check_enum_table(const std::vector<Row>& table, Id Row::*id, Impl Row::*impl, Parse parse, const std::string& readme_end) {
  using rrkit::harness::to_string;
  const std::string readme = read_readme();
  REQUIRE_FALSE(readme.empty());
  for (std::size_t k = 0; k < table.size(); ++k) {
    const auto& row = table[k];
    INFO(row.name);
    CHECK(static_cast<std::size_t>(row.*id) == k);
    CHECK(parse(row.name) == row.*id);
    CHECK(std::string(to_string(row.*id)) == row.name);
    CHECK(row.*impl != nullptr);
    CHECK(readme.find(std::string("| `") + row.name + "` | " + row.meaning + readme_end) != std::string::npos);
  }
}

TEST_CASE("every invariant has one table row, a name that parses back and its README line", "[unit][scenario]") {
  using namespace rrkit::harness;
  CHECK(invariant_table().size() == invariant_names().size());
  CHECK(invariant_table().back().id == Invariant::memory_returns);  // the enum's last value
  check_enum_table(invariant_table(), &InvariantInfo::id, &InvariantInfo::judge, parse_invariant, "");
  CHECK_FALSE(parse_invariant("no_such_invariant"));
}

TEST_CASE("every timeline action has one table row, a name that parses back and its README line", "[unit][scenario]") {
  using namespace rrkit::harness;
  CHECK(action_table().back().kind == ActionKind::stop_gateway);  // the enum's last value
  check_enum_table(action_table(), &ActionInfo::kind, &ActionInfo::apply, parse_action, " |");
  CHECK_FALSE(parse_action("explode"));
}

TEST_CASE("traffic rounds and memory thresholds load, and rounds need a closed loop with a count", "[unit][scenario]") {
  const auto loaded = load_text(R"(name: rounds
traffic: {mode: closed, concurrency: 8, requests: 80000, rounds: 4}
expect:
  memory: {bytes_per_timed_out: 300, noise_floor_mib: 8, warmup_rounds: 2}
)");
  INFO(loaded.error);
  const auto& s = loaded.scenario;
  REQUIRE(s.has_value());
  CHECK(s->rounds == 4);
  CHECK(s->traffic.requests == 80000);
  CHECK(s->memory.max_bytes_per_timed_out == 300);
  CHECK(s->memory.noise_floor_bytes == 8.0 * 1024 * 1024);
  CHECK(s->memory.warmup_rounds == 2);
  const auto defaults = load_text("name: d\ntraffic: {requests: 8, rounds: 2}\n");
  REQUIRE(defaults.scenario.has_value());
  CHECK(defaults.scenario->memory.warmup_rounds == 1);
  // The trend needs two samples from the warm-up's last round on.
  CHECK(load_error("traffic: {requests: 8, rounds: 2}\nexpect:\n  memory: {warmup_rounds: 2}\n")
            .find(":3: expect.memory.warmup_rounds: must be less than traffic.rounds (2)") != std::string::npos);
  CHECK(load_error("traffic: {requests: 8, rounds: 4}\nexpect:\n  memory: {warmup_rounds: 0}\n")
            .find("expect.memory.warmup_rounds: must be between") != std::string::npos);
  CHECK(load_error("traffic: {requests: 8, rounds: 4}\nexpect:\n  memory: {warmup_rounds: two}\n")
            .find("expect.memory.warmup_rounds: has the wrong type") != std::string::npos);
  CHECK(load_error("traffic: {mode: open, rate: 5, requests: 10, rounds: 2}\n").find(":1: traffic.rounds: rounds need") !=
        std::string::npos);
  CHECK(load_error("traffic: {duration: 5s, rounds: 2}\n").find("traffic.rounds: rounds need") != std::string::npos);
  CHECK(load_error("traffic: {requests: 3, rounds: 4}\n").find("more rounds than requests") != std::string::npos);
  CHECK(load_error("traffic: {requests: 3, rounds: 0}\n").find("traffic.rounds: must be between") != std::string::npos);
  CHECK(load_error("traffic: {requests: 3, rounds: many}\n").find("traffic.rounds: has the wrong type") !=
        std::string::npos);
  CHECK(load_error("expect:\n  memory: {noise_floor: 8}\n").find(":2: expect.memory.noise_floor: unknown key") !=
        std::string::npos);
}

TEST_CASE("simulator instances load, and instance: names one that exists when the action plays", "[unit][scenario]") {
  const auto path = write_temp(R"(name: scaled
simulator: {instances: 2}
timeline:
  - {at: 3s, action: add_simulator}
  - {at: 1s, action: crash_simulator, instance: 1}
  - {at: 4s, action: restart_simulator, instance: 2}
)");
  std::string error;
  const auto s = load_scenario(path, error);
  fs::remove(path);
  INFO(error);
  REQUIRE(s.has_value());
  CHECK(s->simulator_instances == 2);
  REQUIRE(s->timeline.size() == 3);
  CHECK(s->timeline[0].instance == 1);
  CHECK(s->timeline[2].instance == 2);
  CHECK(load_error("simulator: {instances: 0}\n").find("simulator.instances: must be between") != std::string::npos);
  CHECK(load_error("simulator: {instances: 2}\ntimeline:\n  - {at: 1s, action: crash_simulator, instance: 2}\n")
            .find(":3: timeline[].instance: no simulator instance 2 at that time") != std::string::npos);
  // The instance an add_simulator starts exists only from then on.
  CHECK(load_error("timeline:\n  - {at: 2s, action: add_simulator}\n  - {at: 1s, action: crash_simulator, instance: 1}\n")
            .find(":3: timeline[].instance: no simulator instance 1") != std::string::npos);
  CHECK(load_error("timeline:\n  - {at: 1s, action: kill_daprd, instance: 0}\n")
            .find("kill_daprd takes no instance") != std::string::npos);
  CHECK(load_error("timeline:\n  - {at: 1s, action: crash_simulator, instance: -1}\n").find("no simulator instance -1") !=
        std::string::npos);
}

TEST_CASE("add_gateway and stop_gateway are read from the timeline, stop_gateway naming its instance") {
  const auto ok = load_text("stack: {gateways: 2}\ntimeline:\n  - {at: 9s, action: stop_gateway, instance: 0}\n"
                            "  - {at: 4s, action: add_gateway}\n  - {at: 12s, action: restart_daprd, target: 2}\n");
  INFO(ok.error);
  REQUIRE(ok.scenario);
  const auto& tl = ok.scenario->timeline;
  REQUIRE(tl.size() == 3);
  CHECK(tl[0].action == rrkit::harness::ActionKind::add_gateway);
  CHECK(tl[1].action == rrkit::harness::ActionKind::stop_gateway);
  CHECK(tl[1].instance == 0);
  CHECK(load_error("stack: {gateways: 2}\ntimeline:\n  - {at: 1s, action: stop_gateway}\n")
            .find(":3: timeline[].instance: stop_gateway needs instance: N") != std::string::npos);
  CHECK(load_error("stack: {gateways: 2}\ntimeline:\n  - {at: 1s, action: stop_gateway, instance: 2}\n")
            .find(":3: timeline[].instance: no such gateway 2 at that time (2 started") != std::string::npos);
  CHECK(load_error("timeline:\n  - {at: 1s, action: stop_gateway, instance: 0}\n").find("would leave no gateway serving") !=
        std::string::npos);
  CHECK(load_error("stack: {gateways: 2}\ntimeline:\n  - {at: 1s, action: add_gateway, instance: 1}\n")
            .find("add_gateway takes no instance") != std::string::npos);
  CHECK(load_error("stack: {gateways: 2, reply_mode: reply-to}\ntimeline:\n  - {at: 1s, action: add_gateway}\n")
            .find(":3: timeline[].action: add_gateway needs reply_mode broadcast") != std::string::npos);
  // A run holds at most 8 gateways (replay reads no more), counting those stopped on the way.
  CHECK(load_error("stack: {gateways: 7}\ntimeline:\n  - {at: 1s, action: stop_gateway, instance: 0}\n"
                   "  - {at: 2s, action: add_gateway}\n  - {at: 3s, action: add_gateway}\n")
            .find(":5: timeline[].action: add_gateway would start a 9th gateway") != std::string::npos);
  CHECK(load_error("stack: {gateways: 7}\ntimeline:\n  - {at: 2s, action: add_gateway}\n").empty());
}

}  // namespace scenario_test
