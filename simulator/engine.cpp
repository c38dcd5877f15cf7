#include "simulator/engine.h"

#include <algorithm>


namespace rrkit::simulator {

using namespace std::chrono_literals;

namespace {

DecisionRecord record(DecisionLineType type) {
  DecisionRecord r;
  r.type = type;
  r.ts_us = now_us();
  return r;
}
}  // namespace

Engine::Engine(std::shared_ptr<const Profile> profile, std::uint64_t seed, DecisionLog& decisions, ReplySink& sink,
               Metrics& metrics, log::Logger logger, CrashHandler on_crash)
    : profile_(std::move(profile)),
      seed_(seed),
      decisions_(decisions),
      sink_(sink),
      metrics_(metrics),
      logger_(std::move(logger)),
      on_crash_(std::move(on_crash)) {
  std::lock_guard lock(mutex_);
  check_stall_locked(Clock::now());
}

Engine::~Engine() { stop(); }

void Engine::start() {
  std::lock_guard lock(mutex_);
  if (thread_.joinable()) return;
  stopping_ = false;
  thread_ = std::thread([this] { run(); });
}

void Engine::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Engine::push(Event e) {
  e.order = event_order_++;
  events_.push(std::move(e));
  wake_.notify_all();
}

void Engine::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (events_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto now = Clock::now();
    if (events_.top().at > now) {
      // A copy: wait_until keeps its argument by reference while the lock is released, and a push
      // from another thread may reallocate the queue under it.
      const auto due = events_.top().at;
      wake_.wait_until(lock, due);
      continue;
    }
    Event ev = events_.top();
    events_.pop();
    switch (ev.kind) {
      case EventKind::service_done: service_done(ev.entry, now); break;
      case EventKind::emit: emit(ev.entry, ev.copy, ev.planned_us, now); break;
      case EventKind::reorder_flush: {
        auto it = hold_.find(ev.bucket);
        if (it != hold_.end() && it->second.epoch == ev.epoch && !it->second.items.empty()) {
          if (stalled_locked(now)) {
            ev.at = *stall_until_;
            push(ev);
          } else {
            flush_hold(ev.bucket);
          }
        }
        break;
      }
      case EventKind::stall_end:
        if (stall_until_ && now >= *stall_until_) {
          stall_until_.reset();
          DecisionRecord line = record(DecisionLineType::stall);
          line.phase = "end";
          decisions_.write(line);
          log::info(logger_, "stall ended");
        }
        break;
    }
  }
}

void Engine::check_stall_locked(Clock::time_point now) {
  if (stall_fired_ || !profile_->stall || consumed_since_profile_ < profile_->stall->after) return;
  stall_fired_ = true;
  const auto d = profile_->stall->duration;
  stall_until_ = now + d;
  ++counts_["stalls"];
  metrics_.event("stall");
  DecisionRecord line = record(DecisionLineType::stall);
  line.phase = "start";
  line.after = profile_->stall->after;
  line.for_us = d.count();
  line.until_us = now_us() + d.count();
  decisions_.write(line);
  log::warn(logger_, "stall started", {{"for_us", d.count()}});
  Event e;
  e.at = *stall_until_;
  e.kind = EventKind::stall_end;
  push(e);
}

// The client's key when the request carries one (a non-empty string of bounded length at the
// contract's request_key, else at --key-field); empty otherwise, and the decision falls back to the
// correlation id.
std::string Engine::decision_key(const Incoming& msg, const Profile& profile) const {
  std::string s;
  if (profile.contract && profile.contract->request_key) {
    s = msg.contract_key;
  } else if (!key_field_.empty() && msg.body_is_json) {
    const nlohmann::json* v = find_path(msg.body(), key_field_);
    if (v != nullptr && v->is_string()) s = v->get<std::string>();
  }
  if (s.size() > kMaxKeyBytes) return {};
  return s;
}

