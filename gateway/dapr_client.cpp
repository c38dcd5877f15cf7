#include "gateway/dapr_client.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>


#include <array>
#include <deque>
#include <mutex>
#include <vector>

#include "gateway/bulk_publish.h"
#include "gateway/dapr_retry.h"
#include "gateway/executors.h"
#include "gateway/http_message.h"
#include "gateway/read_deadline.h"
#include "gateway/socket_peek.h"
#include "gateway/tuple_awaitable.h"
#include "gateway/write_now.h"

namespace rrkit::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::use_awaitable;

namespace {

// The unreserved bytes of RFC 3986, looked up (a publish encodes two ids per request).
constexpr std::array<bool, 256> kUnreserved = [] {
  std::array<bool, 256> table{};
  for (int c = 0; c < 256; ++c) {
    table[c] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
               c == '.' || c == '~';
  }
  return table;
}();

bool unreserved(unsigned char c) { return kUnreserved[c]; }

// Appends value percent-encoded: every byte but the unreserved ones (RFC 3986) as %XX.
void append_encoded(std::string& out, std::string_view value) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::size_t i = 0;
  while (i < value.size()) {
    std::size_t run = i;  // a run of unreserved bytes goes in at once
    while (run < value.size() && unreserved(static_cast<unsigned char>(value[run]))) ++run;
    out.append(value.data() + i, run - i);
    if (run == value.size()) break;
    const auto c = static_cast<unsigned char>(value[run]);
    const char escaped[3] = {'%', kHex[c >> 4], kHex[c & 15]};
    out.append(escaped, 3);
    i = run + 1;
  }
}

}  // namespace

std::string request_wire(std::string_view method, std::string_view target, std::string_view host_field,
                         std::string_view api_token, std::string_view body) {
  std::string wire;
  wire.reserve(method.size() + target.size() + host_field.size() + api_token.size() + body.size() + 128);
  wire.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: ").append(host_field).append("\r\n");
  if (!api_token.empty()) wire.append("dapr-api-token: ").append(api_token).append("\r\n");
  if (!body.empty() || method == "POST") {
    wire.append("Content-Type: application/json\r\nContent-Length: ").append(std::to_string(body.size())).append("\r\n");
  }
  wire.append("\r\n").append(body);
  return wire;
}

std::string url_encode(const std::string& value) {
  std::string out;
  out.reserve(value.size());
  append_encoded(out, value);
  return out;
}

std::string publish_target(const std::string& pubsub, const std::string& topic, const PublishMetadata& metadata) {
  // Every publish of a gateway goes to the same pubsub and topic: their encoded prefix is kept
  // (per thread, so without a lock) instead of encoded again per request.
  struct Prefix {
    std::string pubsub, topic, text;
  };
  thread_local Prefix prefix;
  if (prefix.text.empty() || prefix.pubsub != pubsub || prefix.topic != topic) {
    prefix = {pubsub, topic, "/v1.0/publish/" + url_encode(pubsub) + "/" + url_encode(topic) + "?metadata.rawPayload=true"};
  }
  std::string target;
  target.reserve(prefix.text.size() + 160);
  target += prefix.text;
  for (const auto& [name, value] : metadata) {
    target += "&metadata.";
    append_encoded(target, name);
    target += '=';
    append_encoded(target, value);
  }
  return target;
}

namespace {

struct Conn {
  Conn(asio::io_context& ioc, bool single_thread)
      : strand(connection_executor(ioc, single_thread)), stream(strand), read_deadline(ReadDeadline::make(strand)) {}
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;
  ~Conn() { read_deadline->close(); }
  asio::any_io_executor strand;  // a strand unless there is one I/O thread
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
  std::shared_ptr<ReadDeadline> read_deadline;  // of the read of daprd's answer (see read_deadline.h)
  bool connected = false;
};

// A caller queued for a connection slot; woken by cancelling its timer on its own executor.
struct Slot {
  explicit Slot(const asio::any_io_executor& ex) : timer(ex) {}
  asio::steady_timer timer;
  bool granted = false;
  std::unique_ptr<Conn> conn;  // a handed-over idle connection, or null: open a new one
};

}  // namespace

struct DaprClient::Impl {
  Impl(asio::io_context& i, DaprClientConfig c)
      : ioc(i), config(std::move(c)), host_field(config.host + ":" + std::to_string(config.port)) {}
  asio::io_context& ioc;
  DaprClientConfig config;
  std::string host_field;  // the Host field of every request
  std::mutex mutex;
  std::vector<std::unique_ptr<Conn>> idle;
  std::size_t open = 0;  // connections counted against max_connections (idle or in use)
  std::deque<std::shared_ptr<Slot>> waiters;

