#pragma once
// Path (b) over gRPC: daprd's PublishEvent (dapr.proto.runtime.v1.Dapr) on one channel, the best
// client daprd can have besides kept-alive HTTP. Built only with -DRRKIT_BENCH_GRPC=ON (gRPC and
// protobuf for C++, which bench/run.sh installs when RR_BENCH_GRPC=1); otherwise connect() says so.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace rrkit::bench {

// Whether this rr-bench has the gRPC floor (compiled with -DRRKIT_BENCH_GRPC=ON).
bool grpc_floor_built();

class GrpcPublisher {
 public:
  virtual ~GrpcPublisher() = default;
  // One PublishEvent; false with the gRPC status in `error` when daprd refused it or did not answer.
  virtual bool publish(const std::string& pubsub, const std::string& topic, const std::string& data,
                       const std::vector<std::pair<std::string, std::string>>& metadata,
                       std::chrono::milliseconds timeout, std::string& error) = 0;

  // A channel to daprd's gRPC port on 127.0.0.1; null with `error` when rr-bench was built without gRPC.
  static std::unique_ptr<GrpcPublisher> connect(std::uint16_t port, std::string& error);
};

}  // namespace rrkit::bench
