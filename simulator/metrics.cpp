#include "simulator/metrics.h"

#include <prometheus/text_serializer.h>

namespace rrkit::simulator {

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  using namespace prometheus;
  requests_ = &BuildCounter().Name("rr_simulator_requests_total").Help("Requests consumed, by matched rule").Register(*registry_);
  decisions_ = &BuildCounter().Name("rr_simulator_decisions_total").Help("Requests by decided fault").Register(*registry_);
  replies_ = &BuildCounter().Name("rr_simulator_replies_total").Help("Replies produced, by kind").Register(*registry_);
  events_ = &BuildCounter().Name("rr_simulator_events_total").Help("Stalls and profile changes").Register(*registry_);
  delivery_failures_ = &BuildCounter()
                            .Name("rr_simulator_delivery_failures_total")
                            .Help("Replies Kafka did not accept")
                            .Register(*registry_)
                            .Add({});
  lateness_ = &BuildHistogram()
                   .Name("rr_simulator_reply_lateness_seconds")
                   .Help("Actual minus planned send time of a reply")
                   .Register(*registry_)
                   .Add({}, Histogram::BucketBoundaries{0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1});
  in_flight_ = &BuildGauge().Name("rr_simulator_in_flight").Help("Requests not yet fully answered").Register(*registry_).Add({});
  queue_ = &BuildGauge().Name("rr_simulator_queue_depth").Help("Requests waiting for a worker").Register(*registry_).Add({});
  paused_ = &BuildGauge().Name("rr_simulator_paused").Help("1 while consumption is paused").Register(*registry_).Add({});
}

void Metrics::request(const std::string& rule) { requests_->Add({{"rule", rule}}).Increment(); }
void Metrics::decision(const std::string& what) { decisions_->Add({{"decision", what}}).Increment(); }
void Metrics::reply(const std::string& kind) { replies_->Add({{"kind", kind}}).Increment(); }
void Metrics::event(const std::string& what) { events_->Add({{"event", what}}).Increment(); }

std::string Metrics::text() const { return prometheus::TextSerializer().Serialize(registry_->Collect()); }

}  // namespace rrkit::simulator
