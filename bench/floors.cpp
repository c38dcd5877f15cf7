#include "bench/floors.h"

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>

#include "bench/floor_grpc.h"
#include "common/base64.h"
#include "common/ids.h"
#include "testkit/kafka.h"
#include "testkit/net.h"
#include "testkit/tiny_http_server.h"

namespace rrkit::bench {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

// Producer and consumer settings apart: librdkafka warns about properties of the other kind.
std::unique_ptr<RdKafka::Conf> make_conf(const std::string& brokers, bool producer, std::string& error) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::vector<std::pair<std::string, std::string>> settings = {{"bootstrap.servers", brokers}, {"client.id", "rr-bench"}};
  if (producer) {
    settings.emplace_back("linger.ms", "0");
  } else {
    settings.emplace_back("fetch.wait.max.ms", "100");
    settings.emplace_back("enable.auto.commit", "false");
  }
  for (const auto& [k, v] : settings) {
    if (conf->set(k, v, error) != RdKafka::Conf::CONF_OK) return nullptr;
  }
  return conf;
}

// A consumer reading partition 0 of `topic` from its end; assign() needs no group rebalance.
std::unique_ptr<RdKafka::KafkaConsumer> make_consumer(const std::string& brokers, const std::string& topic,
                                                      const std::string& group, std::string& error) {
  auto conf = make_conf(brokers, false, error);
  if (!conf || conf->set("group.id", group, error) != RdKafka::Conf::CONF_OK) return nullptr;
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), error));
  if (!c) return nullptr;
  std::unique_ptr<RdKafka::TopicPartition> tp(RdKafka::TopicPartition::create(topic, 0, RdKafka::Topic::OFFSET_END));
  std::vector<RdKafka::TopicPartition*> parts{tp.get()};
  if (c->assign(parts) != RdKafka::ERR_NO_ERROR) {
    error = "assign " + topic + " failed";
    return nullptr;
  }
  return c;
}

std::unique_ptr<RdKafka::Producer> make_producer(const std::string& brokers, std::string& error) {
  auto conf = make_conf(brokers, true, error);
  if (!conf) return nullptr;
  return std::unique_ptr<RdKafka::Producer>(RdKafka::Producer::create(conf.get(), error));
}

bool produce(RdKafka::Producer& p, const std::string& topic, const std::string& payload) {
  const auto err = p.produce(topic, 0, RdKafka::Producer::RK_MSG_COPY, const_cast<char*>(payload.data()),
                             payload.size(), nullptr, 0, 0, nullptr);
  p.poll(0);
  return err == RdKafka::ERR_NO_ERROR;
}

}  // namespace

bool kafka_pingpong(const std::string& brokers, int requests, FloorResult& out, std::string& error) {
  const std::string req_topic = "bench.a.requests", rep_topic = "bench.a.replies";
  if (!kafka::ensure_topics(brokers, {{req_topic, 1}, {rep_topic, 1}}, 30s, error)) return false;

  // The replier: answers each request with its own payload, as fast as librdkafka allows.
  std::atomic<bool> stop{false};
  std::string replier_error;
  auto replier_in = make_consumer(brokers, req_topic, "bench-a-replier", replier_error);
  auto replier_out = make_producer(brokers, replier_error);
  if (!replier_in || !replier_out) {
    error = "replier: " + replier_error;
    return false;
  }
  std::thread replier([&] {
    while (!stop) {
      std::unique_ptr<RdKafka::Message> m(replier_in->consume(100));
      replier_out->poll(0);
      if (!m || m->err() != RdKafka::ERR_NO_ERROR) continue;
      produce(*replier_out, rep_topic, std::string(static_cast<const char*>(m->payload()), m->len()));
    }
  });

  auto requester_in = make_consumer(brokers, rep_topic, "bench-a-requester", error);
  auto requester_out = make_producer(brokers, error);
  bool ok = requester_in && requester_out;

  // One exchange: false when no matching reply came within the wait.
  auto exchange = [&](const std::string& id, std::chrono::milliseconds wait) {
    if (!produce(*requester_out, req_topic, id)) return false;
    const auto until = Clock::now() + wait;
    while (Clock::now() < until) {
      std::unique_ptr<RdKafka::Message> m(requester_in->consume(50));
      requester_out->poll(0);
      if (m && m->err() == RdKafka::ERR_NO_ERROR &&
          std::string_view(static_cast<const char*>(m->payload()), m->len()) == id) {
        return true;
      }
    }
    return false;
  };

  if (ok) {
    // Warm-up: the assignments take effect (offset END is resolved) only once fetching starts.
    const auto warm_until = Clock::now() + 60s;
    int warm = 0;
    while (warm < 50 && Clock::now() < warm_until) {
      if (exchange(new_uuid_v4(), 2s)) ++warm;
    }
    if (warm < 50) {
      error = "raw Kafka ping-pong never answered during warm-up";
      ok = false;
    }
  }
  if (ok) {
    std::vector<double> ms;
    for (int i = 0; i < requests; ++i) {
      const auto t0 = Clock::now();
      if (exchange(new_uuid_v4(), 5s)) {
        ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      } else {
        ++out.lost;
      }
    }
    out.latency = percentiles(ms);
    out.samples_ms = std::move(ms);
    out.notes = "librdkafka 2.0.2 C++, one thread each side, linger.ms=0, 1 partition, sequential";
  }
  stop = true;
  replier.join();
  if (requester_in) requester_in->close();
  replier_in->close();
  return ok;
}

