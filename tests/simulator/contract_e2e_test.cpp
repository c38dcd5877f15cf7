// The legacy contract on the real stack: a request published through a real daprd WITHOUT rawPayload
// (as the Dapr SDK's PublishEventAsync does) reaches Kafka wrapped in a CloudEvent; rr-simulator, told
// by its profile where the id and the key are, answers with the seed design's DTO
// {"CorrelationId": "...", "Payload": "<json string>"} on the reply topic.
#include <catch2/catch.hpp>

#include <fstream>

#include <nlohmann/json.hpp>

#include "testkit/http_client.h"
#include "common/ids.h"
#include "common/json_limits.h"
#include "testkit/net.h"
#include "common/reply.h"
#include "testkit/stack.h"
#include "tests/simulator/kafka_test_util.h"
#include "tests/simulator/sim_stack_util.h"

using namespace std::chrono_literals;
namespace stack = rrkit::stack;
namespace fs = std::filesystem;
using namespace rrkit::simulator::testing;

namespace {

constexpr const char* kProfile = R"(contract:
  request_id: /correlationId
  request_key: /payload/nonce
  reply:
    body: {CorrelationId: "{{id}}", Payload: "{{payload_string}}"}
    key: "{{id}}"
    content_type: application/json
)";

}  // namespace

TEST_CASE("rr-simulator answers a CloudEvent published by daprd with a templated DTO reply", "[e2e]") {
  KafkaStack ks("rrkit-contract-e2e-", {{"rr.requests", 1}, {"rr.replies", 1}});
  const stack::Paths& paths = ks.paths;
  const fs::path& dir = ks.dir;
  stack::Kafka& kafka = ks.kafka;

  // A publisher-only sidecar (no app channel): Dapr's own publish path, CloudEvent envelope included.
  stack::DaprdConfig dc;
  dc.app_id = "contract-e2e";
  dc.brokers = kafka.brokers();
  stack::Daprd daprd(paths, dir, dc);
  require_started(daprd);

  const fs::path profile = dir / "contract.yaml";
  std::ofstream(profile) << kProfile;
  Sim sim = start_simulator(paths, dir, "sim", {"--brokers", kafka.brokers(), "--profile", profile.string()});
  wait_assigned(sim, 1);

  // The seed gateway's message: {"correlationId", "payload": <the client's request>}, published as a
  // CloudEvent (no metadata.rawPayload).
  const std::string id = rrkit::new_uuid_v4();
  const nlohmann::json client_request{{"action", "echo"}, {"data", {{"n", 7}}}, {"nonce", "rr-3-0"}};
  const nlohmann::json published{{"correlationId", id}, {"payload", client_request}};
  const auto pub = rrkit::http::post_json(daprd.http_port(), "/v1.0/publish/" + dc.pubsub_name + "/rr.requests",
                                          published.dump(), 10s);
  INFO(pub.status << " " << pub.body);
  REQUIRE(pub.status == 204);

  std::vector<Record> replies;
  {
    Reader reader(kafka.brokers(), "rr.replies", "contract-e2e-reader");
    const bool got = rrkit::proc::wait_until(
        [&] {
          reader.poll(replies, 200ms);
          return !replies.empty();
        },
        60s, 10ms);
    INFO(read_file(sim.process.log_file()));
    REQUIRE(got);
  }
  REQUIRE(replies.size() == 1);
  const Record& reply = replies.front();
  CHECK(reply.key == id);
  CHECK(reply.headers == std::vector<std::pair<std::string, std::string>>{{"content-type", "application/json"}});
  const auto body = rrkit::parse_bounded(reply.value);
  REQUIRE(body.ok());
  INFO(reply.value);
  REQUIRE(body.value.is_object());
  CHECK(body.value.size() == 2);
  CHECK(body.value["CorrelationId"] == id);
  REQUIRE(body.value["Payload"].is_string());
  // The payload is a JSON string: today's payload for the unwrapped request (the CloudEvent's data).
  const auto payload = rrkit::parse_bounded(body.value["Payload"].get<std::string>());
  REQUIRE(payload.ok());
  CHECK(payload.value["echo"] == published);
  CHECK(rrkit::payload_matches(published, payload.value));

  // What the simulator consumed really was an envelope (else this test would prove nothing about unwrapping).
  std::vector<Record> requests;
  {
    Reader reader(kafka.brokers(), "rr.requests", "contract-e2e-request-reader");
    REQUIRE(rrkit::proc::wait_until(
        [&] {
          reader.poll(requests, 200ms);
          return !requests.empty();
        },
        60s, 10ms));
  }
  const auto envelope = rrkit::parse_bounded(requests.front().value);
  REQUIRE(envelope.ok());
  CHECK(envelope.value.contains("specversion"));
  CHECK(envelope.value["data"] == published);

  // The decision was keyed on the nonce inside the envelope, and logged under its name.
  std::ifstream in(sim.decisions);
  std::string line;
  int decided = 0;
  while (std::getline(in, line)) {
    const auto j = rrkit::parse_bounded(line).value;
    if (!j.is_object() || j.value("type", "") != "decision") continue;
    ++decided;
    CHECK(j["id"] == id);
    CHECK(j["key"] == "rr-3-0");
    CHECK(j["fields"]["nonce"] == "rr-3-0");
  }
  CHECK(decided == 1);
  sim.process.stop();
  daprd.stop();
  kafka.stop();
  fs::remove_all(dir);
}