void Engine::log_decision(const Entry& e) {
  const Decision& d = e.decision;
  DecisionRecord line = record(DecisionLineType::decision);
  line.id = e.msg.id;
  line.rule = d.rule;
  line.drop = d.drop;
  line.service_us = d.service.count();
  line.delay_us = d.delay.count();
  line.copies = d.copies;
  line.spacing_us = d.spacing.count();
  line.reorder = d.reorder;
  line.corrupt = d.corrupt;
  line.missing_id = d.missing_id;
  line.wrong_id = to_string(d.wrong_id);
  line.error = d.error;
  line.kind = d.drop ? std::string(to_string(DecisionKind::drop)) : d.kind();
  line.topic = e.msg.reply_topic;
  line.request_topic = e.msg.topic;
  line.partition = e.msg.partition;
  line.offset = e.msg.offset;
  line.invalid = e.msg.invalid;
  line.key = e.key;
  const bool contract_key = e.profile && e.profile->contract && e.profile->contract->request_key;
  if ((!logged_fields_.empty() || contract_key) && e.msg.body().is_object()) {
    nlohmann::json fields = nlohmann::json::object();
    for (const auto& f : logged_fields_) {
      if (const auto it = e.msg.body().find(f); it != e.msg.body().end()) fields[f] = *it;
    }
    // The contract's key is logged under its own name, wherever it sits in the request.
    if (contract_key && !e.msg.contract_key.empty()) fields[pointer_leaf(*e.profile->contract->request_key)] = e.msg.contract_key;
    line.fields = std::move(fields);
  }
  decisions_.write(line);
}

void Engine::on_message(Incoming msg) {
  std::unique_lock lock(mutex_);
  const auto now = Clock::now();
  const auto profile = profile_;
  if (profile->crash_after && consumed_since_profile_ >= *profile->crash_after) {
    DecisionRecord line = record(DecisionLineType::crash);
    line.after = *profile->crash_after;
    line.id = msg.id;
    line.partition = msg.partition;
    line.offset = msg.offset;
    decisions_.write(line);
    log::error(logger_, "crash point reached, exiting", {{"cid", msg.id}, {"after", *profile->crash_after}});
    lock.unlock();
    on_crash_();
    return;
  }
  ++consumed_since_profile_;
  ++counts_["requests"];

  const TopicPartition tp{msg.topic, msg.partition};
  auto& track = partitions_[tp];
  track.pending.insert(msg.offset);
  track.next = std::max(track.next, msg.offset + 1);

  Entry e;
  e.seq = next_seq_++;
  e.generation = track.generation;
  if (!msg.invalid.empty() || msg.id.empty()) {
    if (msg.invalid.empty()) msg.invalid = "no correlation id";
    e.decision.rule = "invalid";
    e.decision.drop = true;
    e.decision.copies = 0;
    e.msg = std::move(msg);
    ++counts_["invalid"];
    metrics_.decision("invalid");
    log::warn(logger_, "request cannot be answered",
              {{"reason", e.msg.invalid}, {"partition", e.msg.partition}, {"offset", e.msg.offset}});
    log_decision(e);
    track.pending.erase(e.msg.offset);
    check_stall_locked(now);
    return;
  }
  const RequestView view{msg.body_is_json ? &msg.body() : nullptr, &msg.headers};
  e.key = decision_key(msg, *profile);
  e.profile = profile;
  e.decision = decide(*profile, seed_, e.key.empty() ? msg.id : e.key, view);
  e.msg = std::move(msg);
  const Decision& d = e.decision;
  ++by_rule_[d.rule];
  metrics_.request(d.rule);
  if (d.drop) {
    ++counts_["drop"];
    metrics_.decision("drop");
  } else {
    const std::string kind = d.kind();
    ++counts_[kind];
    metrics_.decision(kind);
    if (d.wrong_id != WrongId::none) ++counts_["wrong_id_" + to_string(d.wrong_id)];
    if (d.copies > 1) {
      ++counts_["duplicate"];
      metrics_.decision("duplicate");
    }
    if (d.reorder) {
      ++counts_["reorder"];
      metrics_.decision("reorder");
    }
  }
  log_decision(e);
  log::debug(logger_, "request", {{"cid", e.msg.id}, {"rule", d.rule}, {"kind", d.drop ? std::string(to_string(DecisionKind::drop)) : d.kind()}});

  recent_ids_.push_back(e.msg.id);
  if (recent_ids_.size() > 16) recent_ids_.pop_front();

  const auto seq = e.seq;
  auto [it, inserted] = entries_.emplace(seq, std::move(e));
  if (busy_ < profile->processing.workers) {
    start_service(it->second, now);
  } else {
    waiting_.push_back(seq);
  }
  metrics_.set_in_flight(static_cast<double>(entries_.size()));
  metrics_.set_queue(static_cast<double>(waiting_.size()));
  check_stall_locked(now);
}

