#pragma once
// The names of a run folder's files (the folder itself: harness/run_folder.h). Apart from this header,
// only the components' own logs are named elsewhere (<component>.log, by the stack launcher).
#include <cstddef>
#include <string>

namespace rrkit::harness {

// The files of a run folder. Besides these, every component writes its log here (<component>.log).
namespace run_files {
inline constexpr const char* kScenario = "scenario.yaml";          // the scenario file as it was run
inline constexpr const char* kSeed = "seed";                       // the seed, one line
inline constexpr const char* kRunJson = "run.json";                // RunRecord
// history.jsonl and the decision logs may be stored gzipped (<name>.gz, `run --compress`); readers take both.
inline constexpr const char* kHistory = "history.jsonl";           // one RequestRecord per line (a verified 200 without its answer body)
inline constexpr const char* kDecisions = "decisions.jsonl";       // the simulator's decision log (it writes it)
inline constexpr const char* kProfile = "profile.yaml";            // the simulator's starting fault profile
inline constexpr const char* kSimulatorLog = "simulator.log";
inline constexpr const char* kSimulatorStats = "simulator-stats.json";  // the simulator's /stats at the end
inline constexpr const char* kUpJson = "up.json";                  // `rr-harness up`: where everything listens
// A gateway's final /metrics and its /metrics after the warm-up (gateway 0-based; the file names count from 1).
std::string metrics(std::size_t gateway);
std::string baseline(std::size_t gateway);
}  // namespace run_files

}  // namespace rrkit::harness
