#include "bench/floor_grpc.h"

#ifdef RRKIT_BENCH_GRPC
#include <grpcpp/grpcpp.h>

#include "dapr_publish.grpc.pb.h"
#endif

namespace rrkit::bench {

#ifdef RRKIT_BENCH_GRPC

namespace {

namespace v1 = dapr::proto::runtime::v1;

class Channel final : public GrpcPublisher {
 public:
  explicit Channel(std::uint16_t port)
      : stub_(v1::Dapr::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                    grpc::InsecureChannelCredentials()))) {}

  bool publish(const std::string& pubsub, const std::string& topic, const std::string& data,
               const std::vector<std::pair<std::string, std::string>>& metadata, std::chrono::milliseconds timeout,
               std::string& error) override {
    v1::PublishEventRequest req;
    req.set_pubsub_name(pubsub);
    req.set_topic(topic);
    req.set_data(data);
    req.set_data_content_type("application/json");
    // gRPC metadata keys carry no "metadata." prefix (that is the HTTP API's query syntax).
    for (const auto& [k, v] : metadata) (*req.mutable_metadata())[k] = v;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + timeout);
    google::protobuf::Empty reply;
    const grpc::Status status = stub_->PublishEvent(&ctx, req, &reply);
    if (status.ok()) return true;
    error = "PublishEvent: gRPC status " + std::to_string(static_cast<int>(status.error_code())) + " " +
            status.error_message();
    return false;
  }

 private:
  std::unique_ptr<v1::Dapr::Stub> stub_;
};

}  // namespace

bool grpc_floor_built() { return true; }

std::unique_ptr<GrpcPublisher> GrpcPublisher::connect(std::uint16_t port, std::string& /*error*/) {
  return std::make_unique<Channel>(port);
}

#else

bool grpc_floor_built() { return false; }

std::unique_ptr<GrpcPublisher> GrpcPublisher::connect(std::uint16_t, std::string& error) {
  error = "rr-bench was built without gRPC (RR_BENCH_GRPC=1 bench/run.sh, or -DRRKIT_BENCH_GRPC=ON)";
  return nullptr;
}

#endif

}  // namespace rrkit::bench