void Engine::start_service(Entry& e, Clock::time_point now) {
  ++busy_;
  Event ev;
  ev.at = now + e.decision.service;
  ev.kind = EventKind::service_done;
  ev.entry = e.seq;
  push(ev);
}

void Engine::service_done(std::uint64_t seq, Clock::time_point now) {
  --busy_;
  while (busy_ < profile_->processing.workers && !waiting_.empty()) {
    const auto next = waiting_.front();
    waiting_.pop_front();
    if (auto it = entries_.find(next); it != entries_.end()) start_service(it->second, now);
  }
  metrics_.set_queue(static_cast<double>(waiting_.size()));
  auto it = entries_.find(seq);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (e.decision.drop) {
    e.finished_emitting = true;
    finish(seq);
    return;
  }
  const std::int64_t base_us = now_us() + e.decision.delay.count();
  for (int k = 1; k <= e.decision.copies; ++k) {
    const auto offset = e.decision.delay + e.decision.spacing * (k - 1);
    Event ev;
    ev.at = now + offset;
    ev.kind = EventKind::emit;
    ev.entry = seq;
    ev.copy = k;
    ev.planned_us = base_us + e.decision.spacing.count() * (k - 1);
    push(ev);
  }
}

void Engine::emit(std::uint64_t seq, int copy, std::int64_t planned_us, Clock::time_point now) {
  auto it = entries_.find(seq);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  if (stalled_locked(now)) {
    // A stalled system sends nothing; what fell due is sent when the stall ends.
    Event ev;
    ev.at = *stall_until_;
    ev.kind = EventKind::emit;
    ev.entry = seq;
    ev.copy = copy;
    ev.planned_us = planned_us;
    push(ev);
    return;
  }
  if (e.decision.reorder) {
    const std::string bucket = e.decision.rule;
    auto& hb = hold_[bucket];
    hb.items.push_back({seq, copy, planned_us});
    if (hb.items.size() == 1) {
      Event ev;
      ev.at = now + e.decision.reorder_max_hold;
      ev.kind = EventKind::reorder_flush;
      ev.bucket = bucket;
      ev.epoch = hb.epoch;
      push(ev);
    }
    if (static_cast<int>(hb.items.size()) >= e.decision.reorder_window) flush_hold(bucket);
    return;
  }
  produce_copy(e, copy, planned_us);
}

void Engine::finish(std::uint64_t seq) {
  auto it = entries_.find(seq);
  if (it == entries_.end()) return;
  const Entry& e = it->second;
  auto pt = partitions_.find(TopicPartition{e.msg.topic, e.msg.partition});
  if (pt != partitions_.end() && pt->second.generation == e.generation) pt->second.pending.erase(e.msg.offset);
  entries_.erase(it);
  metrics_.set_in_flight(static_cast<double>(entries_.size()));
}

void Engine::on_assigned(const std::vector<TopicPartition>& tps) {
  std::lock_guard lock(mutex_);
  ++generation_;
  for (const auto& tp : tps) partitions_[tp] = PartitionTrack{generation_, {}, -1, -1};
}

void Engine::on_revoked(const std::vector<TopicPartition>& tps) {
  std::lock_guard lock(mutex_);
  // Requests still in flight from these partitions will be redelivered to the new owner;
  // their replies may still go out here (at-least-once means duplicates are possible).
  for (const auto& tp : tps) partitions_.erase(tp);
}

