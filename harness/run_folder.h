#pragma once
// The run folder (<out>/<name>-seed<N>): what a run keeps so that it can be checked again (`replay`),
// compared (`diff`) and debugged. One typed definition, written by the runner and read by replay,
// diff and the runner's own settle step; nothing else spells its file names.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/checker.h"
#include "harness/decision_lines.h"
#include "harness/result.h"
#include "harness/run_files.h"

namespace rrkit::harness {


// run.json: what the checker needs besides the files, and what it cannot learn from them.
struct RunRecord : RunFacts {
  std::vector<std::string> metrics_errors;    // per gateway: why its final /metrics was not read ("" when read)
  std::vector<std::string> baseline_errors;   // per gateway, likewise after the warm-up (empty: no warm-up)
  std::string decisions;                      // the decision log the run read ("" for none)
  std::size_t decisions_offset = 0;           // lines of the warm-up at its start, not part of the scenario
  std::vector<std::size_t> further_decisions_offsets;  // the same for simulator instances 1.. (decisions-<k>.jsonl)
  std::optional<std::uint64_t> seed;         // the seed the run used (the scenario file may say another)
  std::string only;                           // --only as written ("" for a full run)
  std::int64_t started_us = 0;
  bool interrupted = false;
};

// A run folder's evidence, as the checker takes it.
struct StoredRun {
  RunRecord record;
  std::vector<RequestRecord> history;
  DecisionLines decisions;                     // the scenario's decision lines (the warm-up's left out)
  std::vector<MetricsScrape> metrics;          // per gateway
  std::vector<MetricsScrape> baseline;         // per gateway, or none
  // The request body of a record that holds none (an answer verified on arrival drops it), for the history;
  // unset: such a record is written without one.
  std::function<std::string(const RequestRecord&)> request_body_of;
};

// The folder a scenario's run gets: <out>/<name>-seed<seed>. False with a message when it would not
// be a direct child of out (names are validated at load; this is the last line of defence before the
// folder is emptied).
bool run_folder_for(const std::filesystem::path& out_dir, const std::string& name, std::uint64_t seed,
                    std::filesystem::path& folder, std::string& error);

// Empties and creates <out>/<name>-seed<seed>, and keeps the scenario file and the seed in it.
// False with a message when it cannot.
bool create_run_folder(const std::filesystem::path& out_dir, const std::string& name, std::uint64_t seed,
                       const std::string& scenario_path, std::filesystem::path& folder, std::string& error);

// Writes the history, the metrics snapshots that were read (a failed scrape writes no file: its reason
// is in run.json) and run.json. The decision log is the simulator's own file.
void save_run(const std::filesystem::path& dir, const StoredRun& run);

// Reads a run folder back; nullopt with "file: reason" when a piece of evidence is missing or
// unreadable (a missing file would read as no requests, zero counters or a drained gateway, and a
// replay would pass a run the live checker failed).
std::optional<StoredRun> load_run(const std::filesystem::path& dir, std::string& error);

// Replaces the folder's history and decision logs by gzip copies (history.jsonl.gz ...), which load_run,
// replay and diff read as they read the plain files. False with a message when one cannot be compressed
// (the files done so far stay compressed, the rest plain: either form reads back).
bool compress_run_folder(const std::filesystem::path& dir, std::string& error);

// The JSON lines of a file, plain or gzip (a missing file has none) (bounded parsing; blank and unparseable lines are skipped).
std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& file);

// The lines of a file that parse as JSON, counted without keeping them (a warm-up offset counts these).
std::size_t count_jsonl(const std::filesystem::path& file);

// Calls `line` for every decision line of a stored run (the warm-up's left out), log by log, with all its
// members: for a reader that needs more than the checker keeps (diff compares whole decisions). False with
// "file: reason" when a log cannot be read to its end.
bool for_each_stored_decision(const std::filesystem::path& dir, const RunRecord& record,
                              const std::function<void(const DecisionRecord&)>& line, std::string& error);

// A decision log's lines after the first `offset` (the warm-up's), read line by line into the compact form.
// `lines_read`, when given, is set to the lines of the file that parse (count_jsonl's count) as this read saw
// them: a log still growing is then parsed once for both its lines and their count.
DecisionLines read_decisions(const std::filesystem::path& file, std::size_t offset, std::size_t* lines_read = nullptr);

}  // namespace rrkit::harness
