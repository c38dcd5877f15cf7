#pragma once
// rr-simulator's typed configuration and its run loop (main.cpp only parses flags).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/exit_codes.h"

// CLI11 is header-only and costs seconds of compile time in every translation unit that includes it
// (its validators are namespace-scope objects built in each): only app.cpp includes it.
namespace CLI {
class App;
}  // namespace CLI

namespace rrkit::simulator {

// Exit codes (common/exit_codes.h): 0 clean shutdown (SIGTERM/SIGINT), 1 Kafka fatal error or
// runtime failure, 2 bad flags, configuration or profile, 70 the profile's crash fault.
inline constexpr int kExitOk = exit_code::ok;
inline constexpr int kExitRuntime = exit_code::runtime_failure;
inline constexpr int kExitConfig = exit_code::usage;
inline constexpr int kExitCrash = exit_code::crash_fault;

struct Config {
  std::string brokers = "127.0.0.1:9092";
  std::string request_topic = "rr.requests";
  std::string reply_topic = "rr.replies";
  std::string group = "rr-simulator";
  std::string profile;                 // empty: no faults
  std::uint64_t seed = 1;
  bool seed_given = false;             // --seed (or its env var) overrides the profile's seed
  std::vector<std::string> overrides;  // --set KEY=VALUE
  std::string decisions = "decisions.jsonl";  // empty: no decision log
  std::string control_listen = "127.0.0.1:8090";  // "off": no control API
  std::string id_from = "body:correlationId";
  bool honor_reply_to = false;
  std::string key_field;  // --key-field PATH: decide on this request body field when present (else the id)
  std::vector<std::string> log_fields;  // --log-field NAME: request body fields copied into decision lines
  std::string log_level = "info";
  std::string shutdown_timeout = "10s";  // producer flush bound on SIGTERM
  bool print_config = false;
};

// Registers every flag (with RR_SIMULATOR_* env vars and --config FILE) on app.
void add_options(CLI::App& app, Config& config);
// Call after parsing: records whether the seed was given explicitly.
void finish_options(CLI::App& app, Config& config);
// rr-simulator's command line: add_options, parse argv, finish_options. Returns the exit code when the
// program is done (--help, --version: ok; bad flags: usage), nullopt when the simulator should run.
std::optional<int> parse_command_line(int argc, char** argv, Config& config);
nlohmann::json to_json(const Config& config);

// Runs the simulator until SIGTERM/SIGINT, a fatal error, or the crash fault. Returns the exit code.
int run(const Config& config);

}  // namespace rrkit::simulator
