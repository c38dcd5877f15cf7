#include "harness/traffic.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <sys/socket.h>

#include <algorithm>
#include <iterator>
#include <cctype>
#include <charconv>
#include <cerrno>
#include <deque>
#include <limits>
#include <map>
#include <memory>
#include <numeric>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "common/json_limits.h"
#include "harness/checker.h"
#include "harness/connection_pool.h"
#include "harness/traffic_roster.h"

namespace rrkit::harness {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

std::optional<std::chrono::milliseconds> keep_alive_timeout(std::string_view value) {
  // Parameters are comma-separated, case-insensitive names: "timeout=5, max=1000".
  std::size_t pos = 0;
  while (pos < value.size()) {
    std::size_t end = value.find(',', pos);
    if (end == std::string_view::npos) end = value.size();
    std::string_view part = value.substr(pos, end - pos);
    pos = end + 1;
    while (!part.empty() && (part.front() == ' ' || part.front() == '\t')) part.remove_prefix(1);
    constexpr std::string_view key = "timeout=";
    if (part.size() <= key.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < key.size(); ++k) {
      if (std::tolower(static_cast<unsigned char>(part[k])) != key[k]) same = false;
    }
    if (!same) continue;
    std::int64_t seconds = 0;
    std::size_t k = key.size();
    for (; k < part.size() && std::isdigit(static_cast<unsigned char>(part[k])); ++k) {
      seconds = std::min<std::int64_t>(seconds * 10 + (part[k] - '0'), 1'000'000);
    }
    if (k == key.size()) continue;
    return std::chrono::milliseconds(seconds * 1000);
  }
  return std::nullopt;
}

std::chrono::milliseconds reuse_bound(std::chrono::milliseconds configured,
                                      std::optional<std::chrono::milliseconds> server_timeout) {
  if (!server_timeout) return configured;
  const auto margin = std::min<std::chrono::milliseconds>(std::chrono::seconds(1), *server_timeout / 2);
  return std::min(configured, *server_timeout - margin);
}

namespace {

struct Shared {
  const TrafficPlan& plan;
  TrafficProgress& progress;
  std::vector<RequestRecord>& records;
  ConnectionPool pool;
  NonceLookup may_be_run_nonce;  // any key of this plan's form ("<prefix>-<seed>-<digits>")
  std::vector<std::int64_t> offsets_us;  // open loop: each request's intended time from the start
  net::ip::address address;
  std::string resolve_error;             // set when plan.host does not resolve: every request fails with it
  // Interruption: coroutines still running, streams with I/O in flight (cancelled on stop).
  std::size_t live = 0;
  bool started = false;  // the workers or the schedule have begun (live counts them from then on)
  bool stopping = false;
  std::set<beast::tcp_stream*> active;
  net::steady_timer* schedule_timer = nullptr;
  AnswerPatterns answers;  // answers other than 200s that differ only by the correlation id share a text
};

// Counts a coroutine as live for as long as it runs, so the stop watcher knows when all are done.
// (Spawned exchanges are counted when spawned, not when they first run, so the count never
// reads zero while one is queued: they adopt the count instead.)
struct LiveGuard {
  Shared& sh;
  explicit LiveGuard(Shared& s, bool adopt = false) : sh(s) {
    if (!adopt) ++sh.live;
  }
  ~LiveGuard() { --sh.live; }
  LiveGuard(const LiveGuard&) = delete;
  LiveGuard& operator=(const LiveGuard&) = delete;
};

// Registers a stream with I/O in flight, so that a stop can cancel it.
struct ActiveStream {
  Shared& sh;
  beast::tcp_stream* stream;
  ActiveStream(Shared& s, beast::tcp_stream* st) : sh(s), stream(st) { sh.active.insert(stream); }
  ~ActiveStream() { sh.active.erase(stream); }
  ActiveStream(const ActiveStream&) = delete;
  ActiveStream& operator=(const ActiveStream&) = delete;
};

void fail_record(RequestRecord& rec, const Shared& sh, std::string error) {
  if (!rec.sent_us) rec.sent_us = now_us();
  rec.done_us = now_us();
  if (sh.stopping) {
    rec.client_error = "interrupted";
    rec.outcome = Outcome::interrupted;
    return;
  }
  rec.client_error = std::move(error);
  rec.outcome = Outcome::error;
}

// One exchange. The record was pre-filled with index, nonce, gateway, intended time.
net::awaitable<void> exchange_once(Shared& sh, std::size_t i) {
  auto& rec = sh.records[i];
  const auto& plan = sh.plan;
  GatewayRoster::Lease lease;
  if (plan.roster) {
    lease = plan.roster->pick(rec.index);
    if (!lease) {
      fail_record(rec, sh, "no live gateway instance to send to");
      co_return;
    }
    rec.gateway = static_cast<int>(lease.slot());
  }
  const std::uint16_t port = plan.roster ? lease.port() : plan.gateway_ports[static_cast<std::size_t>(rec.gateway)];
  const bool abandon = abandons(plan, rec.index);
  auto executor = co_await net::this_coro::executor;
  if (!sh.resolve_error.empty()) {
    fail_record(rec, sh, sh.resolve_error);
    co_return;
  }

  const auto verb = bhttp::string_to_verb(plan.request.method);
  bhttp::request<bhttp::string_body> req{verb == bhttp::verb::unknown ? bhttp::verb::post : verb, plan.request.path, 11};
  req.set(bhttp::field::host, plan.host);
  for (const auto& [name, value] : plan.request.headers) req.set(name, value);
  req.keep_alive(true);
  if (plan.request_timeout_ms > 0) req.set("X-Request-Timeout-Ms", std::to_string(plan.request_timeout_ms));
  // Rendered when sent, not up front: an open-loop run of a million requests holds no bodies in waiting.
  req.body() = safe_dump(render_request_body(
      plan.request, render_body(plan.body_template, rec.index, rec.nonce, plan.nonce_field), rec.nonce, rec.index));
  req.prepare_payload();

  for (int attempt = 0; attempt < 2; ++attempt) {
    if (sh.stopping) {
      fail_record(rec, sh, "interrupted");
      co_return;
    }
    // The retry always takes a fresh connection: another pooled one may be just as stale.
    auto stream = attempt == 0 ? sh.pool.take(port) : nullptr;
    const bool reused = stream != nullptr;
    if (!stream) {
      stream = std::make_unique<beast::tcp_stream>(executor);
      const ActiveStream registered(sh, stream.get());
      stream->expires_after(std::chrono::seconds(10));
      sh.progress.connections_opened.fetch_add(1);
      auto [cec] = co_await stream->async_connect(tcp::endpoint(sh.address, port), kTuple);
      if (cec) {
        fail_record(rec, sh, "connect: " + cec.message());
        co_return;
      }
    }
    // A stop that came while the connect's completion was queued found nothing to cancel: check
    // again before the next operation, which would otherwise wait the whole client timeout.
    if (sh.stopping) {
      fail_record(rec, sh, "interrupted");
      co_return;
    }
    const ActiveStream registered(sh, stream.get());
    if (!rec.sent_us) rec.sent_us = now_us();
    if (plan.mode == TrafficPlan::Mode::closed) rec.intended_us = rec.sent_us;
    sh.progress.sent.fetch_add(attempt == 0 ? 1 : 0);
    const auto budget = abandon ? plan.disconnect_after : plan.client_timeout;
    stream->expires_after(budget);
    auto [wec, wn] = co_await bhttp::async_write(*stream, req, kTuple);
    // Written (or failed): the instance may be stopped now, its shutdown answers what it received.
    if (!(wec && reused && attempt == 0 && wn == 0)) lease.release();
    if (wec) {
      // Only a request of which no byte left can be sent again: anything else may have reached the
      // server and been processed, and a second copy would be a duplicate the client caused.
      if (reused && attempt == 0 && wn == 0 && !sh.stopping) {
        sh.progress.retried_unsent.fetch_add(1);
        continue;
      }
      fail_record(rec, sh, "write: " + wec.message());
      co_return;
    }
    if (sh.stopping) {
      fail_record(rec, sh, "interrupted");
      co_return;
    }
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    auto [rec_ec, rn] = co_await bhttp::async_read(*stream, buffer, parser, kTuple);
    if (rec_ec == beast::error::timeout && abandon) {
      // Scripted client disconnect: the socket is closed with the request still pending at the gateway.
      stream->socket().close();
      rec.done_us = now_us();
      rec.client_error = "disconnected";
      rec.outcome = Outcome::disconnected;
      co_return;
    }
    if (rec_ec) {
      if (sh.stopping) {
        fail_record(rec, sh, "interrupted");
        co_return;
      }
      rec.done_us = now_us();
      rec.client_error = "read: " + rec_ec.message() + (reused ? " (on a reused keep-alive connection)" : "");
      rec.outcome = rec_ec == beast::error::timeout ? Outcome::no_answer : Outcome::error;
      co_return;
    }
    rec.done_us = now_us();
    auto& res = parser.get();
    rec.http_status = static_cast<int>(res.result_int());
    rec.outcome = rec.http_status == plan.answer.ok_status        ? Outcome::ok
                  : rec.http_status == plan.answer.timeout_status ? Outcome::timeout
                  : rec.http_status == 503                         ? Outcome::rejected
                                                                   : Outcome::error;
    std::string body = std::move(res.body());
    {
      EnvList headers;
      if (plan.answer.correlation_id == IdSource::header) {
        for (const auto& field : res) headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
      }
      if (const IdRead id = correlation_id_of(plan.answer, headers, body); id.ok()) rec.correlation_id = id.id;
    }
    if (rec.correlation_id.empty() && !plan.id_pointer.empty()) {
      // The answer is outside input: bounded, so a body nested too deep is simply an answer without an id.
      const auto j = parse_bounded(body);
      if (j.ok()) {
        std::string ptr_error;
        try {
          const auto ptr = nlohmann::json::json_pointer(plan.id_pointer);
          if (j.value.contains(ptr) && j.value[ptr].is_string()) rec.correlation_id = j.value[ptr].get<std::string>();
        } catch (const nlohmann::json::exception&) {
          // A pointer that does not fit this answer's shape (an index into an object...) finds no id.
        }
      }
    }
    // An answer other than a 200 is read whole only by the history and the HTML report: one that differs from the
    // last such answer only by its id shares that one's text (a million 504s hold one body, not a million).
    rec.response_body = rec.outcome == Outcome::ok ? AnswerText(body) : sh.answers.keep(std::move(body), rec.correlation_id);
    // Only a 200 is judged from the request's body (the history renders any request's again from the plan), so
    // only a 200 gets it, and keeps it only when the answer is not checked now and found to be its own: a long
    // run then holds no request body of a 504 or of an answer that passed, nor of a request still waiting.
    if (rec.outcome == Outcome::ok) {
      rec.request_body = recorded_request_body(plan, rec.index, rec.nonce);
      if (compact_verified_answer(plan.answer, rec, sh.may_be_run_nonce)) rec.request_body.clear();
    }
    sh.progress.answered.fetch_add(1);
    if (res.keep_alive()) {
      std::optional<std::chrono::milliseconds> server_timeout;
      if (auto it = res.find(bhttp::field::keep_alive); it != res.end()) server_timeout = keep_alive_timeout(it->value());
      sh.pool.give(port, std::move(stream), reuse_bound(plan.keepalive_idle, server_timeout));
    }
    co_return;
  }
}

// Every exception inside an exchange becomes the request's recorded error: a coroutine that
// died silently would leave its request looking unanswered.
net::awaitable<void> exchange(Shared& sh, std::size_t i) {
  std::string error;
  try {
    co_await exchange_once(sh, i);
    co_return;
  } catch (const std::exception& e) {
    error = e.what();
  }
  auto& rec = sh.records[i];
  fail_record(rec, sh, "client: " + error);
}

net::awaitable<void> spawned_exchange(Shared& sh, std::size_t i) {
  const LiveGuard live(sh, /*adopt=*/true);
  co_await exchange(sh, i);
}

// `indexes`: the request index of each record (0..count-1 for a full run, the --only list otherwise).
void prepare(Shared& sh, const std::vector<std::uint64_t>& indexes) {
  const auto& plan = sh.plan;
  sh.records.resize(indexes.size());
  for (std::size_t i = 0; i < indexes.size(); ++i) {
    auto& r = sh.records[i];
    r.index = indexes[i];
    r.nonce = request_key(plan.key_prefix, plan.seed, r.index);
    r.gateway = static_cast<int>(r.index % plan.gateway_ports.size());
  }
  sh.may_be_run_nonce = [&plan](std::string_view n) { return is_plan_key(n, plan.key_prefix, plan.seed); };
}

net::awaitable<void> closed_worker(Shared& sh, std::atomic<std::size_t>& next, std::int64_t stop_at_us) {
  const LiveGuard live(sh);
  sh.started = true;
  for (;;) {
    const std::size_t i = next.fetch_add(1);
    if (i >= sh.records.size()) co_return;
    if (sh.stopping || (stop_at_us > 0 && now_us() >= stop_at_us)) {
      sh.records[i].outcome = Outcome::not_sent;
      continue;
    }
    co_await exchange(sh, i);
  }
}

void rethrow(std::exception_ptr e) {
  if (e) std::rethrow_exception(e);
}

net::awaitable<void> open_loop(Shared& sh, std::int64_t start_us) {
  const LiveGuard live(sh);
  sh.started = true;
  auto executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor);
  sh.schedule_timer = &timer;
  const auto steady_start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < sh.records.size(); ++i) {
    const auto offset = std::chrono::microseconds(sh.offsets_us[i]);
    timer.expires_at(steady_start + offset);
    co_await timer.async_wait(kTuple);
    if (sh.stopping) {
      for (std::size_t k = i; k < sh.records.size(); ++k) sh.records[k].outcome = Outcome::not_sent;
      break;
    }
    sh.records[i].intended_us = start_us + offset.count();
    ++sh.live;
    net::co_spawn(executor, spawned_exchange(sh, i), rethrow);
  }
  sh.schedule_timer = nullptr;
}

