#pragma once
// memory_returns: does a gateway give back the memory of requests that timed out?
// Two halves: a /proc sampler (rss_bytes) that the runner calls after each traffic round, and a pure
// judge (judge_memory) that `rr-harness replay` can run again on stored samples.
//
// The judge looks at the trend, never at the baseline: a correct gateway's RSS also rises on first use
// (allocator retention, caches, the late-reply memory) and then stays. A leak keeps growing round after
// round, in proportion to the requests that timed out.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

#include <nlohmann/json.hpp>

#include "harness/result.h"

namespace rrkit::harness {

enum class ProcErrc { none, no_such_process, unreadable, no_vmrss };
const char* to_string(ProcErrc e);

// The resident set of one process and all its descendants, or why it could not be read.
struct RssReading {
  std::uint64_t bytes = 0;
  ProcErrc errc = ProcErrc::none;
  std::string detail;  // for an error: what was tried ("/proc/123/status: no such process")
  int processes = 0;   // how many processes were summed
  bool ok() const { return errc == ProcErrc::none; }
};

// VmRSS of pid plus that of every descendant (a SUT started through a shell or an npm wrapper has the real
// server as a child or grandchild), found by walking <proc_root>/*/stat for parent ids. A descendant that
// exits during the walk is skipped; pid itself unreadable, or without VmRSS (a zombie), is an error.
// proc_root is a parameter so tests can hand it a made-up tree.
RssReading rss_bytes(pid_t pid, const std::string& proc_root = "/proc");

// This process's peak resident set (VmHWM of <proc_root>/self/status); nullopt when it cannot be read.
std::optional<std::uint64_t> own_peak_rss_bytes(const std::string& proc_root = "/proc");

// One sample, taken before the traffic (round 0) or after round k's traffic and settle wait (round k).
struct MemorySample {
  int round = 0;
  std::uint64_t requests_so_far = 0;
  std::uint64_t timed_out_so_far = 0;
  std::vector<RssReading> rss;     // per gateway instance launched by the harness (index = gateway)
  std::optional<double> pending;   // the SUT's pending gauge summed over instances, when it names one
  std::string pending_error;       // the SUT names a pending gauge but it could not be read
};

struct MemoryJudgeConfig {
  // A leak is flagged only when RSS grows by more than this per timed-out request after the warm-up...
  double max_bytes_per_timed_out = 200;
  // ...and by more than this in all after the warm-up: a correct gateway's RSS still wanders by a few
  // MB between samples (rr-gateway went 13.7 → 17.2 MB in its second soak).
  double noise_floor_bytes = 16.0 * 1024 * 1024;
  // The traffic rounds that are the warm-up: the trend is judged from the sample after the last of them.
  // A garbage-collected runtime may still be sizing its heap in the second round (node-gateway: +26.2,
  // +2.3, +1.4 MiB after rounds 2, 3, 4 of 20,000), so one round is not always enough.
  int warmup_rounds = 1;
};

struct MemoryFigures {
  int rounds = 0;                         // traffic rounds sampled (round 0 not counted)
  int warmup_rounds = 1;                  // of which the warm-up: W = MemoryJudgeConfig::warmup_rounds
  double warmup_growth_bytes = 0;         // RSS growth up to the end of round W (from round 0 if sampled)
  double growth_bytes = 0;                // RSS at the last round less RSS after round W
  std::uint64_t timed_out = 0;            // timed-out requests in rounds W+1..N
  double bytes_per_timed_out = 0;         // least-squares slope of RSS over timed-out requests, rounds W..N
  bool grew_every_round = false;          // RSS rose in every round after round W
  std::vector<double> round_growth_bytes; // growth of each round after round W
  // The lowest sample of the later half of the rounds less the highest of the earlier half (the middle
  // round of an odd count in neither), and that rise per request timed out between the two halves: a
  // leak whose RSS dips once (a garbage collector giving pages back) still rose to stay.
  double level_rise_bytes = 0;
  double level_rise_per_timed_out = 0;
  bool rose_to_stay = false;              // level_rise_per_timed_out above max_bytes_per_timed_out
};

struct MemoryVerdict {
  CheckState state = CheckState::not_applicable;
  std::string detail;
  MemoryFigures figures;
};

// Judges RSS summed over the instances (a leak in one instance of two shows as half the slope per request of
// the run, which is still far above noise for any leak worth flagging). Rounds 1..W are the warm-up and
// the trend is judged over the samples after rounds W..N. Not enough data - fewer than two such samples, an
// unreadable sample, no timed-out request after the warm-up - is not_applicable with the reason,
// never a pass. A pending gauge that is not back to 0 after a round's settle fails on its own.
MemoryVerdict judge_memory(const std::vector<MemorySample>& samples, const MemoryJudgeConfig& config = {});

// The samples as stored in run.json, and read back for replay (nullopt on a malformed value).
nlohmann::json to_json(const MemorySample& s);
std::optional<MemorySample> memory_sample_from_json(const nlohmann::json& j);

}  // namespace rrkit::harness