  // Returns a connection slot: a pooled idle connection, or a fresh unconnected one.
  asio::awaitable<std::unique_ptr<Conn>> acquire(std::chrono::steady_clock::time_point deadline, bool& ok) {
    std::shared_ptr<Slot> slot;
    {
      std::lock_guard lock(mutex);
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        ok = true;
        co_return c;
      }
      if (open < config.max_connections) {
        ++open;
        ok = true;
        co_return std::make_unique<Conn>(ioc, config.single_thread);
      }
      slot = std::make_shared<Slot>(co_await asio::this_coro::executor);
      waiters.push_back(slot);
    }
    slot->timer.expires_at(deadline);
    co_await slot->timer.async_wait(tuple_awaitable);
    std::lock_guard lock(mutex);
    if (!slot->granted) {
      // Timed out in the queue: leave it, nobody will hand us a slot now.
      std::erase(waiters, slot);
      ok = false;
      co_return nullptr;
    }
    ok = true;
    co_return slot->conn ? std::move(slot->conn) : std::make_unique<Conn>(ioc, config.single_thread);
  }

  // Gives a connection (or, when null, its slot) to the next queued caller or the pool.
  void release(std::unique_ptr<Conn> conn) {
    std::lock_guard lock(mutex);
    if (!waiters.empty()) {
      auto slot = std::move(waiters.front());
      waiters.pop_front();
      slot->granted = true;
      slot->conn = std::move(conn);
      asio::post(slot->timer.get_executor(), [slot] { slot->timer.cancel(); });
      return;
    }
    if (conn) {
      idle.push_back(std::move(conn));
    } else {
      --open;
    }
  }

  struct Exchange {
    DaprResult result;
    bool keep = false;
    ExchangeFailure failure;  // what the retry decision needs when result is not ok
  };

  // An idle pooled connection that daprd closed (or wrote to unasked) is not worth a request:
  // sending on it would fail after the bytes left, and such a request may not be retried.
  // EOF, or unsolicited bytes (e.g. a 408): the stream is out of step.
  static bool peer_closed(tcp::socket& socket) { return peek_socket(socket) != Peek::nothing; }

  // An exchange that failed after `written` bytes of the request left: what the retry decision needs.
  static Exchange failed(Exchange ex, std::size_t written, const boost::system::error_code& ec, const char* what) {
    const bool timed_out = ec == beast::error::timeout;
    ex.failure.bytes_written = written;
    ex.failure.timed_out = timed_out;
    ex.result = {timed_out ? DaprResult::Kind::timeout : DaprResult::Kind::unreachable, 0, {}, what + ec.message()};
    return ex;
  }

  // `wire` is the whole request as serialised once by call(): one plain write per attempt.
  asio::awaitable<Exchange> exchange(Conn& c, const std::string& wire, std::chrono::steady_clock::time_point deadline) {
    Exchange ex;
    if (c.connected && peer_closed(c.stream.socket())) {
      boost::system::error_code ignored;
      c.stream.socket().close(ignored);
      c.buffer.clear();
      c.connected = false;
    }
    const bool reused = c.connected;
    ex.failure.reused = reused;
    if (!c.connected) {
      c.stream.expires_at(deadline);
      boost::system::error_code ec;
      const auto address = asio::ip::make_address(config.host, ec);
      if (ec) {
        ex.result = {DaprResult::Kind::unreachable, 0, {}, "bad daprd host: " + config.host};
        co_return ex;
      }
      auto [cec] = co_await c.stream.async_connect(tcp::endpoint(address, config.port), tuple_awaitable);
      if (cec) {
        ex.result = {cec == beast::error::timeout ? DaprResult::Kind::timeout : DaprResult::Kind::unreachable, 0, {},
                     "connect to daprd: " + cec.message()};
        co_return ex;
      }
      c.connected = true;
    }
    std::size_t written = write_now(c.stream.socket(), wire);
    if (written < wire.size()) {
      c.stream.expires_at(deadline);
      auto [wec, wn] = co_await asio::async_write(c.stream, asio::buffer(wire) + written, tuple_awaitable);
      written += wn;
      if (wec) co_return failed(std::move(ex), written, wec, "write to daprd: ");
    }
    http::response_parser<http::string_body> parser;
    parser.body_limit(4 * 1024 * 1024);
    parser.eager(true);
    // daprd's answer (a 204, or a short error) nearly always arrives in one read and is parsed from
    // the buffer; Beast's composed read takes over when it does not.
    boost::system::error_code rec = parse_buffered(parser, c.buffer);
    if (rec == http::error::need_more && c.buffer.size() == 0) {
      auto [ec, n] = co_await c.read_deadline->read_some(c.stream.socket(), c.buffer.prepare(2048), deadline);
      c.buffer.commit(n);
      if (!ec) {
        rec = parse_buffered(parser, c.buffer);
      } else if (ec == asio::error::eof) {
        // What Beast's read makes of the end of the stream. Not read again: after a read found the
        // end, Asio waits for a readiness event that will not come.
        rec = {};
        if (parser.got_some()) {
          parser.put_eof(rec);
        } else {
          rec = http::error::end_of_stream;
        }
      } else {
        rec = ec;  // a timeout or a reset, as Beast's read reports them
      }
    }
    if (rec == http::error::need_more) {
      c.stream.expires_at(deadline);
      auto [ec, n] = co_await http::async_read(c.stream, c.buffer, parser, tuple_awaitable);
      rec = ec;
    }
    // The whole request was written: daprd may have published it before the read failed.
    if (rec) co_return failed(std::move(ex), written, rec, "read from daprd: ");
    auto res = parser.release();
    const int status = static_cast<int>(res.result_int());
    ex.keep = res.keep_alive();
    ex.result = {status >= 200 && status < 300 ? DaprResult::Kind::ok : DaprResult::Kind::rejected, status,
                 std::move(res.body()), {}};
    co_return ex;
  }

  // Runs on the connection's strand so that the stream is only ever touched there.
  asio::awaitable<DaprResult> run_on(Conn* c, const std::string& wire, std::chrono::steady_clock::time_point deadline,
                                     bool& keep, ExchangeFailure& failure) {
    auto ex = co_await exchange(*c, wire, deadline);
    keep = ex.keep;
    failure = ex.failure;
    co_return ex.result;
  }
};

