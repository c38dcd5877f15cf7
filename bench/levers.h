#pragma once
// Dapr levers on path (c), side by side in one run: rr-gateway as it ships, then with one lever on,
// each a fresh gateway + daprd pair on the run's Kafka and rr-simulator, each measured the same way
// (sequential latency at low load, then the open-loop rate ladder with CPU per request).
#include <sys/types.h>

#include <nlohmann/json.hpp>

#include "bench/bench.h"
#include "testkit/stack.h"

namespace rrkit::bench {

// One variant of rr-gateway: a name and the flags that make it.
struct Lever {
  std::string name;
  std::vector<std::string> gateway_args;
};

// The variants measured: "off" (one publish per request, one delivery per reply), "bulk-publish"
// (--publish-bulk-max with the run's count), "bulk-subscribe" (--reply-bulk-subscribe with the run's count and
// await) and "both".
std::vector<Lever> levers(const Config& c);

// Runs every variant in turn; `kafka` and `simulator` are the process groups whose CPU counts too.
// The caller has stopped every other gateway and daprd on the reply topic.
nlohmann::json lever_runs(const Config& c, const stack::Paths& paths, const std::string& brokers, pid_t kafka,
                          pid_t simulator, int& status);

}  // namespace rrkit::bench
