#include "gateway/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace rrkit::gateway {

namespace gm = gateway_metrics;

namespace {
// From 1 ms to about 65 s: covers an immediate replier up to --max-timeout.
prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}
}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& req = prometheus::BuildCounter()
                  .Name(gm::kRequests)
                  .Help("POST /api/send requests by outcome")
                  .Register(*registry_);
  for (std::size_t i = 0; i < kOutcomeCount; ++i) {
    requests_[i] = &req.Add({{gm::kOutcomeLabel, std::string(to_string(gm::kOutcomes[i]))}});
  }
  auto& rep = prometheus::BuildCounter()
                  .Name(gm::kReplies)
                  .Help("deliveries on the reply route by class")
                  .Register(*registry_);
  for (std::size_t i = 0; i < kReplyClassCount; ++i) {
    replies_[i] = &rep.Add({{gm::kClassLabel, std::string(to_string(gm::kReplyClasses[i]))}});
  }
  pending_ = &prometheus::BuildGauge()
                  .Name(gm::kPending)
                  .Help("requests waiting for their reply")
                  .Register(*registry_)
                  .Add({});
  oldest_ = &prometheus::BuildGauge()
                 .Name(gm::kOldestPending)
                 .Help("age of the oldest waiting request")
                 .Register(*registry_)
                 .Add({});
  request_duration_ = &prometheus::BuildHistogram()
                           .Name(gm::kRequestDuration)
                           .Help("POST /api/send latency, from request read to answer")
                           .Register(*registry_)
                           .Add({}, latency_buckets());
  publish_duration_ = &prometheus::BuildHistogram()
                           .Name(gm::kPublishDuration)
                           .Help("latency of the publish call to daprd")
                           .Register(*registry_)
                           .Add({}, latency_buckets());
  bulk_calls_ = &prometheus::BuildCounter()
                     .Name(gm::kBulkPublishCalls)
                     .Help("bulk publish calls to daprd (--publish-bulk-max)")
                     .Register(*registry_)
                     .Add({});
  bulk_entries_ = &prometheus::BuildCounter()
                       .Name(gm::kBulkPublishEntries)
                       .Help("requests carried by bulk publish calls")
                       .Register(*registry_)
                       .Add({});
  auto& conns = prometheus::BuildGauge()
                    .Name(gm::kConnections)
                    .Help("open connections by listener (a shared listener counts as client)")
                    .Register(*registry_);
  client_connections_ = &conns.Add({{gm::kListenerLabel, gm::kClientListener}});
  callback_connections_ = &conns.Add({{gm::kListenerLabel, gm::kCallbackListener}});
  auto& refused = prometheus::BuildCounter()
                      .Name(gm::kConnectionsRefused)
                      .Help("connections closed at once because their listener was at its cap")
                      .Register(*registry_);
  client_refused_ = &refused.Add({{gm::kListenerLabel, gm::kClientListener}});
  callback_refused_ = &refused.Add({{gm::kListenerLabel, gm::kCallbackListener}});
}

Metrics::~Metrics() = default;

void Metrics::request(Outcome o, double seconds) {
  requests_[static_cast<std::size_t>(o)]->Increment();
  request_duration_->Observe(seconds);
}

void Metrics::reply(ReplyClass c) { replies_[static_cast<std::size_t>(c)]->Increment(); }
void Metrics::publish(double seconds) { publish_duration_->Observe(seconds); }
void Metrics::bulk_publish(std::size_t entries) {
  bulk_calls_->Increment();
  bulk_entries_->Increment(static_cast<double>(entries));
}
void Metrics::connection_refused(bool callback_listener) {
  (callback_listener ? callback_refused_ : client_refused_)->Increment();
}
double Metrics::requests(Outcome o) const { return requests_[static_cast<std::size_t>(o)]->Value(); }
double Metrics::replies(ReplyClass c) const { return replies_[static_cast<std::size_t>(c)]->Value(); }

std::string Metrics::render(std::size_t pending, double oldest_pending_seconds, std::size_t client_connections,
                            std::size_t callback_connections) {
  pending_->Set(static_cast<double>(pending));
  client_connections_->Set(static_cast<double>(client_connections));
  callback_connections_->Set(static_cast<double>(callback_connections));
  oldest_->Set(oldest_pending_seconds);
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace rrkit::gateway