DaprClient::DaprClient(asio::io_context& ioc, DaprClientConfig config)
    : impl_(std::make_shared<Impl>(ioc, std::move(config))) {}

DaprClient::~DaprClient() = default;

asio::awaitable<DaprResult> DaprClient::publish(const std::string& pubsub, const std::string& topic, std::string body,
                                                const PublishMetadata& metadata,
                                                std::chrono::steady_clock::time_point deadline, CallOptions options) {
  return call("POST", publish_target(pubsub, topic, metadata), std::move(body), deadline, options);
}

asio::awaitable<DaprResult> DaprClient::publish(const std::string& pubsub, const std::string& topic, std::string body,
                                                const PublishMetadata& metadata,
                                                std::chrono::steady_clock::time_point deadline) {
  return call("POST", publish_target(pubsub, topic, metadata), std::move(body), deadline, CallOptions{});
}

asio::awaitable<DaprResult> DaprClient::healthz(std::chrono::steady_clock::time_point deadline) {
  return call("GET", "/v1.0/healthz", "", deadline, CallOptions{});
}

asio::awaitable<DaprResult> DaprClient::publish_bulk(const std::string& pubsub, const std::string& topic,
                                                     std::string body, std::chrono::steady_clock::time_point deadline,
                                                     CallOptions options) {
  return call("POST", bulk_publish_target(pubsub, topic), std::move(body), deadline, options);
}

asio::awaitable<DaprResult> DaprClient::call(std::string method, std::string target, std::string body,
                                             std::chrono::steady_clock::time_point deadline, CallOptions options) {
  auto impl = impl_;
  const bool bounded_wait = options.acquire_deadline && *options.acquire_deadline < deadline;
  const auto acquire_by = bounded_wait ? *options.acquire_deadline : deadline;
  // Serialised once: a retry sends the same bytes, and neither attempt copies the request.
  std::string wire = request_wire(method, target, impl->host_field, impl->config.api_token, body);
  body = std::string();
  target = std::string();

  for (int attempt = 0;; ++attempt) {
    bool ok = false;
    auto conn = co_await impl->acquire(acquire_by, ok);
    if (!ok) {
      if (bounded_wait) co_return DaprResult{DaprResult::Kind::busy, 0, {}, "no connection to daprd free in time"};
      co_return DaprResult{DaprResult::Kind::timeout, 0, {}, "no connection to daprd free before the deadline"};
    }
    if (options.abandoned && options.abandoned->load()) {
      impl->release(std::move(conn));  // untouched: as good as before
      co_return DaprResult{DaprResult::Kind::abandoned, 0, {}, "the caller answered its client before sending"};
    }
    bool keep = false;
    ExchangeFailure failure;
    Conn* c = conn.get();
    // Two statements, not a conditional expression: GCC 12 destroys the result of a co_await in
    // a ?: operand twice.
    DaprResult result;
    if (impl->config.single_thread) {
      result = co_await impl->run_on(c, wire, deadline, keep, failure);
    } else {
      result = co_await asio::co_spawn(c->strand, impl->run_on(c, wire, deadline, keep, failure), use_awaitable);
    }
    if (result.ok() || result.kind == DaprResult::Kind::rejected) {
      if (keep) {
        impl->release(std::move(conn));
      } else {
        impl->release(nullptr);
      }
      co_return result;
    }
    impl->release(nullptr);  // a failed connection is never reused
    if (!may_retry(failure, attempt)) co_return result;
  }
}

void DaprClient::close_idle() {
  std::lock_guard lock(impl_->mutex);
  impl_->open -= impl_->idle.size();
  impl_->idle.clear();
}

}  // namespace rrkit::gateway
