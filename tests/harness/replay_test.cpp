// `rr-harness replay`: a run folder written by the runner replays to the same verdicts, and a folder
// missing a piece of evidence is an error, never a pass on zero counters or a drained default.
// The runs attach to a small HTTP app standing in for a gateway (as runner_test does), so that the run
// folder is written by the runner's own writer.
#include <catch2/catch.hpp>

#include <mutex>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "common/reply.h"
#include "harness/runner.h"
#include "testkit/tiny_http_server.h"

namespace replay_test {

namespace fs = std::filesystem;
using namespace rrkit::harness;
using nlohmann::json;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("rrkit-replay-" + rrkit::new_uuid_v4());
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

// Every sample the checker reads, at zero except matched/ok (attach mode without a decision log
// expects no replies at all, so a passing gateway reports none).
std::string zero_metrics() {
  std::string m;
  for (const char* c : {"matched", "late", "duplicate", "unknown", "malformed", "forged", "probe"}) {
    m += fmt::format("rr_gateway_replies_total{{class=\"{}\"}} 0\n", c);
  }
  for (const char* o : {"ok", "timeout", "overloaded", "publish_failed", "client_gone", "bad_request"}) {
    m += fmt::format("rr_gateway_requests_total{{outcome=\"{}\"}} 0\n", o);
  }
  return m + "rr_gateway_pending 0\n";
}

// A stand-in gateway: answers each request with the legacy system's reply for it (or, with `swap`,
// for the request before it), and serves /metrics as told.
class StandIn {
 public:
  StandIn(bool swap, int metrics_status)
      : server_([this, swap, metrics_status](const rrkit::test::TinyRequest& req) {
          if (req.target == "/metrics") {
            return rrkit::test::TinyResponse{metrics_status, metrics_status == 200 ? zero_metrics() : "down",
                                             "text/plain"};
          }
          const std::string id = rrkit::new_uuid_v4();
          json echo = json::parse(req.body);
          echo["correlationId"] = id;
          json answer_for = echo;
          if (swap) {
            std::lock_guard<std::mutex> lock(mutex_);
            if (!previous_.is_null()) answer_for = previous_;
            previous_ = echo;
          }
          const json body = {{"correlationId", id},
                             {"response", rrkit::make_reply(id, true, rrkit::reply_payload_for(answer_for))}};
          return rrkit::test::TinyResponse{200, body.dump()};
        }) {}
  std::uint16_t port() const { return server_.port(); }

 private:
  std::mutex mutex_;
  json previous_;
  rrkit::test::TinyHttpServer server_;
};

ScenarioResult run_against(const StandIn& gw, const TempDir& dir, const std::string& name,
                           const std::string& asserts = "") {
  const fs::path file = dir.path / (name + ".yaml");
  std::ofstream(file) << "name: " << name << "\n"
                      << "traffic: {mode: closed, concurrency: 1, requests: 4, body: {action: echo}}\n"
                      << "settle: 2s\n"
                      << "warmup: 0\n"
                      << "expect:\n  assert: [\"outcome.ok == requests\"" << asserts << "]\n";
  std::string error;
  const auto sc = load_scenario(file, error);
  INFO(error);
  REQUIRE(sc);
  RunOptions options;
  options.out_dir = dir.path / "out";
  options.gateway_urls = {"http://127.0.0.1:" + std::to_string(gw.port())};
  return run_scenario(*sc, options);
}

// Messages name the scenario file, which replay reads from the run folder's copy.
std::string without_path(std::string message, const std::string& path) {
  for (auto at = message.find(path); !path.empty() && at != std::string::npos; at = message.find(path)) {
    message.replace(at, path.size(), "<scenario>");
  }
  return message;
}

void same_verdicts(const ScenarioResult& live, const ScenarioResult& replayed) {
  CHECK(replayed.status == live.status);
  REQUIRE(replayed.checks.size() == live.checks.size());
  for (std::size_t i = 0; i < live.checks.size(); ++i) {
    INFO(live.checks[i].name << ": " << live.checks[i].message);
    CHECK(replayed.checks[i].name == live.checks[i].name);
    CHECK(replayed.checks[i].state == live.checks[i].state);
    CHECK(without_path(replayed.checks[i].message, replayed.path) == without_path(live.checks[i].message, live.path));
  }
  CHECK(replayed.classifications == live.classifications);
  CHECK(replayed.gateway_counters == live.gateway_counters);
}

json read_json(const fs::path& file) {
  std::ifstream in(file);
  return json::parse(in);
}

void write_json(const fs::path& file, const json& j) { std::ofstream(file) << j.dump(2) << "\n"; }

}  // namespace

