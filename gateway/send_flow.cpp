#include "gateway/send_flow.h"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <memory>
#include <utility>

#include "common/ids.h"
#include "common/json_limits.h"
#include "gateway/bulk_publish.h"
#include "gateway/send_request.h"
#include "gateway/limits.h"
#include "gateway/socket_peek.h"
#include "gateway/tuple_awaitable.h"

namespace rrkit::gateway {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using nlohmann::json;

// A parked request: what its answer needs, its connection, and the events that may decide it.
// Lives on its connection's strand, shared by the callbacks of its timer, its socket watch, its
// publish task and the reply's notify; whichever decides first completes it, the others then
// find `finished` set and do nothing.
struct Waiter {
  Waiter(SendFlow& f, Prepared prepared, std::shared_ptr<ParkedConnection> c)
      : flow(f), p(std::move(prepared)), conn(std::move(c)), timer(conn->socket.get_executor()) {}
  SendFlow& flow;
  Prepared p;  // its body is moved out when published
  std::shared_ptr<ParkedConnection> conn;  // handed back by complete()
  asio::steady_timer timer;                // the deadline
  std::optional<Completion> result;        // a reply, or shutdown
  std::unique_ptr<DaprResult> publish_failure;  // set by the publish task; a pointer keeps waiters small
  // Set once the client is answered: a publish still waiting for a daprd connection is then
  // never sent (read by the Dapr client on another strand, hence atomic).
  std::atomic<bool> abandoned{false};
  char peeked = 0;         // where the watch's look at the client's next byte goes (left unread)
  Peek seen = Peek::nothing;  // what the watch found: bytes (pipelining) or the client gone
  bool expired = false;    // the deadline passed
  bool lost_race = false;  // our removal attempt failed: the winner's notify is on its way
  bool finished = false;   // the answer is decided and the connection handed back
};

std::variant<Response, Prepared> SendFlow::prepare(const Request& req, Clock::time_point started) {
  const Config& cfg = state_.cfg;
  const unsigned v = req.version();
  const bool keep = req.keep_alive();
  auto reject = [&](const HttpError& e, Outcome o) {
    state_.metrics.request(o, seconds_since(started));
    log::info(state_.logger, "request rejected", {{"status", e.status}, {"error", e.code}, {"message", e.message}});
    // During shutdown a kept-alive client is told to go (and the connection ends), like every other answer.
    return error_response(e, v, keep && !state_.stopping);
  };
  if (state_.stopping) return reject({503, "shutdown", "gateway is shutting down"}, Outcome::shutdown);

  const auto th = req.find("X-Request-Timeout-Ms");
  auto timeout = request_timeout(th == req.end() ? std::nullopt : std::optional<std::string_view>(th->value()),
                                 cfg.timeout, cfg.max_timeout);
  // The body's verdicts (413, 415, 400) come before the timeout header's.
  const auto ct = req.find(http::field::content_type);
  Prepared p{new_correlation_id(), {}, started, started, {}, v, keep};
  auto stamped = stamp_send(ct == req.end() ? std::string_view() : std::string_view(ct->value()), req.body(),
                            cfg.max_body, cfg.id_field, p.id.str());
  if (auto* e = std::get_if<HttpError>(&stamped)) {
    const Outcome o = e->status == 413 ? Outcome::too_large
                      : e->status == 415 ? Outcome::unsupported_media
                                         : Outcome::bad_request;
    return reject(*e, o);
  }
  if (auto* e = std::get_if<HttpError>(&timeout)) return reject(*e, Outcome::bad_request);
  p.timeout = std::get<std::chrono::milliseconds>(timeout);
  p.deadline = started + p.timeout;
  p.body = std::get<std::string>(std::move(stamped));
  return p;
}

Rendered SendFlow::answer(const Prepared& p, http::status status, const json& body, Outcome o,
                          std::string_view retry_after) {
  return answer_text(p, status, rrkit::safe_dump(body), o, retry_after);
}

Rendered SendFlow::answer_text(const Prepared& p, http::status status, std::string_view body, Outcome o,
                               std::string_view retry_after) {
  state_.metrics.request(o, seconds_since(p.started));
  const Field fields[] = {{"X-Correlation-Id", p.id.str()}, {"Retry-After", retry_after}};
  Rendered r = render_response(status, body, p.version, p.keep && !state_.stopping,
                               std::span(fields, retry_after.empty() ? 1 : 2), state_.keep_alive);
  // A 200 is logged at debug level: at info, a line per request (built, formatted and flushed)
  // cost about a tenth of the gateway's CPU per request. Every other answer (timeout, overload,
  // publish failure, shutdown) stays at info, with its correlation id. The fields are built only
  // when the line is written.
  const auto level = o == Outcome::ok ? spdlog::level::debug : spdlog::level::info;
  if (state_.logger->should_log(level)) {
    log::emit(*state_.logger, level, "request answered",
              {{"cid", p.id.str()}, {"status", static_cast<int>(status)}, {"outcome", to_string(o)},
               {"ms", seconds_since(p.started) * 1000.0}});
  }
  return r;
}

Rendered SendFlow::timeout_answer(const Prepared& p) {
  return answer(p, http::status::gateway_timeout,
                {{"correlationId", p.id.str()}, {"error", "timeout"}, {"timeoutMs", p.timeout.count()}},
                Outcome::timeout);
}

// The answer when the table refused the entry; nullopt when it was inserted.
std::optional<Rendered> SendFlow::register_pending(const Prepared& p, const std::shared_ptr<Waiter>& waiter) {
  // Dispatched: on the waiter's own thread (one I/O thread: the delivery's) the answer is decided at
  // once, without another turn of the scheduler; from elsewhere it is posted.
  PendingTable::Notify notify = [waiter](Completion c) {
    asio::dispatch(waiter->timer.get_executor(), [waiter, c = std::move(c)]() mutable {
      waiter->result = std::move(c);
      advance(waiter);
    });
  };
  switch (state_.table.insert(p.id, p.started, std::move(notify))) {
    case PendingTable::Insert::inserted: return std::nullopt;
    case PendingTable::Insert::full: {
      return answer(p, http::status::service_unavailable,
                    {{"correlationId", p.id.str()}, {"error", "overloaded"},
                     {"message", "max pending requests (" + std::to_string(state_.cfg.max_pending) + ") reached"}},
                    Outcome::overloaded, "1");
    }
    case PendingTable::Insert::closed:
      return answer(p, http::status::service_unavailable, {{"correlationId", p.id.str()}, {"error", "shutdown"}},
                    Outcome::shutdown);
    case PendingTable::Insert::duplicate_id:  // a UUIDv4 collision: practically impossible, still not silent
      break;
  }
  return answer(p, http::status::internal_server_error, {{"correlationId", p.id.str()}, {"error", "id_collision"}},
                Outcome::publish_failed);
}

// After a failed publish: the answer if we removed the entry ourselves, nullopt when someone
// else (a reply, or shutdown) removed it first and their answer is on its way to the waiter.
std::optional<Rendered> SendFlow::publish_failed(const Prepared& p, const DaprResult& published) {
  const bool timed_out = published.kind == DaprResult::Kind::timeout;
  if (!state_.table.finish(p.id, timed_out ? Finish::timed_out : Finish::publish_failed, Clock::now())) {
    return std::nullopt;
  }
  // Busy is the overload answer (like 503 overloaded): not a warning per request, which at
  // thousands per second would cost the CPU the overloaded gateway lacks.
  const bool busy = published.kind == DaprResult::Kind::busy;
  (busy ? log::info : log::warn)(state_.logger, "publish failed",
                                 {{"cid", p.id.str()}, {"status", published.status}, {"error", published.error},
                                  {"dapr", published.body.substr(0, 512)}});
  if (timed_out) return timeout_answer(p);
  if (busy) {
    // Nothing was sent: the client may retry at once, elsewhere or a moment later.
    return answer(p, http::status::service_unavailable,
                  {{"correlationId", p.id.str()},
                   {"error", "dapr_busy"},
                   {"message", "no connection to daprd free within " +
                                   std::to_string(state_.cfg.dapr_acquire_timeout.count()) + " ms"}},
                  Outcome::publish_failed, "1");
  }
  const bool unreachable = published.kind == DaprResult::Kind::unreachable;
  return answer(p, unreachable ? http::status::service_unavailable : http::status::bad_gateway,
                {{"correlationId", p.id.str()},
                 {"error", unreachable ? "dapr_unavailable" : "publish_rejected"},
                 {"message", published.error.empty() ? "daprd answered " + std::to_string(published.status) + ": " +
                                                           published.body.substr(0, 512)
                                                     : published.error}},
                Outcome::publish_failed);
}

Rendered SendFlow::completed_answer(const Prepared& p, Completion& done) {
  if (done.how == Finish::replied) {
    // The reply's text goes into the answer as it came (valid JSON, bounded in depth: see Delivery),
    // neither parsed into a document nor serialised again.
    const std::string_view id = p.id.str();
    std::string body;
    body.reserve(id.size() + done.reply.size() + 40);
    body += R"({"correlationId":)";
    rrkit::append_json_string(body, id);
    body += R"(,"response":)";
    body += done.reply;
    body += '}';
    return answer_text(p, http::status::ok, body, Outcome::ok);
  }
  return answer(p, http::status::service_unavailable,
                {{"correlationId", p.id.str()}, {"error", "shutdown"}, {"message", "gateway is shutting down"}},
                Outcome::shutdown);
}

// The publish of one request, beside its waiter on the session's strand: the waiter answers
// the client at the deadline whatever the publish is doing, and a publish still waiting for
// a daprd connection by then is never sent (the waiter's abandoned flag).
namespace {

// The publish metadata of a request. The id as partition key keeps a request's copies in order;
// as metadata it becomes a Kafka header for repliers that read it there.
PublishMetadata request_metadata(const Config& cfg, const CorrelationId& id) {
  PublishMetadata metadata{{"partitionKey", std::string(id.str())}, {"correlationId", std::string(id.str())}};
  if (cfg.reply_mode == ReplyMode::reply_to) metadata.emplace_back("replyTo", cfg.subscribed_reply_topic());
  return metadata;
}

}  // namespace

// The publish of one request, beside its waiter on the session's strand: the waiter answers
// the client at the deadline whatever the publish is doing, and a publish still waiting for
// a daprd connection by then is never sent (the waiter's abandoned flag).
asio::awaitable<void> SendFlow::publish(std::shared_ptr<Waiter> waiter, CorrelationId id, std::string body,
                                        Clock::time_point deadline, Clock::time_point start) {
  const Config& cfg = state_.cfg;
  // Started in its own statement so that the metadata and target are freed before the wait.
  auto sent = dapr_.publish(cfg.pubsub, cfg.request_topic, std::move(body), request_metadata(cfg, id), deadline,
                            {start + cfg.dapr_acquire_timeout, &waiter->abandoned});
  id = CorrelationId();  // only the metadata needed it: not held while the publish is in flight
  DaprResult result = co_await std::move(sent);
  published(waiter, start, std::move(result));
}

// Bulk publish. A parked request joins the queue; a drain (publish_bulk_calls of them) takes what is
// queued, up to publish_bulk_max, into one call and, when that call is answered, takes what queued
// meanwhile. A lone request goes as a plain publish, so at low load nothing waits; under load the
// requests that arrive during one call's round trip go together in the next.
void SendFlow::enqueue_publish(const asio::any_io_executor& ex, QueuedPublish q) {
  publish_queue_.push_back(std::move(q));
  arm_queue_timer(ex);
  if (publish_calls_ >= state_.cfg.publish_bulk_calls) return;
  ++publish_calls_;
  asio::co_spawn(ex, drain_publishes({}), asio::detached);
}

// The queue is in arrival order, so its front is the first to have waited --dapr-acquire-timeout:
// one timer serves the whole queue, armed while anything is queued (one wake-up per acquire timeout
// at most).
void SendFlow::arm_queue_timer(const asio::any_io_executor& ex) {
  if (queue_timer_armed_ || publish_queue_.empty()) return;
  if (!queue_timer_) queue_timer_.emplace(ex);
  queue_timer_armed_ = true;
  queue_timer_->expires_at(publish_queue_.front().start + state_.cfg.dapr_acquire_timeout);
  queue_timer_->async_wait([this, ex](const boost::system::error_code& ec) {
    if (ec) return;
    expire_queued(ex);
  });
}

// The calls in flight are slow (daprd stalled, or a call waiting on one partition's leader): the
// requests that waited longest go now in a call of their own, as each would on a connection of its own
// without bulk publish. That call takes a daprd connection only if one is free at once, since its
// requests have already waited their acquire timeout: otherwise they are answered 503 dapr_busy.
void SendFlow::expire_queued(const asio::any_io_executor& ex) {
  queue_timer_armed_ = false;
  while (!publish_queue_.empty() && publish_queue_.front().waiter->abandoned) publish_queue_.pop_front();
  if (publish_queue_.empty()) return;
  if (publish_queue_.front().start + state_.cfg.dapr_acquire_timeout <= Clock::now()) {
    ++publish_calls_;
    asio::co_spawn(ex, drain_publishes(take_batch(ex)), asio::detached);
  }
  arm_queue_timer(ex);
}

std::vector<SendFlow::QueuedPublish> SendFlow::take_batch(const asio::any_io_executor& ex) {
  std::vector<QueuedPublish> batch;
  while (!publish_queue_.empty() && batch.size() < state_.cfg.publish_bulk_max) {
    QueuedPublish q = std::move(publish_queue_.front());
    publish_queue_.pop_front();
    if (q.waiter->abandoned) continue;  // its client was answered before it was sent: never sent
    // A JSON string carries only UTF-8: a body that is not goes alone, as its bytes.
    if (!valid_utf8(q.body)) {
      asio::co_spawn(ex, publish(q.waiter, std::move(q.id), std::move(q.body), q.deadline, q.start), asio::detached);
      continue;
    }
    batch.push_back(std::move(q));
  }
  return batch;
}

asio::awaitable<void> SendFlow::drain_publishes(std::vector<QueuedPublish> batch) {
  const auto ex = co_await asio::this_coro::executor;
  if (batch.empty()) batch = take_batch(ex);
  while (!batch.empty()) {
    try {
      co_await publish_batch(std::move(batch));
    } catch (const std::exception& e) {
      // Each waiter still answers at its deadline; the drain goes on with the next batch.
      log::error(state_.logger, "bulk publish failed", {{"error", e.what()}});
    }
    batch = take_batch(ex);
  }
  --publish_calls_;
}

asio::awaitable<void> SendFlow::publish_batch(std::vector<QueuedPublish> batch) {
  const Config& cfg = state_.cfg;
  if (batch.size() == 1) {
    QueuedPublish& q = batch.front();
    co_await publish(std::move(q.waiter), std::move(q.id), std::move(q.body), q.deadline, q.start);
    co_return;
  }
  // The call lasts until the latest deadline of its requests (each waiter answers at its own) and
  // waits for a connection no longer than its oldest request may.
  Clock::time_point deadline = batch.front().deadline;
  Clock::time_point acquire_by = batch.front().start + cfg.dapr_acquire_timeout;
  std::vector<BulkPublishEntry> entries;
  entries.reserve(batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    QueuedPublish& q = batch[i];
    deadline = std::max(deadline, q.deadline);
    acquire_by = std::min(acquire_by, q.start + cfg.dapr_acquire_timeout);
    entries.push_back({std::to_string(i), std::move(q.body), request_metadata(cfg, q.id)});
  }
  std::string body = bulk_publish_body(entries);
  entries.clear();
  state_.metrics.bulk_publish(batch.size());
  DaprResult result = co_await dapr_.publish_bulk(cfg.pubsub, cfg.request_topic, std::move(body), deadline,
                                                  {acquire_by, nullptr});
  if (result.kind != DaprResult::Kind::rejected) {
    for (const QueuedPublish& q : batch) published(q.waiter, q.start, result);
    co_return;
  }
  // A rejection names the entries that failed; one that names none failed them all.
  const BulkFailures failures = parse_bulk_failures(result.body, batch.size());
  if (!failures.names_entries) {
    for (const QueuedPublish& q : batch) published(q.waiter, q.start, result);
    co_return;
  }
  std::vector<const BulkFailures::Failed*> failed(batch.size(), nullptr);
  for (const auto& f : failures.failed) {
    std::size_t index = 0;
    const auto [end, ec] = std::from_chars(f.entry_id.data(), f.entry_id.data() + f.entry_id.size(), index);
    if (ec == std::errc() && end == f.entry_id.data() + f.entry_id.size() && index < batch.size()) failed[index] = &f;
  }
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (failed[i] == nullptr) {
      published(batch[i].waiter, batch[i].start, DaprResult{DaprResult::Kind::ok, result.status, {}, {}});
    } else {
      published(batch[i].waiter, batch[i].start, DaprResult{DaprResult::Kind::rejected, result.status,
                                     failed[i]->error.empty() ? result.body : failed[i]->error, {}});
    }
  }
}

