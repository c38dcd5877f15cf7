#include "gateway/pending_table.h"

namespace rrkit::gateway {

std::string_view to_string(Finish f) {
  switch (f) {
    case Finish::replied: return "replied";
    case Finish::timed_out: return "timed_out";
    case Finish::client_gone: return "client_gone";
    case Finish::publish_failed: return "publish_failed";
    case Finish::shutdown: return "shutdown";
  }
  return "?";
}

PendingTable::Insert PendingTable::insert(const CorrelationId& id, Clock::time_point now, Notify notify) {
  std::lock_guard lock(mutex_);
  if (closed_) return Insert::closed;
  if (pending_.size() >= limits_.max_pending) return Insert::full;
  if (finished_.contains(id)) return Insert::duplicate_id;
  const auto [it, fresh] = pending_.try_emplace(id, Pending{now, std::move(notify)});
  return fresh ? Insert::inserted : Insert::duplicate_id;
}

bool PendingTable::finish(const CorrelationId& id, Finish how, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  const auto it = pending_.find(id);
  if (it == pending_.end()) return false;
  pending_.erase(it);
  remember(id, how == Finish::replied, now);
  return true;
}

PendingTable::Classified PendingTable::classify_reply(const CorrelationId& id, Clock::time_point now) {
  std::lock_guard lock(mutex_);
  evict(now);
  if (const auto it = pending_.find(id); it != pending_.end()) {
    Classified out{ReplyClass::matched, std::move(it->second.notify)};
    pending_.erase(it);
    remember(id, true, now);
    return out;
  }
  const auto f = finished_.find(id);
  if (f == finished_.end()) return {ReplyClass::unknown, {}};
  if (f->second.answered_by_reply || f->second.late_seen) return {ReplyClass::duplicate, {}};
  // The first reply after the client stopped waiting is late; any further copy is a duplicate.
  f->second.late_seen = true;
  return {ReplyClass::late, {}};
}

std::vector<PendingTable::Notify> PendingTable::close(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  closed_ = true;
  std::vector<Notify> out;
  out.reserve(pending_.size());
  for (auto& [id, p] : pending_) {
    out.push_back(std::move(p.notify));
    remember(id, false, now);
  }
  pending_.clear();
  return out;
}

std::size_t PendingTable::size() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

std::size_t PendingTable::remembered() const {
  std::lock_guard lock(mutex_);
  return finished_.size();
}

Clock::duration PendingTable::oldest_age(Clock::time_point now) const {
  std::lock_guard lock(mutex_);
  // A linear scan at scrape time is cheaper overall than keeping a second ordered index
  // updated on every request (max-pending bounds the scan).
  Clock::duration oldest{0};
  for (const auto& [id, p] : pending_) oldest = std::max(oldest, now - p.started);
  return oldest;
}

void PendingTable::remember(const CorrelationId& id, bool answered, Clock::time_point now) {
  if (limits_.late_window_max == 0 || limits_.late_window.count() <= 0) return;
  const auto [it, fresh] = finished_.try_emplace(id, Finished{now, answered, false});
  if (fresh) {
    finished_order_.emplace_back(now, id);
  } else {
    it->second = Finished{now, answered, false};  // insert() refuses a remembered id: not expected
  }
  evict(now);
}

void PendingTable::evict(Clock::time_point now) {
  while (!finished_order_.empty() &&
         (finished_order_.size() > limits_.late_window_max || finished_order_.front().first + limits_.late_window <= now)) {
    finished_.erase(finished_order_.front().second);
    finished_order_.pop_front();
  }
}

}  // namespace rrkit::gateway
