// Proof that the stack is real: a message published through daprd's HTTP publish API crosses the
// real Kafka broker, comes back through a daprd subscription to an app endpoint, and can be read
// straight from Kafka with librdkafka. With daprd or Kafka stopped, the same publish fails.
#include <catch2/catch.hpp>

#include <librdkafka/rdkafkacpp.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <mutex>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "testkit/http_client.h"
#include "common/ids.h"
#include "common/json_limits.h"
#include "testkit/stack.h"
#include "testkit/tiny_http_server.h"

using namespace std::chrono_literals;
namespace stack = rrkit::stack;

namespace {

constexpr const char* kTopic = "rr.smoke";

// Reads kTopic from the beginning with a fresh consumer group until a message containing needle appears.
bool kafka_has_message(const std::string& brokers, const std::string& needle, std::chrono::milliseconds timeout) {
  std::string err;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  conf->set("bootstrap.servers", brokers, err);
  conf->set("group.id", "smoke-reader-" + rrkit::new_uuid_v4(), err);
  conf->set("auto.offset.reset", "earliest", err);
  conf->set("enable.auto.commit", "false", err);
  std::unique_ptr<RdKafka::KafkaConsumer> consumer(RdKafka::KafkaConsumer::create(conf.get(), err));
  REQUIRE(consumer);
  REQUIRE(consumer->subscribe({kTopic}) == RdKafka::ERR_NO_ERROR);
  bool found = false;
  rrkit::proc::wait_until(
      [&] {
        std::unique_ptr<RdKafka::Message> msg(consumer->consume(200));
        if (msg->err() == RdKafka::ERR_NO_ERROR) {
          const std::string payload(static_cast<const char*>(msg->payload()), msg->len());
          found = payload.find(needle) != std::string::npos;
        }
        return found;
      },
      timeout, 0ms);
  consumer->close();
  return found;
}

// True when a listener can take 127.0.0.1:port now, as a restarted daprd would (Go listeners set
// SO_REUSEADDR, so connections left in TIME_WAIT do not count; another listener does).
bool can_listen(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 && ::listen(fd, 1) == 0;
  ::close(fd);
  return ok;
}

rrkit::http::Response publish(std::uint16_t dapr_port, const std::string& body) {
  rrkit::http::Request req;
  req.method = "POST";
  req.port = dapr_port;
  req.target = std::string("/v1.0/publish/rr-pubsub/") + kTopic + "?metadata.rawPayload=true";
  req.body = body;
  req.timeout = 10s;
  return rrkit::http::call(req);
}

}  // namespace

TEST_CASE("a message goes daprd -> Kafka -> daprd subscription -> app, and is in the Kafka log") {
  const auto paths = stack::Paths::discover();
  const auto run_dir = std::filesystem::temp_directory_path() / ("rrkit-smoke-" + rrkit::new_uuid_v4());

  std::mutex mu;
  std::vector<std::string> deliveries;
  std::vector<std::string> seen;  // every request the app got, for the failure message
  rrkit::test::TinyHttpServer app([&](const rrkit::test::TinyRequest& r) -> rrkit::test::TinyResponse {
    {
      std::lock_guard lock(mu);
      seen.push_back(r.method + " " + r.target);
    }
    if (r.method == "GET" && r.target == "/dapr/subscribe") {
      return {200, nlohmann::json::array({{{"pubsubname", "rr-pubsub"}, {"topic", kTopic}, {"route", "/smoke"},
                                           {"metadata", {{"rawPayload", "true"}}}}})
                       .dump()};
    }
    if (r.method == "POST" && r.target == "/smoke") {
      // A rawPayload subscription delivers a CloudEvent whose data_base64 is the published bytes.
      const auto event = rrkit::parse_bounded(r.body).value;
      std::string data = r.body;
      if (event.is_object() && event.contains("data_base64") && event["data_base64"].is_string()) {
        data = rrkit::base64_decode(event["data_base64"].get<std::string>()).value_or("");
      }
      std::lock_guard lock(mu);
      deliveries.push_back(data);
      return {200, R"({"status":"SUCCESS"})"};
    }
    return {404, "{}"};
  });

  stack::KafkaConfig kc;
  kc.topics = {{kTopic, 2}};
  stack::Kafka kafka(paths, run_dir, kc);
  std::string error;
  const bool kafka_up = kafka.start(error);
  INFO(error);
  REQUIRE(kafka_up);

  stack::DaprdConfig dc;
  dc.app_id = "smoke-app";
  dc.app_port = app.port();
  dc.brokers = kafka.brokers();
  dc.initial_offset = "oldest";  // a new group reads from the start, so nothing published before the assignment is missed
  stack::Daprd daprd(paths, run_dir, dc);
  const bool daprd_up = daprd.start(error);
  INFO(error);
  REQUIRE(daprd_up);

  const std::string nonce = rrkit::new_uuid_v4();
  const auto pub = publish(daprd.http_port(), nlohmann::json{{"nonce", nonce}, {"hello", "kafka"}}.dump());
  INFO("publish status " << pub.status << " body " << pub.body << " ec " << pub.ec.message());
  REQUIRE(pub.status == 204);

  const bool delivered = rrkit::proc::wait_until(
      [&] {
        std::lock_guard lock(mu);
        for (const auto& d : deliveries) {
          if (d.find(nonce) != std::string::npos) return true;
        }
        return false;
      },
      60s);
  {
    std::lock_guard lock(mu);
    for (const auto& line : seen) UNSCOPED_INFO("app got: " << line);
  }
  CHECK(delivered);

  const bool in_kafka = kafka_has_message(kafka.brokers(), nonce, 30s);
  CHECK(in_kafka);

  // The same publish must fail once the broker is gone: daprd really talks to this Kafka.
  kafka.stop();
  const auto no_kafka = publish(daprd.http_port(), R"({"x":2})");
  INFO("with Kafka stopped: status " << no_kafka.status << " body " << no_kafka.body);
  CHECK_FALSE(no_kafka.ok());

  // And with daprd stopped, it is really gone: reaped with an exit status, nothing of its process
  // group left, every port it listened on free for a new daprd, and the publish API refused at
  // connect (not a timeout, not an answer).
  const pid_t daprd_pid = daprd.process().pid();
  daprd.stop();
  CHECK_FALSE(daprd.process().alive());
  CHECK(daprd.process().exit_status() >= 0);
  const int group_signalled = ::kill(-daprd_pid, 0);
  const int group_errno = errno;
  CHECK(group_signalled == -1);
  CHECK(group_errno == ESRCH);
  for (const std::uint16_t port : {daprd.http_port(), daprd.config().grpc_port, daprd.config().metrics_port}) {
    INFO("daprd port " << port);
    CHECK(can_listen(port));
  }
  const auto no_daprd = publish(daprd.http_port(), R"({"x":1})");
  INFO("with daprd stopped: status " << no_daprd.status << " error " << no_daprd.ec.message());
  CHECK(no_daprd.ec == std::errc::connection_refused);

  // The run folder (logs of Kafka and daprd) is kept when something failed.
  if (delivered && in_kafka) {
    std::filesystem::remove_all(run_dir);
  } else {
    WARN("logs kept in " << run_dir.string());
  }
}
