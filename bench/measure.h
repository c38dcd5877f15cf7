#pragma once
// Small measuring helpers for rr-bench: percentiles over samples, and what /proc says about a
// process group (CPU time, resident memory). Plain functions; no state.
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/result.h"

namespace rrkit::bench {

struct Percentiles {
  std::uint64_t count = 0;
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, min = 0, max = 0, mean = 0;  // milliseconds
  nlohmann::json to_json() const;
};

// Nearest-rank percentiles; an empty sample gives count 0 and zeros.
Percentiles percentiles(std::vector<double> samples_ms);

// Latency (from the intended send time) of the requests answered 200.
Percentiles ok_latency(const std::vector<harness::RequestRecord>& records);
std::vector<double> ok_latencies_ms(const std::vector<harness::RequestRecord>& records);

// utime + stime in seconds of every process in the process group `pgid` (a stack child and
// whatever it started, e.g. a JVM behind a launcher). 0 when none is found.
double group_cpu_seconds(pid_t pgid);

// VmRSS of one process in kB, -1 when unknown.
long rss_kb(pid_t pid);

// The memory of one process and of the kernel's sockets at one moment, for the figure per waiting
// request: VmRSS (/proc/PID/status), smaps_rollup's Rss / Pss / Anonymous / Private_Dirty (kB),
// the process's open descriptors, and /proc/net/sockstat's TCP line (sockets in use, orphans,
// and `mem`, the pages of every TCP socket's buffers on the machine: shared by all processes).
nlohmann::json memory_sample(pid_t pid);

// Total RSS in kB over the process group (node, daprd: one process each today).
long group_rss_kb(pid_t pgid);

// "2 cores (Intel ...), 23 GiB, Linux 6.1.0": for the results header.
std::string machine_description();
// /proc/loadavg's first three figures ("1.52 0.98 0.61"): how busy the machine was besides the run.
std::string load_average();

// Current UTC time as ISO-8601.
std::string utc_now_iso();

}  // namespace rrkit::bench
