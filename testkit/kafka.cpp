#include "testkit/kafka.h"

#include <librdkafka/rdkafka.h>

#include <memory>

namespace rrkit::kafka {
namespace {

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaHandle = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

KafkaHandle make_admin_client(const std::string& brokers, std::string& error) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", brokers.c_str(), errstr, sizeof errstr) != RD_KAFKA_CONF_OK ||
      rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
    error = errstr;
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  // Connection failures while polling a starting broker are expected; the caller reports the outcome.
  rd_kafka_conf_set_log_cb(conf, [](const rd_kafka_t*, int, const char*, const char*) {});
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) {
    error = errstr;  // conf is owned by librdkafka only on success
    rd_kafka_conf_destroy(conf);
    return nullptr;
  }
  return KafkaHandle(rk);
}

int timeout_ms(std::chrono::milliseconds t) { return static_cast<int>(t.count()); }

}  // namespace

bool broker_ready(const std::string& brokers, std::chrono::milliseconds timeout, std::string& error) {
  auto rk = make_admin_client(brokers, error);
  if (!rk) return false;
  const rd_kafka_metadata_t* md = nullptr;
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk.get(), 1, nullptr, &md, timeout_ms(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = rd_kafka_err2str(err);
    return false;
  }
  const bool ok = md->broker_cnt > 0;
  if (!ok) error = "metadata lists no broker";
  rd_kafka_metadata_destroy(md);
  return ok;
}

bool ensure_topics(const std::string& brokers, const std::vector<TopicSpec>& topics,
                   std::chrono::milliseconds timeout, std::string& error) {
  if (topics.empty()) return true;
  auto rk = make_admin_client(brokers, error);
  if (!rk) return false;
  char errstr[512];
  std::vector<rd_kafka_NewTopic_t*> specs;
  for (const auto& t : topics) {
    rd_kafka_NewTopic_t* nt =
        rd_kafka_NewTopic_new(t.name.c_str(), t.partitions, t.replication_factor, errstr, sizeof errstr);
    if (!nt) {
      error = "topic " + t.name + ": " + errstr;
      for (auto* s : specs) rd_kafka_NewTopic_destroy(s);
      return false;
    }
    if (t.min_insync_replicas > 0) {
      const std::string isr = std::to_string(t.min_insync_replicas);
      if (const auto e = rd_kafka_NewTopic_set_config(nt, "min.insync.replicas", isr.c_str())) {
        error = "topic " + t.name + ": min.insync.replicas: " + rd_kafka_err2str(e);
        rd_kafka_NewTopic_destroy(nt);
        for (auto* s : specs) rd_kafka_NewTopic_destroy(s);
        return false;
      }
    }
    specs.push_back(nt);
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk.get());
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk.get(), RD_KAFKA_ADMIN_OP_CREATETOPICS);
  rd_kafka_AdminOptions_set_operation_timeout(opts, timeout_ms(timeout), errstr, sizeof errstr);
  rd_kafka_CreateTopics(rk.get(), specs.data(), specs.size(), opts, queue);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, timeout_ms(timeout) + 2000);
  bool ok = true;
  if (!ev) {
    error = "CreateTopics timed out";
    ok = false;
  } else if (rd_kafka_event_error(ev)) {
    error = rd_kafka_event_error_string(ev);
    ok = false;
  } else {
    const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
    size_t n = 0;
    const rd_kafka_topic_result_t** results = rd_kafka_CreateTopics_result_topics(res, &n);
    for (size_t i = 0; i < n; ++i) {
      const auto e = rd_kafka_topic_result_error(results[i]);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        error = std::string(rd_kafka_topic_result_name(results[i])) + ": " + rd_kafka_err2str(e);
        ok = false;
      }
    }
  }
  if (ev) rd_kafka_event_destroy(ev);
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(queue);
  for (auto* s : specs) rd_kafka_NewTopic_destroy(s);
  return ok;
}

std::vector<int> broker_ids(const std::string& brokers, std::chrono::milliseconds timeout, std::string& error) {
  std::vector<int> ids;
  auto rk = make_admin_client(brokers, error);
  if (!rk) return ids;
  const rd_kafka_metadata_t* md = nullptr;
  const auto err = rd_kafka_metadata(rk.get(), 0, nullptr, &md, timeout_ms(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = rd_kafka_err2str(err);
    return ids;
  }
  for (int i = 0; i < md->broker_cnt; ++i) ids.push_back(md->brokers[i].id);
  rd_kafka_metadata_destroy(md);
  if (ids.empty()) error = "metadata lists no broker";
  return ids;
}

std::vector<PartitionState> topic_partitions(const std::string& brokers, const std::string& topic,
                                             std::chrono::milliseconds timeout, std::string& error) {
  std::vector<PartitionState> out;
  auto rk = make_admin_client(brokers, error);
  if (!rk) return out;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const auto err = rd_kafka_metadata(rk.get(), 0, rkt, &md, timeout_ms(timeout));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = rd_kafka_err2str(err);
  } else if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    error = "topic " + topic + ": " + (md->topic_cnt == 1 ? rd_kafka_err2str(md->topics[0].err) : "not in metadata");
  } else {
    const auto& t = md->topics[0];
    for (int i = 0; i < t.partition_cnt; ++i) {
      const auto& p = t.partitions[i];
      PartitionState ps;
      ps.partition = p.id;
      ps.leader = p.err == RD_KAFKA_RESP_ERR_NO_ERROR ? p.leader : -1;
      ps.replicas.assign(p.replicas, p.replicas + p.replica_cnt);
      ps.isr.assign(p.isrs, p.isrs + p.isr_cnt);
      out.push_back(std::move(ps));
    }
    if (out.empty()) error = "topic " + topic + " has no partitions";
  }
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  return out;
}

int partition_leader(const std::string& brokers, const std::string& topic, int partition,
                     std::chrono::milliseconds timeout, std::string& error) {
  const auto parts = topic_partitions(brokers, topic, timeout, error);
  for (const auto& p : parts) {
    if (p.partition != partition) continue;
    if (p.leader < 0) error = topic + "[" + std::to_string(partition) + "] has no leader";
    return p.leader;
  }
  if (!parts.empty()) error = topic + " has no partition " + std::to_string(partition);
  return -1;
}

int partition_count(const std::string& brokers, const std::string& topic, std::chrono::milliseconds timeout) {
  std::string error;
  auto rk = make_admin_client(brokers, error);
  if (!rk) return -1;
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk.get(), topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  const auto err = rd_kafka_metadata(rk.get(), 0, rkt, &md, timeout_ms(timeout));
  int count = -1;
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR && md->topic_cnt == 1 && md->topics[0].err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    count = md->topics[0].partition_cnt;
  }
  if (md) rd_kafka_metadata_destroy(md);
  rd_kafka_topic_destroy(rkt);
  return count;
}

}  // namespace rrkit::kafka
