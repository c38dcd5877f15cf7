#pragma once
// `rr-harness stack up|down`: bring the real stack up for manual use, and take it down again.
#include <filesystem>
#include <optional>
#include <ostream>

#include <nlohmann/json.hpp>

#include "testkit/stack.h"

// CLI11 is header-only and costs seconds of compile time in every translation unit that includes it
// (its validators are namespace-scope objects built in each): only the files that add options include it.
namespace CLI {
class App;
}  // namespace CLI

namespace rrkit::harness {

// Adds the `stack` subcommand; the returned callback result is stored in exit_code.
void add_stack_command(CLI::App& app, int& exit_code);

// `stack down` on a given state file: stops each recorded process whose pid still names it (same start
// time and executable), reports and skips the others, then removes the file. Returns the exit code.
int stop_detached_stack(const std::filesystem::path& state_file, std::ostream& out);

// A state-file entry: the pid plus what a later stop checks before it signals that pid (start time
// and executable), and back.
nlohmann::json process_entry(const std::string& name, pid_t pid);
stack::RecordedProcess recorded_process(const nlohmann::json& entry);

// A state file (`stack up --detach`, `up`) as JSON: nullopt when it cannot be read, an empty object when
// its text is not a JSON object, so that a damaged file reads as one that records nothing.
std::optional<nlohmann::json> read_state_file(const std::filesystem::path& file);

}  // namespace rrkit::harness