namespace {

// Correlation ids whose reply daprd has delivered; filled on the HTTP server's thread.
struct Arrivals {
  std::mutex mu;
  std::condition_variable cv;
  std::set<std::string> ids;

  bool wait_for(const std::string& id, std::chrono::milliseconds wait) {
    std::unique_lock lock(mu);
    const bool seen = cv.wait_for(lock, wait, [&] { return ids.count(id) > 0; });
    ids.erase(id);
    return seen;
  }
};

// A delivery is a CloudEvent with data_base64 (raw payload subscription), with data, or the plain reply.
std::string correlation_id_of(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("data_base64") && j["data_base64"].is_string()) {
    const auto raw = base64_decode(j["data_base64"].get<std::string>());
    j = raw ? nlohmann::json::parse(*raw, nullptr, false) : nlohmann::json();
  } else if (j.is_object() && j.contains("data")) {
    j = j["data"].is_string() ? nlohmann::json::parse(j["data"].get<std::string>(), nullptr, false) : j["data"];
  }
  return j.is_object() && j.contains("correlationId") && j["correlationId"].is_string()
             ? j["correlationId"].get<std::string>()
             : std::string();
}

// One kept-alive HTTP/1.1 connection to daprd, the way rr-gateway (path c) and Dapr's own SDKs
// publish: the floor then pays for daprd, not for a TCP handshake and a new daprd connection per
// publish, so c/b measures the gateway rather than the floor's client.
class KeptAliveClient {
 public:
  explicit KeptAliveClient(std::uint16_t port) : port_(port) {}

  // The answer's status, or -1 when none came within the timeout (the connection is then dropped
  // and the next call opens a new one). A reused connection that daprd had closed is detected by
  // the write failing, and the publish is written once more on a new one: nothing was sent.
  int post(const std::string& target, const std::string& body, std::chrono::milliseconds timeout) {
    namespace http = boost::beast::http;
    http::request<http::string_body> req{http::verb::post, target, 11};
    req.set(http::field::host, "127.0.0.1");
    req.set(http::field::content_type, "application/json");
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    for (int attempt = 0; attempt < 2; ++attempt) {
      const bool reused = stream_.has_value();
      if (!stream_ && !connect(timeout)) return -1;
      boost::system::error_code ec;
      stream_->expires_after(timeout);
      http::async_write(*stream_, req, [&](boost::system::error_code e, std::size_t) { ec = e; });
      run();
      if (ec) {
        drop();
        if (reused) continue;
        return -1;
      }
      http::response<http::string_body> res;
      http::async_read(*stream_, buffer_, res, [&](boost::system::error_code e, std::size_t) { ec = e; });
      run();
      if (ec) {
        drop();
        return -1;
      }
      if (!res.keep_alive()) drop();
      return static_cast<int>(res.result_int());
    }
    return -1;
  }

  std::uint64_t connects() const { return connects_; }

 private:
  bool connect(std::chrono::milliseconds timeout) {
    stream_.emplace(ioc_);
    const boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), port_);
    boost::system::error_code ec;
    stream_->expires_after(timeout);
    stream_->async_connect(ep, [&](boost::system::error_code e) { ec = e; });
    run();
    if (ec) {
      drop();
      return false;
    }
    ++connects_;
    return true;
  }
  void drop() {
    stream_.reset();
    buffer_.clear();
  }
  void run() {
    ioc_.restart();
    ioc_.run();
  }

  boost::asio::io_context ioc_;
  std::optional<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
  std::uint16_t port_;
  std::uint64_t connects_ = 0;
};

}  // namespace

