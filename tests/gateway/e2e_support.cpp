#include "tests/gateway/e2e_support.h"

#include <librdkafka/rdkafkacpp.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <utility>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "common/ids.h"
#include "common/json_limits.h"
#include "testkit/net.h"
#include "common/reply.h"

namespace rrkit::gateway_test {

SharedStack& SharedStack::get() {
  static SharedStack s = [] {
    SharedStack out;
    out.paths = stack::Paths::discover();
    out.run_dir = fs::temp_directory_path() / ("rrkit-gateway-e2e-" + stack::timestamp() + "-" + new_uuid_v4().substr(0, 6));
    fs::create_directories(out.run_dir);
    stack::KafkaConfig kc;
    kc.topics = {{kRequestTopic, 4}, {kReplyTopic, 4}};
    out.kafka = std::make_unique<stack::Kafka>(out.paths, out.run_dir, kc);
    std::string error;
    if (!out.kafka->start(error)) throw std::runtime_error("Kafka did not start: " + error);
    return out;
  }();
  return s;
}

// ---- Replier -----------------------------------------------------------------

struct Replier::Impl {
  std::unique_ptr<RdKafka::KafkaConsumer> consumer;
  std::unique_ptr<RdKafka::Producer> producer;
  struct Delayed {
    std::chrono::steady_clock::time_point due;
    std::string topic, key, body;
  };
  std::vector<Delayed> delayed;
};

namespace {
std::unique_ptr<RdKafka::Conf> conf_for(const std::string& brokers) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  conf->set("bootstrap.servers", brokers, err);
  conf->set("log_level", "3", err);
  return conf;
}
}  // namespace

Replier::Replier(const std::string& brokers, bool answer_all_silently) : impl_(std::make_unique<Impl>()) {
  silent_ = answer_all_silently;
  std::string err;
  auto cconf = conf_for(brokers);
  cconf->set("group.id", "test-replier-" + new_uuid_v4().substr(0, 8), err);
  cconf->set("auto.offset.reset", "earliest", err);
  cconf->set("enable.partition.eof", "false", err);
  impl_->consumer.reset(RdKafka::KafkaConsumer::create(cconf.get(), err));
  if (!impl_->consumer) throw std::runtime_error("replier consumer: " + err);
  auto pconf = conf_for(brokers);
  pconf->set("linger.ms", "0", err);
  impl_->producer.reset(RdKafka::Producer::create(pconf.get(), err));
  if (!impl_->producer) throw std::runtime_error("replier producer: " + err);
  impl_->consumer->subscribe({kRequestTopic});
  thread_ = std::thread([this] { loop(); });
}

Replier::~Replier() {
  stop_ = true;
  thread_.join();
  impl_->producer->flush(5000);
  impl_->consumer->close();
}

void Replier::loop() {
  auto produce = [&](const std::string& topic, const std::string& key, const std::string& body) {
    impl_->producer->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                             const_cast<char*>(body.data()), body.size(), key.data(), key.size(), 0, nullptr);
    impl_->producer->poll(0);
    ++sent_;
  };
  while (!stop_) {
    std::unique_ptr<RdKafka::Message> msg(impl_->consumer->consume(20));
    const auto now = std::chrono::steady_clock::now();
    for (auto it = impl_->delayed.begin(); it != impl_->delayed.end();) {
      if (it->due <= now) {
        produce(it->topic, it->key, it->body);
        it = impl_->delayed.erase(it);
      } else {
        ++it;
      }
    }
    impl_->producer->poll(0);
    if (!msg || msg->err() != RdKafka::ERR_NO_ERROR) continue;
    ++received_;
    if (silent_) continue;
    const std::string payload(static_cast<const char*>(msg->payload()), msg->len());
    auto request = parse_bounded(payload).value;
    if (!request.is_object() || !request.contains("correlationId")) continue;
    const std::string id = request["correlationId"].get<std::string>();
    std::string topic = kReplyTopic;
    if (const auto* headers = msg->headers()) {
      for (const auto& h : headers->get("replyTo")) {
        topic.assign(static_cast<const char*>(h.value()), h.value_size());
      }
    }
    const std::string mode = request.value("mode", "echo");
    const std::string reply = make_reply(id, true, reply_payload_for(request)).dump();
    if (mode == "silent") continue;
    if (mode == "late") {
      impl_->delayed.push_back({now + std::chrono::milliseconds(request.value("delayMs", 1000)), topic, id, reply});
      continue;
    }
    if (mode == "malformed") produce(topic, id, "{this is not json");
    if (mode == "big") {
      // A reply too big for the gateway, on the same partition (same key) just before the proper one.
      const std::string pad(static_cast<std::size_t>(request.value("padBytes", 100000)), 'x');
      produce(topic, id, make_reply(id, true, {{"pad", pad}}).dump());
    }
    produce(topic, id, reply);
    if (mode == "dup") produce(topic, id, reply);
  }
}

// ---- Instance ----------------------------------------------------------------

Instance::Instance(InstanceOptions options) : options_(std::move(options)) {}