TEST_CASE("replay of a passing run folder gives the live verdicts") {
  TempDir dir;
  StandIn gw(false, 200);
  const auto live = run_against(gw, dir, "good");
  INFO(live.error);
  REQUIRE(live.status == ScenarioStatus::pass);
  std::string error;
  const auto replayed = replay_run(live.run_dir, error);
  INFO(error);
  REQUIRE(replayed);
  same_verdicts(live, *replayed);
}

TEST_CASE("replay of failing run folders gives the live verdicts") {
  TempDir dir;
  SECTION("swapped replies") {
    StandIn gw(true, 200);
    const auto live = run_against(gw, dir, "swapped");
    REQUIRE(live.status == ScenarioStatus::fail);
    CHECK(live.classifications.at("mis_correlated") >= 3);
    std::string error;
    const auto replayed = replay_run(live.run_dir, error);
    INFO(error);
    REQUIRE(replayed);
    same_verdicts(live, *replayed);
  }
  SECTION("a gateway whose /metrics cannot be read") {
    StandIn gw(false, 500);
    const auto live = run_against(gw, dir, "blind", ", \"gateway.replies_unknown == 0\"");
    REQUIRE(live.status == ScenarioStatus::fail);
    for (const auto& c : live.checks) {
      if (c.name.rfind("reply_counters", 0) == 0 || c.name.rfind("pending_drained", 0) == 0 ||
          c.name.rfind("assert: gateway.", 0) == 0) {
        INFO(c.name << ": " << c.message);
        CHECK(c.failed());
        CHECK(c.message.find("gateway 0: /metrics answered HTTP 500") != std::string::npos);
      }
    }
    const json meta = read_json(fs::path(live.run_dir) / "run.json");
    CHECK(meta["pending"].is_null());
    CHECK(meta["metrics_errors"] == json::array({"answered HTTP 500"}));
    CHECK_FALSE(fs::exists(fs::path(live.run_dir) / "metrics-gw-1.txt"));
    std::string error;
    const auto replayed = replay_run(live.run_dir, error);
    INFO(error);
    REQUIRE(replayed);
    same_verdicts(live, *replayed);
  }
}

TEST_CASE("replay refuses a run folder that lacks a piece of evidence") {
  TempDir dir;
  StandIn gw(false, 200);
  const auto live = run_against(gw, dir, "evidence");
  REQUIRE(live.status == ScenarioStatus::pass);
  const fs::path run = live.run_dir;
  const json meta = read_json(run / "run.json");
  std::string error;
  SECTION("a gateway's metrics file") {
    fs::remove(run / "metrics-gw-1.txt");
    CHECK_FALSE(replay_run(run, error));
    CHECK(error.find("metrics-gw-1.txt: missing") != std::string::npos);
  }
  SECTION("the history") {
    fs::remove(run / "history.jsonl");
    CHECK_FALSE(replay_run(run, error));
    CHECK(error.find("history.jsonl: missing") != std::string::npos);
  }
  SECTION("the decision log the run read") {
    json m = meta;
    m["decisions"] = (dir.path / "gone.jsonl").string();
    write_json(run / "run.json", m);
    CHECK_FALSE(replay_run(run, error));
    CHECK(error.find("decisions.jsonl: missing") != std::string::npos);
    CHECK(error.find("gone.jsonl") != std::string::npos);
  }
  SECTION("the pending figure") {
    json m = meta;
    m.erase("pending");
    write_json(run / "run.json", m);
    CHECK_FALSE(replay_run(run, error));
    CHECK(error.find("\"pending\"") != std::string::npos);
  }
  SECTION("the record of which scrapes were read") {
    json m = meta;
    m.erase("metrics_errors");
    write_json(run / "run.json", m);
    CHECK_FALSE(replay_run(run, error));
    CHECK(error.find("\"metrics_errors\"") != std::string::npos);
  }
  SECTION("the gateway count") {
    json m = meta;
    m.erase("gateways");
    write_json(run / "run.json", m);
    CHECK_FALSE(replay_run(run, error));
    CHECK(error.find("gateways must be an integer between 1 and 8, got nothing") != std::string::npos);
  }
  SECTION("a history line that is not JSON") {
    std::ofstream(run / "history.jsonl", std::ios::app) << "{not json\n";
    CHECK_FALSE(replay_run(run, error));
    CHECK(error.find("history.jsonl:5: not a JSON line") != std::string::npos);
  }
}

}  // namespace replay_test
