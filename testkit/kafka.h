#pragma once
// Kafka helpers shared by the stack launcher, the simulator and the tests
// (librdkafka C API; admin calls are not in the C++ API of librdkafka 2.0).
#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace rrkit::kafka {

struct TopicSpec {
  TopicSpec() = default;
  // Not an aggregate, so that {name, partitions} stays complete as fields are added.
  TopicSpec(std::string n, int p = 4) : name(std::move(n)), partitions(p) {}  // NOLINT(google-explicit-constructor)
  std::string name;
  int partitions = 4;
  int replication_factor = 1;
  int min_insync_replicas = 0;  // 0: the broker's default
};

// One partition as metadata reports it.
struct PartitionState {
  int partition = -1;
  int leader = -1;  // node id; -1: no leader
  std::vector<int> replicas, isr;
};

// True once the broker answers a metadata request listing at least one broker.
bool broker_ready(const std::string& brokers, std::chrono::milliseconds timeout, std::string& error);

// Creates the topics; an existing topic is not an error. Returns false with a message otherwise.
bool ensure_topics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                   std::chrono::milliseconds timeout, std::string& error);

// The brokers metadata lists (node ids), or empty with a message in error.
std::vector<int> broker_ids(const std::string& brokers, std::chrono::milliseconds timeout, std::string& error);

// Every partition of a topic, or empty with a message in error.
std::vector<PartitionState> topic_partitions(const std::string& brokers, const std::string& topic,
                                             std::chrono::milliseconds timeout, std::string& error);

// The node id leading a topic's partition; -1 with a message in error when metadata names none.
int partition_leader(const std::string& brokers, const std::string& topic, int partition,
                     std::chrono::milliseconds timeout, std::string& error);

// Partition count of a topic, or -1 when unknown.
int partition_count(const std::string& brokers, const std::string& topic, std::chrono::milliseconds timeout);

}  // namespace rrkit::kafka
