#pragma once
// The two floors rr-gateway is compared with, over the same Kafka broker:
//   (a) raw librdkafka ping-pong: produce a request, a replier thread answers, consume the reply;
//   (b) the Dapr floor: publish through daprd's HTTP API over a kept-alive connection (as rr-gateway
//       does), rr-simulator answers, daprd delivers the reply to a subscription on this process's own
//       HTTP endpoint. No rr-gateway involved.
// Both send one request at a time and time it from just before the send to the reply's arrival.
#include <filesystem>
#include <string>

#include "bench/measure.h"
#include "testkit/stack.h"

namespace rrkit::bench {

struct FloorResult {
  Percentiles latency;
  std::vector<double> samples_ms;  // every answered request's round trip, from which latency was taken
  std::uint64_t lost = 0;  // requests whose reply did not come within 5 s
  std::string notes;       // how it was measured, for the results file
};

// Path (a). Uses topics bench.a.requests / bench.a.replies (1 partition each), linger.ms=0 both ways.
bool kafka_pingpong(const std::string& brokers, int requests, FloorResult& out, std::string& error);

// How path (b) publishes: daprd's HTTP API on a kept-alive connection, or its gRPC PublishEvent
// (only when rr-bench was built with -DRRKIT_BENCH_GRPC=ON; otherwise an error saying so).
enum class DaprTransport { http, grpc };

// Path (b). Starts its own daprd (app id bench-dapr-floor, or bench-dapr-floor-grpc) and rr-simulator on
// topics bench.b.requests / bench.b.replies, both stopped before returning. Logs go to run_dir.
bool dapr_pingpong(const stack::Paths& paths, const std::filesystem::path& run_dir, const std::string& brokers,
                   int requests, FloorResult& out, std::string& error, DaprTransport transport = DaprTransport::http);

}  // namespace rrkit::bench
