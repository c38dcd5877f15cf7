#include "gateway/read_reaper.h"

#include <algorithm>

namespace rrkit::gateway {

void ReadReaper::detach() {
  ++generation_;  // a wait still queued finds itself stale
  armed_ = false;
  timer_.reset();
}

void ReadReaper::link(Entry& e, Clock::duration timeout) {
  auto lane = std::find_if(lanes_.begin(), lanes_.end(), [&](const Lane& l) { return l.timeout == timeout; });
  if (lane == lanes_.end()) lane = lanes_.insert(lanes_.end(), Lane{timeout});
  e.deadline = Clock::now() + timeout;
  e.lane = &*lane;
  e.prev = lane->back;
  e.next = nullptr;
  (lane->back != nullptr ? lane->back->next : lane->front) = &e;
  lane->back = &e;
  ++waiting_;
  if (timer_ && (!armed_ || e.deadline < armed_for_)) arm(e.deadline);
}

void ReadReaper::unlink(Entry& e) {
  if (e.lane == nullptr) return;
  (e.prev != nullptr ? e.prev->next : e.lane->front) = e.next;
  (e.next != nullptr ? e.next->prev : e.lane->back) = e.prev;
  e.lane = nullptr;
  e.prev = e.next = nullptr;
  --waiting_;
}

void ReadReaper::arm(Clock::time_point when) {
  armed_ = true;
  armed_for_ = when;
  ++arms_;
  const std::uint64_t generation = ++generation_;
  timer_->expires_at(when);  // cancels an earlier wait, whose handler then finds an old generation
  timer_->async_wait([this, generation](const boost::system::error_code& ec) {
    if (generation != generation_) return;
    armed_ = false;
    if (!ec) fired();
  });
}

void ReadReaper::fired() {
  const Clock::time_point now = Clock::now();
  std::optional<Clock::time_point> next;
  for (Lane& lane : lanes_) {
    while (lane.front != nullptr && lane.front->deadline <= now) {
      Entry& e = *lane.front;
      unlink(e);
      e.expired = true;
      boost::system::error_code ignored;
      e.socket.cancel(ignored);  // the read completes with operation_aborted, reported as a timeout
    }
    if (lane.front != nullptr && (!next || lane.front->deadline < *next)) next = lane.front->deadline;
  }
  if (next && timer_) arm(*next);
}

}  // namespace rrkit::gateway
