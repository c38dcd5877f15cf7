#include "harness/traffic.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>

#include "common/ids.h"

namespace rrkit::harness {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
constexpr auto kTuple = net::as_tuple(net::use_awaitable);

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

nlohmann::json render_body(const nlohmann::json& templ, std::uint64_t seq, const std::string& nonce,
                           const std::string& nonce_field) {
  std::function<nlohmann::json(const nlohmann::json&)> fill = [&](const nlohmann::json& node) -> nlohmann::json {
    if (node.is_string()) {
      const auto& s = node.get_ref<const std::string&>();
      if (s == "{{seq}}") return seq;
      if (s == "{{nonce}}") return nonce;
      return node;
    }
    if (node.is_object()) {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [k, v] : node.items()) out[k] = fill(v);
      return out;
    }
    if (node.is_array()) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& v : node) out.push_back(fill(v));
      return out;
    }
    return node;
  };
  nlohmann::json body = templ.is_object() ? fill(templ) : nlohmann::json::object();
  body[nonce_field] = nonce;
  return body;
}

namespace {

// Deterministic per-request choice in [0,1) from (seed, index): which requests get abandoned.
double unit_hash(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E5ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ull << 53);
}

// Idle keep-alive connections per gateway port; owned by the traffic run's single thread.
class ConnectionPool {
 public:
  std::unique_ptr<beast::tcp_stream> take(std::uint16_t port) {
    auto& q = idle_[port];
    if (q.empty()) return nullptr;
    auto s = std::move(q.back());
    q.pop_back();
    return s;
  }
  void give(std::uint16_t port, std::unique_ptr<beast::tcp_stream> s) {
    auto& q = idle_[port];
    if (q.size() < 256) q.push_back(std::move(s));
  }

 private:
  std::map<std::uint16_t, std::vector<std::unique_ptr<beast::tcp_stream>>> idle_;
};

struct Shared {
  const TrafficPlan& plan;
  TrafficProgress& progress;
  std::vector<RequestRecord>& records;
  ConnectionPool pool;
  std::vector<std::string> bodies;
};

// One exchange. The record was pre-filled with index, nonce, gateway, intended time.
net::awaitable<void> exchange(Shared& sh, std::size_t i) {
  auto& rec = sh.records[i];
  const auto& plan = sh.plan;
  const std::uint16_t port = plan.gateway_ports[static_cast<std::size_t>(rec.gateway)];
  const bool abandon = plan.disconnect_fraction > 0 && unit_hash(plan.seed, rec.index) < plan.disconnect_fraction;
  auto executor = co_await net::this_coro::executor;

  bhttp::request<bhttp::string_body> req{bhttp::verb::post, plan.target, 11};
  req.set(bhttp::field::host, plan.host);
  req.set(bhttp::field::content_type, "application/json");
  req.keep_alive(true);
  if (plan.request_timeout_ms > 0) req.set("X-Request-Timeout-Ms", std::to_string(plan.request_timeout_ms));
  req.body() = std::move(sh.bodies[i]);
  req.prepare_payload();

  for (int attempt = 0; attempt < 2; ++attempt) {
    // A pooled connection may have been closed by the server meanwhile; one retry on a fresh one,
    // but only if nothing was written yet (the first attempt failed while writing).
    auto stream = sh.pool.take(port);
    const bool reused = stream != nullptr;
    if (!stream) {
      stream = std::make_unique<beast::tcp_stream>(executor);
      stream->expires_after(std::chrono::seconds(10));
      auto [cec] = co_await stream->async_connect(tcp::endpoint(net::ip::make_address(plan.host), port), kTuple);
      if (cec) {
        rec.sent_us = rec.sent_us ? rec.sent_us : now_us();
        rec.done_us = now_us();
        rec.client_error = "connect: " + cec.message();
        rec.outcome = "error";
        co_return;
      }
    }
    if (!rec.sent_us) rec.sent_us = now_us();
    if (plan.mode == TrafficPlan::Mode::closed) rec.intended_us = rec.sent_us;
    sh.progress.sent.fetch_add(attempt == 0 ? 1 : 0);
    const auto budget = abandon ? plan.disconnect_after : plan.client_timeout;
    stream->expires_after(budget);
    auto [wec, wn] = co_await bhttp::async_write(*stream, req, kTuple);
    if (wec) {
      if (reused && attempt == 0) continue;
      rec.done_us = now_us();
      rec.client_error = "write: " + wec.message();
      rec.outcome = "error";
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
      rec.outcome = "disconnected";
      co_return;
    }
    if (rec_ec) {
      if (reused && attempt == 0 && rec_ec == bhttp::error::end_of_stream) continue;
      rec.done_us = now_us();
      rec.client_error = "read: " + rec_ec.message();
      rec.outcome = rec_ec == beast::error::timeout ? "no_answer" : "error";
      co_return;
    }
    rec.done_us = now_us();
    auto& res = parser.get();
    rec.http_status = static_cast<int>(res.result_int());
    rec.outcome = rec.http_status == 200   ? "ok"
                  : rec.http_status == 504 ? "timeout"
                  : rec.http_status == 503 ? "rejected"
                                           : "error";
    if (auto it = res.find(plan.id_header); it != res.end()) rec.correlation_id = std::string(it->value());
    rec.response_body = std::move(res.body());
    if (rec.correlation_id.empty()) {
      const auto j = nlohmann::json::parse(rec.response_body, nullptr, false);
      if (!j.is_discarded()) {
        const auto ptr = nlohmann::json::json_pointer(plan.id_pointer);
        if (j.contains(ptr) && j[ptr].is_string()) rec.correlation_id = j[ptr].get<std::string>();
      }
    }
    sh.progress.answered.fetch_add(1);
    if (res.keep_alive()) sh.pool.give(port, std::move(stream));
    co_return;
  }
}