// One request's publish settled, alone or in a bulk call: counted, and a failure handed to its waiter.
void SendFlow::published(const std::shared_ptr<Waiter>& waiter, Clock::time_point start, DaprResult result) {
  if (result.kind == DaprResult::Kind::abandoned) return;
  state_.metrics.publish(seconds_since(start));
  if (result.ok()) return;
  waiter->publish_failure = std::make_unique<DaprResult>(std::move(result));
  advance(waiter);
}

void SendFlow::park(Prepared p, std::shared_ptr<ParkedConnection> conn) {
  const auto ex = conn->socket.get_executor();
  auto w = std::make_shared<Waiter>(*this, std::move(p), std::move(conn));
  if (auto refused = register_pending(w->p, w)) return complete(w, std::move(refused));

  // The reply may arrive before daprd even answers the publish: the waiter holds it.
  if (state_.cfg.publish_bulk_max > 0) {
    enqueue_publish(ex, {w, w->p.id, std::move(w->p.body), w->p.deadline, Clock::now()});
  } else {
    asio::co_spawn(ex, publish(w, w->p.id, std::move(w->p.body), w->p.deadline, Clock::now()), asio::detached);
  }
  watch_client(w);
  w->timer.expires_at(w->p.deadline);
  w->timer.async_wait([w](const boost::system::error_code& ec) {
    if (ec || w->finished) return;
    w->expired = true;
    advance(w);
  });
}

