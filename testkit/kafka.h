#pragma once
// Kafka helpers shared by the stack launcher, the simulator and the tests
// (librdkafka C API; admin calls are not in the C++ API of librdkafka 2.0).
#include <chrono>
#include <string>
#include <vector>

namespace rrkit::kafka {

struct TopicSpec {
  std::string name;
  int partitions = 4;
};

// True once the broker answers a metadata request listing at least one broker.
bool broker_ready(const std::string& brokers, std::chrono::milliseconds timeout, std::string& error);

// Creates the topics; an existing topic is not an error. Returns false with a message otherwise.
bool ensure_topics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                   std::chrono::milliseconds timeout, std::string& error);

// Partition count of a topic, or -1 when unknown.
int partition_count(const std::string& brokers, const std::string& topic, std::chrono::milliseconds timeout);

}  // namespace rrkit::kafka
