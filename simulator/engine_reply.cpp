// The engine's reply side: releasing held replies, building each copy (rr-simulator's own reply or
// the profile contract's template, then the faults on it), handing it to the producer, and the
// delivery reports that write the reply lines of the decision log. Runs under the engine's mutex,
// like the rest of Engine (engine.cpp).
#include <algorithm>
#include <cstdio>

#include "common/reply.h"
#include "simulator/engine.h"

namespace rrkit::simulator {

using namespace std::chrono_literals;

namespace {
// Delivery tokens carry the entry and the copy so that a report finds its request.
constexpr int kCopyBits = 12;
std::uint64_t make_token(std::uint64_t seq, int copy) { return (seq << kCopyBits) | static_cast<std::uint64_t>(copy); }
std::uint64_t token_seq(std::uint64_t token) { return token >> kCopyBits; }
int token_copy(std::uint64_t token) { return static_cast<int>(token & ((1u << kCopyBits) - 1)); }
}  // namespace

void Engine::flush_hold(const std::string& bucket) {
  auto& hb = hold_[bucket];
  std::vector<Held> items = std::move(hb.items);
  hb.items.clear();
  ++hb.epoch;
  // The release order is a pure function of (seed, ids, copies) of what was held.
  std::vector<std::pair<std::uint64_t, Held>> keyed;
  for (const auto& h : items) {
    auto it = entries_.find(h.entry);
    if (it == entries_.end()) continue;
    keyed.emplace_back(stream(seed_, it->second.msg.id, "reorder", std::to_string(h.copy)).next(), h);
  }
  std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [key, h] : keyed) {
    auto it = entries_.find(h.entry);
    if (it != entries_.end()) produce_copy(it->second, h.copy, h.planned_us);
  }
}

std::string Engine::swap_partner(const Entry& e) {
  // Another request still waiting for its reply: its client is the one that gets the wrong answer.
  const std::string* best = nullptr;
  std::uint64_t best_key = 0;
  for (const auto& [seq, other] : entries_) {
    if (seq == e.seq || other.finished_emitting || other.msg.id == e.msg.id) continue;
    const auto key = stream(seed_, e.msg.id, "swap", other.msg.id).next();
    if (!best || key < best_key) {
      best = &other.msg.id;
      best_key = key;
    }
  }
  if (best) return *best;
  for (auto it = recent_ids_.rbegin(); it != recent_ids_.rend(); ++it) {
    if (*it != e.msg.id) return *it;
  }
  Rng rng = stream(seed_, e.msg.id, e.decision.rule, "swap.fallback");
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08llx-0000-4000-8000-%012llx", static_cast<unsigned long long>(rng.next() >> 32),
                static_cast<unsigned long long>(rng.next() & 0xffffffffffffULL));
  return buf;
}