// Readable while waiting: the client closing, or pipelining (then no longer watched: its bytes wait
// for the connection's next read).
// The watch is a receive that peeks (it consumes nothing), not a wait for readiness: Asio tries a
// receive at once and, finding nothing, leaves it to the socket's existing registration, where a
// wait for readiness re-registers the socket with epoll (an epoll_ctl per request, 3 % of the
// gateway's CPU at 2,500 req/s). It completes only with a byte or with the end or an error (Asio
// tries again by itself after a readiness report that found nothing), so it is judged as it is.
void SendFlow::watch_client(const std::shared_ptr<Waiter>& w) {
  w->conn->socket.async_receive(asio::buffer(&w->peeked, 1), tcp::socket::message_peek,
                                [w](const boost::system::error_code& ec, std::size_t n) {
                                  if (ec == asio::error::operation_aborted || w->finished) return;
                                  w->seen = !ec && n > 0 ? Peek::bytes : Peek::closed;
                                  advance(w);
                                });
}

void SendFlow::advance(const std::shared_ptr<Waiter>& w) {
  if (w->finished) return;
  // A callback has no session around it to catch what it throws (an allocation failing): the
  // request is logged and its connection closed, never the io loop ended.
  try {
    decide(w);
  } catch (const std::exception& e) {
    log::error(w->flow.state_.logger, "waiting request failed", {{"cid", w->p.id.str()}, {"error", e.what()}});
    if (!w->finished) {
      w->flow.state_.table.finish(w->p.id, Finish::client_gone, Clock::now());
      complete(w, std::nullopt);
    }
  }
}

