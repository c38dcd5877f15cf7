#pragma once
// The simulator's Kafka side (librdkafka C++ API): an idempotent reply producer
// and a consumer-group consumer with manual commits.
//
// Threads: KafkaConsumerLoop::run() is the consumer thread; rebalance and error
// callbacks fire inside its poll and only touch the engine through its locked
// API. KafkaReplySink owns a delivery thread that polls the producer; delivery
// reports are handed to the engine (on_delivered), which owns the state.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/log.h"
#include "simulator/engine.h"

namespace RdKafka {
class Producer;
class KafkaConsumer;
class Message;
}  // namespace RdKafka

namespace rrkit::simulator {

// Where the correlation id is read: "body:FIELD" (dotted path), "header:NAME" or "key".
struct IdSource {
  enum class Kind { body, header, key };
  Kind kind = Kind::body;
  std::string name = "correlationId";
  static std::optional<IdSource> parse(const std::string& text, std::string& error);
};

// Builds an Incoming from raw message parts (pure; unit-tested). A profile contract, when given, says
// where the id and the decision key are instead of id_source.
Incoming parse_incoming(const std::string& topic, std::int32_t partition, std::int64_t offset, const std::string& key,
                        const std::string& payload, Headers headers, const IdSource& id_source,
                        const std::string& reply_topic, bool honor_reply_to, const Contract* contract = nullptr);

class KafkaReplySink final : public ReplySink {
 public:
  KafkaReplySink(log::Logger logger);
  ~KafkaReplySink() override;
  bool init(const std::string& brokers, std::string& error);
  // Delivery reports go to the engine from now on (the engine is created after the sink).
  void attach(Engine* engine);
  ProduceResult produce(const std::string& topic, const std::string& key, const std::string& body,
                        const Headers& headers, std::uint64_t token) override;
  // Waits for outstanding deliveries; false when some were still pending at the deadline.
  bool flush(std::chrono::milliseconds timeout);
  void stop_polling();
  bool fatal() const { return fatal_.load(); }

 private:
  class Reports;
  log::Logger logger_;
  std::unique_ptr<Reports> reports_;
  std::unique_ptr<RdKafka::Producer> producer_;
  std::thread poller_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> fatal_{false};
};

struct ConsumerOptions {
  std::string brokers;
  std::string request_topic;
  std::string reply_topic;
  std::string group;
  IdSource id_source;
  bool honor_reply_to = false;
};

class KafkaConsumerLoop {
 public:
  KafkaConsumerLoop(ConsumerOptions options, Engine& engine, log::Logger logger);
  ~KafkaConsumerLoop();
  bool init(std::string& error);
  // Consumes until stop() or a fatal error; commits handled offsets as it goes.
  void run();
  void stop() { stop_ = true; }
  bool fatal() const { return fatal_.load(); }
  // Blocks until the loop has applied the engine's current pause state to the consumer and no
  // consume() begun before this call is still running (two rounds start), or until `timeout`.
  // Called by the control API after a pause, so that POST /pause answers only once no request is
  // consumed any more. False on timeout or when the loop is not running.
  bool wait_applied(std::chrono::milliseconds timeout);
  // After the producer has flushed: commit what is handled, leave the group.
  void close();

 private:
  class Callbacks;
  void handle(RdKafka::Message& msg);
  void commit(bool sync);
  void set_paused(bool paused);

  ConsumerOptions options_;
  Engine& engine_;
  log::Logger logger_;
  std::unique_ptr<Callbacks> callbacks_;
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> fatal_{false};
  bool paused_ = false;
  std::mutex round_mutex_;
  std::condition_variable round_started_;
  std::uint64_t rounds_ = 0;     // loop rounds begun, each after set_paused
  bool running_ = false;
};

}  // namespace rrkit::simulator
