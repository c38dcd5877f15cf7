#include "gateway/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <sstream>

namespace rrkit::gateway {

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::timeout: return "timeout";
    case Outcome::bad_request: return "bad_request";
    case Outcome::too_large: return "too_large";
    case Outcome::unsupported_media: return "unsupported_media";
    case Outcome::overloaded: return "overloaded";
    case Outcome::publish_failed: return "publish_failed";
    case Outcome::client_gone: return "client_gone";
    case Outcome::shutdown: return "shutdown";
  }
  return "?";
}

namespace {
// From 1 ms to about 65 s: covers an immediate replier up to --max-timeout.
prometheus::Histogram::BucketBoundaries latency_buckets() {
  return {0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}
}  // namespace

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  auto& req = prometheus::BuildCounter()
                  .Name("rr_gateway_requests_total")
                  .Help("POST /api/send requests by outcome")
                  .Register(*registry_);
  for (std::size_t i = 0; i < kOutcomeCount; ++i) {
    requests_[i] = &req.Add({{"outcome", std::string(to_string(static_cast<Outcome>(i)))}});
  }
  auto& rep = prometheus::BuildCounter()
                  .Name("rr_gateway_replies_total")
                  .Help("deliveries on the reply route by class")
                  .Register(*registry_);
  for (std::size_t i = 0; i < kReplyClassCount; ++i) {
    replies_[i] = &rep.Add({{"class", std::string(to_string(static_cast<ReplyClass>(i)))}});
  }
  pending_ = &prometheus::BuildGauge()
                  .Name("rr_gateway_pending")
                  .Help("requests waiting for their reply")
                  .Register(*registry_)
                  .Add({});
  oldest_ = &prometheus::BuildGauge()
                 .Name("rr_gateway_oldest_pending_seconds")
                 .Help("age of the oldest waiting request")
                 .Register(*registry_)
                 .Add({});
  request_duration_ = &prometheus::BuildHistogram()
                           .Name("rr_gateway_request_duration_seconds")
                           .Help("POST /api/send latency, from request read to answer")
                           .Register(*registry_)
                           .Add({}, latency_buckets());
  publish_duration_ = &prometheus::BuildHistogram()
                           .Name("rr_gateway_publish_duration_seconds")
                           .Help("latency of the publish call to daprd")
                           .Register(*registry_)
                           .Add({}, latency_buckets());
  auto& conns = prometheus::BuildGauge()
                    .Name("rr_gateway_connections")
                    .Help("open connections by listener (a shared listener counts as client)")
                    .Register(*registry_);
  client_connections_ = &conns.Add({{"listener", "client"}});
  callback_connections_ = &conns.Add({{"listener", "callback"}});
  auto& refused = prometheus::BuildCounter()
                      .Name("rr_gateway_connections_refused_total")
                      .Help("connections closed at once because their listener was at its cap")
                      .Register(*registry_);
  client_refused_ = &refused.Add({{"listener", "client"}});
  callback_refused_ = &refused.Add({{"listener", "callback"}});
}

Metrics::~Metrics() = default;

void Metrics::request(Outcome o, double seconds) {
  requests_[static_cast<std::size_t>(o)]->Increment();
  request_duration_->Observe(seconds);
}

void Metrics::reply(ReplyClass c) { replies_[static_cast<std::size_t>(c)]->Increment(); }
void Metrics::publish(double seconds) { publish_duration_->Observe(seconds); }
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