std::vector<CommitPoint> Engine::committable() {
  std::lock_guard lock(mutex_);
  std::vector<CommitPoint> out;
  for (const auto& [tp, t] : partitions_) {
    if (t.next < 0) continue;
    const std::int64_t c = t.pending.empty() ? t.next : *t.pending.begin();
    if (c > t.committed) out.push_back({tp, c});
  }
  return out;
}

void Engine::committed(const std::vector<CommitPoint>& points) {
  std::lock_guard lock(mutex_);
  for (const auto& p : points) {
    auto it = partitions_.find(p.tp);
    if (it != partitions_.end()) it->second.committed = std::max(it->second.committed, p.offset);
  }
}

bool Engine::accepting() const {
  std::lock_guard lock(mutex_);
  return !paused_ && !stalled_locked(Clock::now()) &&
         static_cast<int>(waiting_.size()) < profile_->processing.queue;
}

void Engine::pause() {
  std::lock_guard lock(mutex_);
  paused_ = true;
  metrics_.set_paused(true);
  decisions_.write(record(DecisionLineType::pause));
}

void Engine::resume() {
  std::lock_guard lock(mutex_);
  paused_ = false;
  metrics_.set_paused(false);
  decisions_.write(record(DecisionLineType::resume));
}

void Engine::set_profile(std::shared_ptr<const Profile> profile, const std::string& source) {
  std::lock_guard lock(mutex_);
  profile_ = std::move(profile);
  consumed_since_profile_ = 0;
  stall_fired_ = false;
  // A swap without a partner in flight falls back to a recent request. Requests consumed under the
  // previous profile (a harness's warm-up) are not part of this run: a reply swapped onto one of them
  // would be a duplicate to the gateway but an unknown id to whoever reads this run's decisions.
  recent_ids_.clear();
  ++counts_["profile_changes"];
  metrics_.event("profile");
  DecisionRecord line = record(DecisionLineType::profile);
  line.source = source;
  line.profile = to_json(*profile_);
  decisions_.write(line);
  log::info(logger_, "profile applied", {{"source", source}});
  // More workers may take waiting requests at once.
  const auto now = Clock::now();
  while (busy_ < profile_->processing.workers && !waiting_.empty()) {
    const auto next = waiting_.front();
    waiting_.pop_front();
    if (auto it = entries_.find(next); it != entries_.end()) start_service(it->second, now);
  }
  check_stall_locked(now);
}

std::shared_ptr<const Profile> Engine::profile() const {
  std::lock_guard lock(mutex_);
  return profile_;
}

nlohmann::json Engine::stats() const {
  std::lock_guard lock(mutex_);
  nlohmann::json j = nlohmann::json::object();
  for (const char* k : {"requests", "invalid", "ok", "error", "drop", "duplicate", "reorder", "corrupt", "missing_id",
                        "wrong_id", "wrong_id_random", "wrong_id_swap", "replies", "delivered", "delivery_failed",
                        "stalls", "profile_changes"}) {
    const auto it = counts_.find(k);
    j[k] = it == counts_.end() ? 0 : it->second;
  }
  nlohmann::json replies = nlohmann::json::object();
  for (const char* k : {"ok", "error", "corrupt", "missing_id", "wrong_id"}) {
    const auto it = counts_.find(std::string("replies_") + k);
    replies[k] = it == counts_.end() ? 0 : it->second;
  }
  j["replies_by_kind"] = replies;
  j["by_rule"] = by_rule_;
  j["in_flight"] = entries_.size();
  j["queued"] = waiting_.size();
  j["busy_workers"] = busy_;
  j["paused"] = paused_;
  j["stalled"] = stalled_locked(Clock::now());
  j["assigned_partitions"] = partitions_.size();
  j["seed"] = seed_;
  return j;
}

int Engine::assigned_partitions() const {
  std::lock_guard lock(mutex_);
  return static_cast<int>(partitions_.size());
}

std::size_t Engine::in_flight() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

}  // namespace rrkit::simulator