void prepare(Shared& sh, std::size_t count) {
  const auto& plan = sh.plan;
  sh.records.resize(count);
  sh.bodies.resize(count);
  for (std::size_t i = 0; i < count; ++i) {
    auto& r = sh.records[i];
    r.index = i;
    r.nonce = new_uuid_v4();
    r.gateway = static_cast<int>(i % plan.gateway_ports.size());
    r.request_body = render_body(plan.body_template, i, r.nonce, plan.nonce_field).dump();
    sh.bodies[i] = r.request_body;
  }
}

net::awaitable<void> closed_worker(Shared& sh, std::atomic<std::size_t>& next, std::int64_t stop_at_us) {
  for (;;) {
    const std::size_t i = next.fetch_add(1);
    if (i >= sh.records.size()) co_return;
    if (stop_at_us > 0 && now_us() >= stop_at_us) {
      sh.records[i].outcome = "not_sent";
      continue;
    }
    co_await exchange(sh, i);
  }
}

net::awaitable<void> open_loop(Shared& sh, std::int64_t start_us) {
  auto executor = co_await net::this_coro::executor;
  net::steady_timer timer(executor);
  const double interval_us = 1e6 / sh.plan.rate;
  const auto steady_start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < sh.records.size(); ++i) {
    const auto offset = std::chrono::microseconds(static_cast<std::int64_t>(static_cast<double>(i) * interval_us));
    timer.expires_at(steady_start + offset);
    co_await timer.async_wait(kTuple);
    sh.records[i].intended_us = start_us + offset.count();
    net::co_spawn(executor, exchange(sh, i), net::detached);
  }
}

}  // namespace

std::vector<RequestRecord> run_traffic(const TrafficPlan& plan, TrafficProgress& progress) {
  std::vector<RequestRecord> records;
  if (plan.gateway_ports.empty()) return records;
  std::uint64_t count = plan.requests;
  if (plan.mode == TrafficPlan::Mode::open && plan.duration.count() > 0) {
    const auto by_time = static_cast<std::uint64_t>(plan.rate * static_cast<double>(plan.duration.count()) / 1e6);
    count = count == 0 ? by_time : std::min(count, by_time);
  }
  if (count == 0 && plan.mode == TrafficPlan::Mode::closed && plan.duration.count() > 0) {
    // Closed loop for a duration: enough records that the workers cannot run out first.
    count = 50000;
  }
  if (count == 0) count = 1;
  // The io_context outlives the pooled connections (declared first, destroyed last).
  net::io_context ioc(1);
  Shared sh{plan, progress, records, {}, {}};
  prepare(sh, count);
  const std::int64_t start = now_us();
  if (plan.mode == TrafficPlan::Mode::closed) {
    std::atomic<std::size_t> next{0};
    const std::int64_t stop_at = plan.duration.count() > 0 ? start + plan.duration.count() : 0;
    for (int w = 0; w < std::max(1, plan.concurrency); ++w) {
      net::co_spawn(ioc, closed_worker(sh, next, stop_at), net::detached);
    }
    ioc.run();
  } else {
    net::co_spawn(ioc, open_loop(sh, start), net::detached);
    ioc.run();
  }
  // Closed loop for a duration: drop the records the time did not allow to send.
  records.erase(std::remove_if(records.begin(), records.end(), [](const RequestRecord& r) { return r.outcome == "not_sent"; }),
                records.end());
  for (auto& r : records) {
    if (r.outcome.empty()) r.outcome = "no_answer";
  }
  return records;
}

}  // namespace rrkit::harness