// Turns TrafficProgress::stop (set by another thread) into a stop on this one: no more sends, and
// every connect/write/read in flight cancelled, so run_traffic returns promptly.
net::awaitable<void> stop_watcher(Shared& sh) {
  net::steady_timer timer(co_await net::this_coro::executor);
  while (sh.live > 0 || !sh.started) {
    timer.expires_after(std::chrono::milliseconds(20));
    co_await timer.async_wait(kTuple);
    if (!sh.stopping && sh.progress.stop.load()) {
      sh.stopping = true;
      if (sh.schedule_timer) sh.schedule_timer->cancel();
      for (auto* s : sh.active) s->cancel();
    }
  }
}

}  // namespace

bool resolve_host(const std::string& host, std::string& error) {
  boost::system::error_code ec;
  (void)net::ip::make_address(host, ec);
  if (!ec) return true;
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  const auto results = resolver.resolve(host, "", ec);
  if (ec || results.empty()) {
    error = "cannot resolve host \"" + host + "\": " + (ec ? ec.message() : std::string("no address"));
    return false;
  }
  return true;
}

std::vector<RequestRecord> run_traffic(const TrafficPlan& plan, TrafficProgress& progress) {
  std::vector<RequestRecord> records;
  if (plan.gateway_ports.empty()) return records;
  // The io_context outlives the pooled connections (declared first, destroyed last).
  net::io_context ioc(1);
  Shared sh{plan, progress, records, ConnectionPool(progress), {}, {}, {}, {}, 0, false, false, {}, nullptr, {}};
  std::uint64_t count = plan.requests;
  if (plan.mode == TrafficPlan::Mode::open) {
    sh.offsets_us = open_loop_offsets(plan);
    count = sh.offsets_us.size();
    if (count == 0) return records;
  } else if (count == 0 && plan.duration.count() > 0) {
    // Closed loop for a duration: enough records that the workers cannot run out first.
    count = kClosedLoopForDuration;
  }
  if (count == 0) count = 1;
  // Resolved once, up front: a name that does not resolve fails every request with the reason,
  // instead of an exception inside each request's coroutine.
  boost::system::error_code ec;
  sh.address = net::ip::make_address(plan.host, ec);
  if (ec) {
    tcp::resolver resolver(ioc);
    const auto results = resolver.resolve(plan.host, "", ec);
    if (ec || results.empty()) {
      sh.resolve_error = "resolve " + plan.host + ": " + (ec ? ec.message() : std::string("no address"));
    } else {
      // "localhost" often lists ::1 first while servers here listen on 127.0.0.1: prefer IPv4.
      sh.address = results.begin()->endpoint().address();
      for (const auto& r : results) {
        if (r.endpoint().address().is_v4()) {
          sh.address = r.endpoint().address();
          break;
        }
      }
    }
  }
  std::vector<std::uint64_t> indexes;
  if (plan.only.empty()) {
    indexes.resize(count);
    std::iota(indexes.begin(), indexes.end(), std::uint64_t{0});
  } else {
    // Indexes beyond the full run do not exist (the runner refuses them with a message).
    std::copy_if(plan.only.begin(), plan.only.end(), std::back_inserter(indexes), [&](auto i) { return i < count; });
    if (indexes.empty()) return records;
    if (plan.mode == TrafficPlan::Mode::open) sh.offsets_us.resize(indexes.size());
  }
  prepare(sh, indexes);
  if (plan.keep) sh.pool.adopt(*plan.keep, ioc, sh.address.is_v4(), plan.keepalive_idle);
  const std::int64_t start = now_us();
  std::atomic<std::size_t> next{0};
  if (plan.mode == TrafficPlan::Mode::closed) {
    const std::int64_t stop_at = plan.duration.count() > 0 ? start + plan.duration.count() : 0;
    for (int w = 0; w < std::max(1, plan.concurrency); ++w) {
      net::co_spawn(ioc, closed_worker(sh, next, stop_at), rethrow);
    }
  } else {
    net::co_spawn(ioc, open_loop(sh, start), rethrow);
  }
  net::co_spawn(ioc, stop_watcher(sh), rethrow);
  ioc.run();
  if (plan.keep) sh.pool.hand_over(*plan.keep);
  // Requests the time (or a stop) did not allow to send are not part of the run.
  records.erase(std::remove_if(records.begin(), records.end(), [](const RequestRecord& r) { return r.outcome == Outcome::not_sent; }),
                records.end());
  for (auto& r : records) r.outcome = r.outcome == Outcome::none ? Outcome::no_answer : r.outcome;
  return records;
}

}  // namespace rrkit::harness
