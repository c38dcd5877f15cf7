#include "gateway/readiness.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "common/ids.h"
#include "gateway/delivery.h"

namespace rrkit::gateway {

namespace asio = boost::asio;
using namespace std::chrono_literals;

Readiness::Readiness(State& state, DaprClient& dapr)
    : state_(state), dapr_(dapr), own_probe_prefix_(probe_prefix(state.cfg.instance_id)) {}

asio::awaitable<void> Readiness::run() {
  const Config& cfg = state_.cfg;
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!state_.stopping) {
    const DaprResult health = co_await dapr_.healthz(Clock::now() + 1s);
    const bool healthy = health.ok();
    if (healthy != dapr_healthy_.exchange(healthy)) {
      log::info(state_.logger, healthy ? "daprd healthy" : "daprd unhealthy",
                {{"status", health.status}, {"error", health.error}});
    }
    if (!healthy) {
      if (subscription_live_.exchange(false)) log::warn(state_.logger, "reply subscription no longer proven");
    } else if (!subscription_live_) {
      const std::string probe_id = own_probe_prefix_ + new_uuid_v4();
      const nlohmann::json probe = {{cfg.id_field, probe_id}, {"rrkitProbe", true}};
      // Built by emplace_back: g++ 12 miscompiles an initializer list of strings inside a coroutine.
      PublishMetadata metadata;
      metadata.emplace_back("partitionKey", probe_id);
      const auto r = co_await dapr_.publish(cfg.pubsub, cfg.subscribed_reply_topic(), probe.dump(), metadata,
                                            Clock::now() + 2s);
      log::debug(state_.logger, "probe published", {{"cid", probe_id}, {"ok", r.ok()}, {"status", r.status}});
    }
    timer.expires_after(subscription_live_ ? 1s : 250ms);
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  }
}

void Readiness::probe_seen(std::string_view id) {
  // Another instance's probe proves nothing about our own subscription.
  if (id.rfind(own_probe_prefix_, 0) == 0 && !subscription_live_.exchange(true)) {
    log::info(state_.logger, "reply subscription live", {{"cid", id}, {"topic", state_.cfg.subscribed_reply_topic()}});
  }
}

bool Readiness::ready() const { return dapr_healthy_.load() && subscription_live_.load() && !state_.stopping; }

nlohmann::json Readiness::status() const {
  const bool healthy = dapr_healthy_.load();
  const bool live = subscription_live_.load();
  const bool stopping = state_.stopping.load();
  return {{"ready", healthy && live && !stopping}, {"daprHealthy", healthy}, {"subscriptionLive", live}, {"stopping", stopping}};
}

}  // namespace rrkit::gateway
