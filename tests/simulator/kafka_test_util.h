#pragma once
// librdkafka helpers for the simulator's end-to-end test and benchmark: produce
// requests, read a topic, look up committed offsets. Test code: failures throw.
#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>
#include <utility>

namespace rrkit::simulator::testing {

struct Record {
  std::string key;
  std::string value;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::vector<std::pair<std::string, std::string>> headers;
};

inline std::unique_ptr<RdKafka::Conf> conf_for(const std::string& brokers) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  conf->set("bootstrap.servers", brokers, err);
  return conf;
}

class Producer {
 public:
  explicit Producer(const std::string& brokers) {
    auto conf = conf_for(brokers);
    std::string err;
    conf->set("linger.ms", "5", err);
    producer_.reset(RdKafka::Producer::create(conf.get(), err));
    if (!producer_) throw std::runtime_error("producer: " + err);
  }
  void send(const std::string& topic, const std::string& key, const std::string& value) {
    for (;;) {
      const auto rc = producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                         const_cast<char*>(value.data()), value.size(), key.data(), key.size(), 0,
                                         nullptr);
      if (rc == RdKafka::ERR_NO_ERROR) break;
      if (rc != RdKafka::ERR__QUEUE_FULL) throw std::runtime_error("produce: " + RdKafka::err2str(rc));
      producer_->poll(10);
    }
    producer_->poll(0);
  }
  void flush() {
    if (producer_->flush(30000) != RdKafka::ERR_NO_ERROR) throw std::runtime_error("producer flush timed out");
  }

 private:
  std::unique_ptr<RdKafka::Producer> producer_;
};

class Reader {
 public:
  Reader(const std::string& brokers, const std::string& topic, const std::string& group) {
    auto conf = conf_for(brokers);
    std::string err;
    conf->set("group.id", group, err);
    conf->set("auto.offset.reset", "earliest", err);
    conf->set("enable.auto.commit", "false", err);
    consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
    if (!consumer_) throw std::runtime_error("consumer: " + err);
    consumer_->subscribe({topic});
  }
  ~Reader() { consumer_->close(); }
  // Reads what arrives within `wait`.
  void poll(std::vector<Record>& out, std::chrono::milliseconds wait) {
    std::unique_ptr<RdKafka::Message> msg(consumer_->consume(static_cast<int>(wait.count())));
    if (msg && msg->err() == RdKafka::ERR_NO_ERROR) {
      Record r{msg->key() ? *msg->key() : "", std::string(static_cast<const char*>(msg->payload()), msg->len()),
               msg->partition(), msg->offset(), {}};
      if (auto* hs = msg->headers()) {
        for (const auto& h : hs->get_all()) {
          r.headers.emplace_back(h.key(), h.value() ? std::string(static_cast<const char*>(h.value()), h.value_size()) : "");
        }
      }
      out.push_back(std::move(r));
    }
  }

 private:
  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
};

// Committed offsets of a group on partitions 0..n-1 of a topic (-1001 = none).
inline std::vector<std::int64_t> committed(const std::string& brokers, const std::string& group,
                                           const std::string& topic, int partitions) {
  auto conf = conf_for(brokers);
  std::string err;
  conf->set("group.id", group, err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  std::vector<RdKafka::TopicPartition*> tps;
  for (int p = 0; p < partitions; ++p) tps.push_back(RdKafka::TopicPartition::create(topic, p));
  c->committed(tps, 10000);
  std::vector<std::int64_t> out;
  for (auto* tp : tps) out.push_back(tp->offset());
  RdKafka::TopicPartition::destroy(tps);
  c->close();
  return out;
}

// High watermarks of partitions 0..n-1.
inline std::vector<std::int64_t> end_offsets(const std::string& brokers, const std::string& topic, int partitions) {
  auto conf = conf_for(brokers);
  std::string err;
  conf->set("group.id", "watermarks", err);
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  std::vector<std::int64_t> out;
  for (int p = 0; p < partitions; ++p) {
    std::int64_t lo = 0, hi = 0;
    c->query_watermark_offsets(topic, p, &lo, &hi, 10000);
    out.push_back(hi);
  }
  c->close();
  return out;
}

}  // namespace rrkit::simulator::testing
