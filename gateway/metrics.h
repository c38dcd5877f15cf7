#pragma once
// rr-gateway's Prometheus metrics: the writer of the contract in common/gateway_metrics.h.
// Owned by the gateway; every method is thread-safe (prometheus-cpp metrics are).
#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "common/gateway_metrics.h"
#include "gateway/pending_table.h"

namespace prometheus {
class Registry;
class Counter;
class Gauge;
class Histogram;
}  // namespace prometheus

namespace rrkit::gateway {

// Outcome of one POST /api/send, the outcome label of the requests counter.
using gateway_metrics::kOutcomeCount;
using gateway_metrics::kReplyClassCount;
using gateway_metrics::Outcome;

class Metrics {
 public:
  Metrics();
  ~Metrics();
  void request(Outcome o, double seconds);
  void reply(ReplyClass c);
  void publish(double seconds);
  // One bulk publish call carrying `entries` requests.
  void bulk_publish(std::size_t entries);
  // A connection closed at once because its listener was at its cap.
  void connection_refused(bool callback_listener);
  double requests(Outcome o) const;
  double replies(ReplyClass c) const;
  // Prometheus text exposition; the gauges are sampled from the table at scrape time.
  std::string render(std::size_t pending, double oldest_pending_seconds, std::size_t client_connections = 0,
                     std::size_t callback_connections = 0);

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  std::array<prometheus::Counter*, kOutcomeCount> requests_{};
  std::array<prometheus::Counter*, kReplyClassCount> replies_{};
  prometheus::Gauge* pending_ = nullptr;
  prometheus::Gauge* oldest_ = nullptr;
  prometheus::Histogram* request_duration_ = nullptr;
  prometheus::Histogram* publish_duration_ = nullptr;
  prometheus::Counter* bulk_calls_ = nullptr;
  prometheus::Counter* bulk_entries_ = nullptr;
  prometheus::Gauge* client_connections_ = nullptr;
  prometheus::Gauge* callback_connections_ = nullptr;
  prometheus::Counter* client_refused_ = nullptr;
  prometheus::Counter* callback_refused_ = nullptr;
};

}  // namespace rrkit::gateway