void Engine::produce_copy(Entry& e, int copy, std::int64_t planned_us) {
  const Decision& d = e.decision;
  const std::string kind = d.kind();
  std::string reply_id = e.msg.id;
  if (d.wrong_id == WrongId::random) {
    reply_id = d.random_id;
  } else if (d.wrong_id == WrongId::swap) {
    reply_id = swap_partner(e);
  }
  std::string key = reply_id;
  Headers headers;
  std::string body;
  const ReplyTemplate* tmpl = e.profile && e.profile->contract && e.profile->contract->reply ? &*e.profile->contract->reply
                                                                                             : nullptr;
  if (tmpl != nullptr) {
    // The legacy contract's shape; the faults act on it exactly as on rr-simulator's own reply.
    const ReplyValues values{reply_id, d.missing_id, d.error ? "error" : "ok", reply_payload_for(e.msg.body()),
                             e.msg.body()};
    body = render_body(tmpl->body, values).dump();
    key = render_text(tmpl->key, values);
    for (const auto& [name, value] : tmpl->headers) headers.emplace_back(name, render_text(value, values));
    if (!tmpl->content_type.empty()) headers.emplace_back("content-type", tmpl->content_type);
  } else {
    nlohmann::json reply = make_reply(reply_id, !d.error, reply_payload_for(e.msg.request));
    if (d.missing_id) reply.erase("correlationId");
    body = reply.dump();
  }
  if (d.missing_id) reply_id.clear();
  if (d.corrupt) {
    // A truncated object is never valid JSON; the key still names the request.
    body.resize(body.size() / 2);
    reply_id.clear();
  }
  const auto result = sink_.produce(e.msg.reply_topic, key, body, headers, make_token(e.seq, copy));
  if (result == ProduceResult::queue_full) {
    Event ev;
    ev.at = Clock::now() + 5ms;
    ev.kind = EventKind::emit;
    ev.entry = e.seq;
    ev.copy = copy;
    ev.planned_us = planned_us;
    // Bypass the reorder buffer on retry: the release order was already decided.
    e.decision.reorder = false;
    push(ev);
    return;
  }
  const std::int64_t sent = now_us();
  ++e.emitted;
  if (e.emitted >= d.copies) e.finished_emitting = true;
  if (result == ProduceResult::failed) {
    ++counts_["delivery_failed"];
    metrics_.delivery_failed();
    log::error(logger_, "reply could not be produced", {{"cid", e.msg.id}, {"copy", copy}});
    write_reply_failed(e, copy, Unconfirmed{reply_id, kind, planned_us, sent}, "the producer refused it");
    ++e.delivered;
    if (e.finished_emitting && e.delivered >= d.copies) finish(e.seq);
    return;
  }
  ++counts_["replies"];
  ++counts_["replies_" + kind];
  metrics_.reply(kind);
  metrics_.lateness(static_cast<double>(std::max<std::int64_t>(0, sent - planned_us)) / 1e6);
  e.unconfirmed[copy] = Unconfirmed{reply_id, kind, planned_us, sent};
  log::debug(logger_, "reply produced", {{"cid", e.msg.id}, {"copy", copy}, {"kind", kind}, {"reply_id", reply_id}});
}

// One decision-log line about a reply copy: `reply` once Kafka confirmed it, `reply_failed` when it
// could not be delivered (extra fields added by the caller).
DecisionRecord Engine::reply_line(DecisionLineType type, std::int64_t ts_us, const Entry& e, int copy,
                                  const Unconfirmed& r) const {
  DecisionRecord line;
  line.type = type;
  line.ts_us = ts_us;
  line.request_id = e.msg.id;
  line.reply_id = r.reply_id;
  line.copy = copy;
  line.kind = r.kind;
  line.topic = e.msg.reply_topic;
  line.planned_us = r.planned_us;
  line.sent_us = r.sent_us;
  return line;
}

void Engine::write_reply_failed(const Entry& e, int copy, const Unconfirmed& r, const std::string& error) {
  auto line = reply_line(DecisionLineType::reply_failed, now_us(), e, copy, r);
  line.failure = error;
  decisions_.write(line);
}

void Engine::on_delivered(std::uint64_t token, bool ok, const std::string& error) {
  std::lock_guard lock(mutex_);
  const auto seq = token_seq(token);
  auto it = entries_.find(seq);
  if (it == entries_.end()) return;
  Entry& e = it->second;
  const int copy = token_copy(token);
  const auto pending = e.unconfirmed.find(copy);
  if (pending == e.unconfirmed.end()) return;  // a report we already had
  const Unconfirmed r = std::move(pending->second);
  e.unconfirmed.erase(pending);
  if (!ok) {
    ++counts_["delivery_failed"];
    metrics_.delivery_failed();
    log::error(logger_, "reply delivery failed", {{"cid", e.msg.id}, {"copy", copy}, {"error", error}});
    write_reply_failed(e, copy, r, error);
  } else {
    ++counts_["delivered"];
    const std::int64_t delivered = now_us();
    // `sent_us` stays the moment the reply was handed to the producer (what lateness is measured by).
    auto line = reply_line(DecisionLineType::reply, delivered, e, copy, r);
    line.delivered_us = delivered;
    decisions_.write(line);
  }
  ++e.delivered;
  if (e.finished_emitting && e.delivered >= e.decision.copies) finish(seq);
}

}  // namespace rrkit::simulator
