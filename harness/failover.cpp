#include "harness/failover.h"

#include <algorithm>

#include "harness/checker.h"

namespace rrkit::harness {

namespace {

double ms(std::int64_t us) { return static_cast<double>(us) / 1000.0; }

// A scripted disconnect is the client's own doing, and a request the run never finished says nothing
// about the service: neither is a failure of it.
bool judged(const RequestRecord& r) {
  return r.outcome != Outcome::disconnected && r.outcome != Outcome::interrupted && r.outcome != Outcome::not_sent &&
         r.outcome != Outcome::none;
}

double p99_or_none(std::vector<double>& v) { return v.empty() ? -1.0 : percentile(v, 99); }

}  // namespace

FailoverCost failover_cost(const FailoverInput& in) {
  FailoverCost out;
  out.recovery_window_ms = ms(in.recovery_window_us);
  if (in.duplicate_replies) {
    out.duplicates_read = true;
    out.duplicate_replies = *in.duplicate_replies;
  }
  if (in.fault_at.empty() || in.requests == nullptr) return out;
  out.applies = true;
  // A record without a start time (an older run folder) counts from its first request.
  std::int64_t origin = in.started_us;
  if (origin == 0) {
    for (const auto& r : *in.requests) origin = origin == 0 ? r.intended_us : std::min(origin, r.intended_us);
  }
  const auto [first, last] = std::minmax_element(in.fault_at.begin(), in.fault_at.end());
  const std::int64_t start = origin + first->count();
  const std::int64_t end = origin + last->count() + in.request_timeout_us;
  out.window_start_ms = ms(start - origin);
  out.window_end_ms = ms(end - origin);

  std::vector<const RequestRecord*> sent;  // judged requests, by send time
  for (const auto& r : *in.requests) {
    if (judged(r)) sent.push_back(&r);
  }
  std::stable_sort(sent.begin(), sent.end(),
                   [](const RequestRecord* a, const RequestRecord* b) { return a->intended_us < b->intended_us; });

  std::vector<double> before, during, after;
  std::vector<std::int64_t> ok_done;  // answer times of 200s from the window's start on
  std::int64_t last_done = start;
  for (const RequestRecord* r : sent) {
    // A request still in flight when the first fault struck is hurt by it as much as one sent during it.
    const bool in_flight_at_start = r->intended_us < start && (r->done_us == 0 || r->done_us >= start);
    const bool in_window = (r->intended_us >= start && r->intended_us <= end) || in_flight_at_start;
    if (in_window) {
      ++out.requests_in_window;
      if (r->outcome != Outcome::ok) ++out.failed_in_window;
      if (r->outcome == Outcome::timeout || r->outcome == Outcome::no_answer) ++out.timed_out_in_window;
    }
    if (r->http_status > 0 && r->done_us > 0) {
      auto& phase = in_window ? during : r->intended_us < start ? before : after;
      phase.push_back(r->latency_ms());
    }
    if (r->done_us > 0) last_done = std::max(last_done, r->done_us);
    if (r->outcome == Outcome::ok && r->done_us >= start) ok_done.push_back(r->done_us);
  }
  out.p99_before_ms = p99_or_none(before);
  out.p99_during_ms = p99_or_none(during);
  out.p99_after_ms = p99_or_none(after);

  // The gap runs from the window's start to the first 200, between 200s, and from the last 200 to the
  // last answer of any kind (a service that never answered 200 again was down until the run ended).
  std::sort(ok_done.begin(), ok_done.end());
  std::int64_t prev = start, gap = 0;
  for (const std::int64_t t : ok_done) {
    gap = std::max(gap, t - prev);
    prev = t;
  }
  gap = std::max(gap, last_done - prev);
  out.longest_gap_ms = ms(gap);

  // Service is back at the first request sent after the fault began from which a whole recovery window
  // of sent requests is served: answered 200 within the window's length (a 200 that waited out a
  // rebalance is no service yet). A window cut short by the end of the traffic proves nothing.
  const auto served = [&](const RequestRecord* r) {
    return r->outcome == Outcome::ok && r->done_us - r->intended_us <= in.recovery_window_us;
  };
  const std::int64_t traffic_end = sent.empty() ? start : sent.back()->intended_us;
  for (std::size_t i = 0; i < sent.size(); ++i) {
    const std::int64_t t = sent[i]->intended_us;
    if (t < start) continue;
    if (t + in.recovery_window_us > traffic_end) break;
    bool all_ok = true;
    for (std::size_t k = i; k < sent.size() && sent[k]->intended_us < t + in.recovery_window_us; ++k) {
      if (!served(sent[k])) {
        all_ok = false;
        i = k;  // every window starting before the failure holds it too
        break;
      }
    }
    if (all_ok) {
      out.recovery_ms = ms(t - start);
      break;
    }
  }
  return out;
}

}  // namespace rrkit::harness
