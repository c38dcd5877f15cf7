// stack.kafka (a KRaft cluster) and the broker timeline actions, as the scenario loader reads them.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "common/ids.h"
#include "harness/scenario.h"
#include "harness/timeline_action.h"
#include "testkit/stack.h"

namespace cluster_scenario_test {

namespace fs = std::filesystem;
using rrkit::harness::ActionKind;
using rrkit::harness::load_scenario;
using rrkit::harness::Scenario;

namespace {

struct Loaded {
  std::optional<Scenario> scenario;
  std::string error;
};

Loaded load_text(const std::string& text) {
  const auto path = fs::temp_directory_path() / ("rrkit-cluster-" + rrkit::new_uuid_v4() + ".yaml");
  std::ofstream(path) << text;
  Loaded l;
  l.scenario = load_scenario(path, l.error);
  fs::remove(path);
  return l;
}

}  // namespace

TEST_CASE("stack.kafka loads brokers and the topics' replication settings", "[unit][scenario][cluster]") {
  const auto l = load_text(R"(name: c
stack:
  kafka: {brokers: 3, replication_factor: 3, min_insync_replicas: 2}
)");
  INFO(l.error);
  REQUIRE(l.scenario);
  CHECK(l.scenario->kafka_brokers == 3);
  CHECK(l.scenario->replication_factor == 3);
  CHECK(l.scenario->min_insync_replicas == 2);
}

TEST_CASE("without stack.kafka a scenario runs on one node with the launcher's replication", "[unit][scenario][cluster]") {
  const auto l = load_text("name: c\n");
  REQUIRE(l.scenario);
  CHECK(l.scenario->kafka_brokers == 1);
  CHECK(l.scenario->replication_factor == 0);
  CHECK(l.scenario->min_insync_replicas == 0);
}

TEST_CASE("stack.kafka is validated strictly", "[unit][scenario][cluster]") {
  CHECK_THAT(load_text("name: c\nstack:\n  kafka: {brokers: 3, replicas: 3}\n").error,
             Catch::Contains(":3:") && Catch::Contains("replicas"));
  CHECK_THAT(load_text("name: c\nstack:\n  kafka: {brokers: 0}\n").error, Catch::Contains("stack.kafka.brokers"));
  CHECK_THAT(load_text("name: c\nstack:\n  kafka: {brokers: 3, replication_factor: 4}\n").error,
             Catch::Contains("stack.kafka.replication_factor"));
  CHECK_THAT(load_text("name: c\nstack:\n  kafka: {brokers: 3, replication_factor: 2, min_insync_replicas: 3}\n").error,
             Catch::Contains("stack.kafka.min_insync_replicas"));
  CHECK_THAT(load_text("name: c\nstack:\n  kafka: {brokers: 1, min_insync_replicas: 2}\n").error,
             Catch::Contains("stack.kafka.min_insync_replicas"));
  CHECK_THAT(load_text("name: c\nstack:\n  kafka: 3\n").error, Catch::Contains("stack.kafka"));
  CHECK_THAT(load_text("name: c\nstack:\n  kafka: {brokers: three}\n").error, Catch::Contains("wrong type"));
}

TEST_CASE("broker actions load with their node, partition and topic", "[unit][scenario][cluster]") {
  const auto l = load_text(R"(name: c
stack: {partitions: 4, kafka: {brokers: 3}}
timeline:
  - {at: 1s, action: kill_broker, broker: 2}
  - {at: 2s, action: restart_broker, broker: 2}
  - {at: 3s, action: pause_broker, broker: 3}
  - {at: 4s, action: resume_broker, broker: 3}
  - {at: 5s, action: kill_leader, topic: reply, partition: 3}
  - {at: 6s, action: kill_controller}
)");
  INFO(l.error);
  REQUIRE(l.scenario);
  const auto& t = l.scenario->timeline;
  REQUIRE(t.size() == 6);
  CHECK(t[0].action == ActionKind::kill_broker);
  CHECK(t[0].broker == 2);
  CHECK(t[2].action == ActionKind::pause_broker);
  CHECK(t[2].broker == 3);
  CHECK(t[4].action == ActionKind::kill_leader);
  CHECK(t[4].topic == "reply");
  CHECK(t[4].partition == 3);
  CHECK(t[5].action == ActionKind::kill_controller);
}

TEST_CASE("broker actions refuse a missing, foreign or out-of-range operand", "[unit][scenario][cluster]") {
  const std::string head = "name: c\nstack: {partitions: 4, kafka: {brokers: 3}}\ntimeline:\n";
  CHECK_THAT(load_text(head + "  - {at: 1s, action: kill_broker}\n").error, Catch::Contains("timeline[].broker"));
  CHECK_THAT(load_text(head + "  - {at: 1s, action: kill_broker, broker: 4}\n").error,
             Catch::Contains(":4:") && Catch::Contains("timeline[].broker"));
  CHECK_THAT(load_text(head + "  - {at: 1s, action: kill_broker, broker: 0}\n").error, Catch::Contains("timeline[].broker"));
  CHECK_THAT(load_text(head + "  - {at: 1s, action: kill_leader, topic: request}\n").error,
             Catch::Contains("partition"));
  CHECK_THAT(load_text(head + "  - {at: 1s, action: kill_leader, topic: replies, partition: 0}\n").error,
             Catch::Contains("must be request or reply"));
  CHECK_THAT(load_text(head + "  - {at: 1s, action: kill_leader, topic: reply, partition: 4}\n").error,
             Catch::Contains("timeline[].partition"));
  CHECK_THAT(load_text(head + "  - {at: 1s, action: kill_controller, broker: 1}\n").error,
             Catch::Contains("takes no broker"));
  CHECK_THAT(load_text(head + "  - {at: 1s, action: kill_daprd, partition: 1}\n").error,
             Catch::Contains("takes no partition"));
  // One node: broker 2 does not exist.
  CHECK_THAT(load_text("name: c\ntimeline:\n  - {at: 1s, action: kill_broker, broker: 2}\n").error,
             Catch::Contains("timeline[].broker"));
}

TEST_CASE("cluster nodes share one static voter list and replicate like the scenario asks", "[unit][cluster]") {
  using namespace rrkit::stack;
  KafkaConfig c;
  c.nodes = 3;
  CHECK(effective_replication_factor(c) == 3);
  CHECK(effective_min_insync_replicas(c) == 2);
  const std::vector<std::uint16_t> ports{9001, 9002, 9003}, cports{9101, 9102, 9103};
  const auto p2 = kafka_node_properties(c, 2, ports, cports, "/d");
  CHECK_THAT(p2, Catch::Contains("node.id=2\n"));
  CHECK_THAT(p2, Catch::Contains("controller.quorum.voters=1@127.0.0.1:9101,2@127.0.0.1:9102,3@127.0.0.1:9103\n"));
  CHECK_THAT(p2, Catch::Contains("listeners=PLAINTEXT://127.0.0.1:9002,CONTROLLER://127.0.0.1:9102\n"));
  CHECK_THAT(p2, Catch::Contains("advertised.listeners=PLAINTEXT://127.0.0.1:9002\n"));
  CHECK_THAT(p2, Catch::Contains("offsets.topic.replication.factor=3\n"));
  CHECK_THAT(p2, Catch::Contains("transaction.state.log.min.isr=2\n"));
  CHECK_THAT(p2, Catch::Contains("default.replication.factor=3\n"));
  CHECK_THAT(p2, Catch::Contains("min.insync.replicas=2\n"));

  // A thin negative control: the topics get one replica, the cluster's own topics stay replicated.
  c.replication_factor = 1;
  CHECK(effective_replication_factor(c) == 1);
  CHECK(effective_min_insync_replicas(c) == 1);
  const auto thin = kafka_node_properties(c, 1, ports, cports, "/d");
  CHECK_THAT(thin, Catch::Contains("default.replication.factor=1\n"));
  CHECK_THAT(thin, Catch::Contains("offsets.topic.replication.factor=3\n"));

  // One node: today's single-node settings, no cluster-only keys.
  KafkaConfig one;
  CHECK(effective_replication_factor(one) == 1);
  const auto single = kafka_node_properties(one, 1, {9001}, {9101}, "/d");
  CHECK_THAT(single, Catch::Contains("controller.quorum.voters=1@127.0.0.1:9101\n"));
  CHECK_THAT(single, Catch::Contains("offsets.topic.replication.factor=1\n"));
  CHECK_THAT(single, !Catch::Contains("min.insync.replicas="));
  CHECK_THAT(single, !Catch::Contains("broker.session.timeout.ms"));
}

}  // namespace cluster_scenario_test
