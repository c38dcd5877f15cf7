#pragma once
// The decision logs of a scaled-out simulator: each instance writes its own (two processes appending to
// one file could interleave a line), and the checker reads them as one log. Instance 0 keeps the
// historical name, so a one-instance run folder is what it always was.
#include <cstddef>
#include <filesystem>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/decision_lines.h"

namespace rrkit::harness {

// decisions.jsonl for instance 0, decisions-<k>.jsonl for instance k.
std::filesystem::path decision_log(const std::filesystem::path& dir, std::size_t instance);

// The logs of instances 1, 2, ... in dir, up to the first one missing (instances are numbered as started).
std::vector<std::filesystem::path> further_decision_logs(const std::filesystem::path& dir);

// One log out of several: merged by the lines' ts_us, each log's own order kept (a line without a time
// stays right after its predecessor). Every instance stamps lines with this machine's clock, so the
// times compare; a request decided by two instances (redelivered after a rebalance) keeps both lines.
std::vector<nlohmann::json> merge_decision_logs(std::vector<std::vector<nlohmann::json>> logs);

// Lines in each further log now: taken after the warm-up, whose lines are not part of the scenario.
std::vector<std::size_t> further_decision_offsets(const std::filesystem::path& dir);

// A run's decision lines: main_log after main_offset lines, then (merged in) every further log in dir after
// its offset (none given: 0). dir empty: the main log alone (attach mode reads the one log it was given).
// `main_lines`, when given, is set to main_log's lines as this read counted them (read_decisions' lines_read).
DecisionLines read_run_decisions(const std::filesystem::path& main_log, std::size_t main_offset,
                                 const std::filesystem::path& dir, const std::vector<std::size_t>& further_offsets,
                                 std::size_t* main_lines = nullptr);

}  // namespace rrkit::harness