bool dapr_pingpong(const stack::Paths& paths, const std::filesystem::path& run_dir, const std::string& brokers,
                   int requests, FloorResult& out, std::string& error, DaprTransport transport) {
  const bool grpc = transport == DaprTransport::grpc;
  const std::string req_topic = "bench.b.requests", rep_topic = "bench.b.replies";
  if (!kafka::ensure_topics(brokers, {{req_topic, 4}, {rep_topic, 4}}, 30s, error)) return false;

  Arrivals arrivals;
  test::TinyHttpServer app([&](const test::TinyRequest& r) -> test::TinyResponse {
    if (r.method == "GET" && r.target == "/dapr/subscribe") {
      const nlohmann::json subs = nlohmann::json::array(
          {{{"pubsubname", "rr-pubsub"}, {"topic", rep_topic}, {"route", "/replies"},
            {"metadata", {{"rawPayload", "true"}}}}});
      return {200, subs.dump(), "application/json"};
    }
    if (r.method == "POST" && r.target == "/replies") {
      const auto id = correlation_id_of(r.body);
      if (id.empty()) return {200, R"({"status":"DROP"})", "application/json"};
      {
        std::lock_guard lock(arrivals.mu);
        arrivals.ids.insert(id);
      }
      arrivals.cv.notify_all();
      return {200, R"({"status":"SUCCESS"})", "application/json"};
    }
    return {404, "{}", "application/json"};
  });

  stack::DaprdConfig dc;
  dc.app_id = grpc ? "bench-dapr-floor-grpc" : "bench-dapr-floor";
  dc.app_port = app.port();
  dc.http_port = net::free_port();
  dc.brokers = brokers;
  dc.log_level = "warn";
  stack::Daprd daprd(paths, run_dir, dc);
  if (!daprd.start(error)) return false;

  const std::vector<std::string> sim_argv = {(paths.bin_dir / "rr-simulator").string(),
                                             "--brokers", brokers,
                                             "--request-topic", req_topic,
                                             "--reply-topic", rep_topic,
                                             "--group", "bench-b-simulator",
                                             "--decisions", (run_dir / "b-decisions.jsonl").string(),
                                             "--control-listen", "off",
                                             "--log-level", "warn"};
  stack::Process simulator(proc::SpawnSpec{"simulator-b", sim_argv, {}, run_dir / "simulator-b.log", {}});
  if (!simulator.start(error)) return false;

  KeptAliveClient publisher(daprd.http_port());
  std::unique_ptr<GrpcPublisher> grpc_publisher;
  if (grpc && !(grpc_publisher = GrpcPublisher::connect(daprd.config().grpc_port, error))) return false;
  auto exchange = [&](int i, std::chrono::milliseconds wait) {
    const std::string id = new_uuid_v4();
    const std::string target = "/v1.0/publish/rr-pubsub/" + req_topic +
                               "?metadata.rawPayload=true&metadata.partitionKey=" + id + "&metadata.correlationId=" + id;
    const std::string body = nlohmann::json{{"correlationId", id}, {"i", i}, {"nonce", new_uuid_v4()}}.dump();
    const auto t0 = Clock::now();
    if (grpc_publisher) {
      std::string publish_error;
      if (!grpc_publisher->publish("rr-pubsub", req_topic, body,
                                   {{"rawPayload", "true"}, {"partitionKey", id}, {"correlationId", id}}, 5s,
                                   publish_error)) {
        return -1.0;
      }
    } else {
      const int status = publisher.post(target, body, 5s);
      if (status < 200 || status >= 300) return -1.0;
    }
    if (!arrivals.wait_for(id, wait)) return -1.0;
    return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  };

  // Warm-up: daprd's subscription and the simulator's group join are live once replies come back.
  const auto warm_until = Clock::now() + 90s;
  int warm = 0;
  while (warm < 50 && Clock::now() < warm_until) {
    if (exchange(-1, 2s) >= 0) ++warm;
  }
  if (warm < 50) {
    error = "Dapr floor never answered during warm-up (see " + run_dir.string() + ")";
    return false;
  }
  std::vector<double> ms;
  for (int i = 0; i < requests; ++i) {
    const double t = exchange(i, 5s);
    if (t >= 0) {
      ms.push_back(t);
    } else {
      ++out.lost;
    }
  }
  out.latency = percentiles(ms);
  out.samples_ms = std::move(ms);
  const std::string delivered =
      ", rr-simulator replies, daprd delivers to the bench's own endpoint over kept-alive connections (rawPayload "
      "subscription), sequential";
  out.notes = grpc ? "gRPC PublishEvent (dapr.proto.runtime.v1.Dapr) to daprd over one channel" + delivered
                   : "HTTP publish to daprd over a kept-alive connection (connections opened: " +
                         std::to_string(publisher.connects()) + ")" + delivered;
  simulator.stop(10s);
  daprd.stop();
  return true;
}

}  // namespace rrkit::bench