void SendFlow::decide(const std::shared_ptr<Waiter>& w) {
  SendFlow& self = w->flow;
  const Prepared& p = w->p;
  if (w->result) return complete(w, self.completed_answer(p, *w->result));
  // Someone else removed the entry: only their notify (the result above) decides now.
  if (w->lost_race) return;
  if (w->publish_failure) {
    if (auto res = self.publish_failed(p, *w->publish_failure)) return complete(w, std::move(res));
    w->lost_race = true;
    return;
  }
  if (w->seen != Peek::nothing) {
    const Peek seen = std::exchange(w->seen, Peek::nothing);
    if (seen == Peek::bytes) return;  // pipelined: answered in turn, no longer watched
    if (self.state_.table.finish(p.id, Finish::client_gone, Clock::now())) {
      self.state_.metrics.request(Outcome::client_gone, seconds_since(p.started));
      log::info(self.state_.logger, "client gone before the reply", {{"cid", p.id.str()}});
      return complete(w, std::nullopt);
    }
    w->lost_race = true;
    return;
  }
  if (w->expired) {
    if (self.state_.table.finish(p.id, Finish::timed_out, Clock::now())) return complete(w, self.timeout_answer(p));
    w->lost_race = true;
  }
}

void SendFlow::complete(const std::shared_ptr<Waiter>& w, std::optional<Rendered> answer) {
  w->finished = true;
  w->abandoned = true;  // answered (or gone): a publish not yet sent must not be
  w->timer.cancel();
  boost::system::error_code ignored;
  w->conn->socket.cancel(ignored);  // ends the readable watch, if still armed
  std::shared_ptr<ParkedConnection> conn = std::move(w->conn);
  conn->resume(std::move(answer));
}

}  // namespace rrkit::gateway
