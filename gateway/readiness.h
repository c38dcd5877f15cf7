#pragma once
// Readiness: the gateway is ready only when daprd is healthy AND the reply subscription is proven
// live by a self-addressed probe that came back through Kafka and daprd, so that no early reply
// is lost. GET /readyz reports it; the delivery route tells it when one of our probes is back.
// Ownership: one per Gateway; run() lives on its own strand, the flags are read and set from any
// io thread.
#include <atomic>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>
#include <nlohmann/json.hpp>

#include "gateway/dapr_client.h"
#include "gateway/state.h"

namespace rrkit::gateway {

class Readiness {
 public:
  Readiness(State& state, DaprClient& dapr);

  // Keeps the daprd health current and, until a probe of ours is back, keeps publishing probes;
  // returns once the gateway is stopping.
  boost::asio::awaitable<void> run();

  // A probe delivery (ours or another instance's) arrived with this id.
  void probe_seen(std::string_view id);

  bool ready() const;
  // The body of GET /readyz.
  nlohmann::json status() const;

 private:
  State& state_;
  DaprClient& dapr_;
  const std::string own_probe_prefix_;
  std::atomic<bool> dapr_healthy_{false};
  std::atomic<bool> subscription_live_{false};
};

}  // namespace rrkit::gateway