bool Instance::start(std::string& error) {
  auto& shared = SharedStack::get();
  port_ = net::free_port();
  callback_port_ = options_.shared_listener ? port_ : net::free_port();
  const std::uint16_t dapr_http = net::free_port();
  std::vector<std::string> argv = {(shared.paths.bin_dir / "rr-gateway").string(),
                                   "--listen", "127.0.0.1:" + std::to_string(port_),
                                   "--callback-listen", "127.0.0.1:" + std::to_string(callback_port_),
                                   "--dapr-http-port", std::to_string(dapr_http),
                                   "--request-topic", kRequestTopic,
                                   "--reply-topic", kReplyTopic,
                                   "--instance-id", options_.app_id};
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  std::vector<std::pair<std::string, std::string>> env;
  if (!options_.app_api_token.empty()) env.emplace_back("APP_API_TOKEN", options_.app_api_token);
  if (!options_.dapr_api_token.empty()) env.emplace_back("DAPR_API_TOKEN", options_.dapr_api_token);
  const fs::path dir = shared.run_dir / ("gateway-" + options_.app_id);
  fs::create_directories(dir);
  gateway_ = stack::Process(proc::SpawnSpec{"rr-gateway-" + options_.app_id, argv, env, dir / "gateway.log", {}});
  if (!gateway_.start(error)) return false;
  if (!stack::wait_http_status(port_, "/healthz", 200, 10s, &gateway_)) {
    error = "rr-gateway did not answer /healthz, see " + (dir / "gateway.log").string();
    return false;
  }
  stack::DaprdConfig dc;
  dc.app_id = options_.app_id;
  dc.app_port = callback_port_;
  dc.http_port = dapr_http;
  dc.brokers = shared.kafka->brokers();
  dc.consumer_group = "{appID}";
  dc.app_api_token = options_.app_api_token;
  dc.dapr_api_token = options_.dapr_api_token;
  daprd_ = std::make_unique<stack::Daprd>(shared.paths, shared.run_dir, dc);
  if (!daprd_->start(error)) return false;
  if (!stack::wait_http_status(port_, "/readyz", 200, 60s, &gateway_)) {
    error = "rr-gateway did not become ready, see " + (dir / "gateway.log").string() + " and " +
            daprd_->process().log_file().string();
    return false;
  }
  return true;
}

MetricRead Instance::metric(const std::string& series) const { return read_metric(port_, series); }

MetricRead read_metric(std::uint16_t port, const std::string& series) {
  const auto r = http::get(port, "/metrics", 5s);
  if (!r.ok()) {
    return {std::nullopt, "GET 127.0.0.1:" + std::to_string(port) + "/metrics failed: " +
                              (r.ec ? r.ec.message() : "status " + std::to_string(r.status))};
  }
  auto value = metric_value(r.body, series);
  if (!value) return {std::nullopt, "no series " + series + " in /metrics of 127.0.0.1:" + std::to_string(port)};
  return {value, {}};
}

http::Response send(std::uint16_t port, const nlohmann::json& body, std::optional<int> timeout_ms,
                    std::chrono::milliseconds client_timeout) {
  http::Request r;
  r.method = "POST";
  r.port = port;
  r.target = "/api/send";
  r.body = body.dump();
  r.timeout = client_timeout;
  if (timeout_ms) r.headers.emplace_back("X-Request-Timeout-Ms", std::to_string(*timeout_ms));
  return http::call(r);
}

std::optional<double> metric_value(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 && line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

ProcStatus proc_status(int pid) {
  ProcStatus s;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string key;
  while (in >> key) {
    if (key == "VmRSS:") in >> s.rss_kb;
    if (key == "Threads:") in >> s.threads;
    std::string rest;
    std::getline(in, rest);
  }
  return s;
}

RawConn::RawConn(std::uint16_t port) {
  fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    fd = -1;
  }
}

RawConn::~RawConn() {
  if (fd >= 0) ::close(fd);
}

RawConn::RawConn(RawConn&& o) noexcept : fd(std::exchange(o.fd, -1)) {}

bool RawConn::write(const std::string& bytes) const {
  return fd >= 0 && ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size());
}

std::string RawConn::read_response(std::chrono::milliseconds timeout) const {
  std::string in;
  const auto until = std::chrono::steady_clock::now() + timeout;
  char buf[4096];
  while (std::chrono::steady_clock::now() < until) {
    const auto head_end = in.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      const auto cl = lower(in.substr(0, head_end)).find("content-length: ");
      const std::size_t want = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
      if (in.size() >= head_end + 4 + want) return in;
    }
    timeval tv{0, 100000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return in;
    if (n > 0) in.append(buf, static_cast<std::size_t>(n));
  }
  return in;
}

bool RawConn::closed_within(std::chrono::milliseconds timeout) const {
  const auto until = std::chrono::steady_clock::now() + timeout;
  char buf[512];
  while (std::chrono::steady_clock::now() < until) {
    timeval tv{0, 100000};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return true;
  }
  return false;
}

std::string RawConn::lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace rrkit::gateway_test
