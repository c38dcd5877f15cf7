#pragma once
// Prometheus metrics of the simulator (prefix rr_simulator_). Counters are
// thread-safe; the owner (main) keeps this alive longer than the engine.
#include <memory>
#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace rrkit::simulator {

class Metrics {
 public:
  Metrics();
  void request(const std::string& rule);
  void decision(const std::string& what);  // drop, duplicate, reorder, corrupt, missing_id, wrong_id, error, ok, invalid
  void reply(const std::string& kind);
  void delivery_failed() { delivery_failures_->Increment(); }
  void lateness(double seconds) { lateness_->Observe(seconds); }
  void set_in_flight(double v) { in_flight_->Set(v); }
  void set_queue(double v) { queue_->Set(v); }
  void set_paused(bool v) { paused_->Set(v ? 1 : 0); }
  void event(const std::string& what);  // stall, profile
  std::string text() const;

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_;
  prometheus::Family<prometheus::Counter>* decisions_;
  prometheus::Family<prometheus::Counter>* replies_;
  prometheus::Family<prometheus::Counter>* events_;
  prometheus::Counter* delivery_failures_;
  prometheus::Histogram* lateness_;
  prometheus::Gauge* in_flight_;
  prometheus::Gauge* queue_;
  prometheus::Gauge* paused_;
};

}  // namespace rrkit::simulator
