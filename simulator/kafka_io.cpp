#include "simulator/kafka_io.h"

#include <librdkafka/rdkafkacpp.h>

#include <string_view>

#include "common/json_limits.h"

namespace rrkit::simulator {

using namespace std::chrono_literals;


std::optional<IdSource> IdSource::parse(const std::string& text, std::string& error) {
  IdSource s;
  if (text == "key") {
    s.kind = Kind::key;
    s.name.clear();
    return s;
  }
  const auto colon = text.find(':');
  const std::string kind = text.substr(0, colon);
  const std::string name = colon == std::string::npos ? "" : text.substr(colon + 1);
  if ((kind != "body" && kind != "header") || name.empty()) {
    error = "--id-from expects body:FIELD, header:NAME or key, got '" + text + "'";
    return std::nullopt;
  }
  s.kind = kind == "body" ? Kind::body : Kind::header;
  s.name = name;
  return s;
}

Incoming parse_incoming(const std::string& topic, std::int32_t partition, std::int64_t offset, const std::string& key,
                        const std::string& payload, Headers headers, const IdSource& id_source,
                        const std::string& reply_topic, bool honor_reply_to, const Contract* contract) {
  Incoming in;
  in.topic = topic;
  in.partition = partition;
  in.offset = offset;
  auto parsed = parse_bounded(payload);
  in.body_is_json = parsed.ok();
  if (parsed.ok()) {
    in.request = std::move(parsed.value);
  } else if (parsed.errc == JsonErrc::too_deep) {
    // Echoing or digesting it would recurse once per level (a crash); no id source makes it answerable.
    in.invalid = "body nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
  } else if (!rrkit::valid_utf8(payload)) {
    // A reply is JSON: bytes that are not text cannot be echoed in it.
    in.invalid = "body is neither JSON nor UTF-8 text";
  } else {
    in.request = payload;  // echoed as a string when a header or the key carries the id
  }
  in.headers = std::move(headers);
  const auto header = [&](const std::string& name) -> std::optional<std::string> {
    for (const auto& [k, v] : in.headers)
      if (k == name) return v;
    return std::nullopt;
  };
  if (contract != nullptr && in.invalid.empty() && in.body_is_json) {
    std::string error;
    in.unwrapped = unwrap_cloud_event(in.request, error);
    if (!error.empty()) in.invalid = error;
    if (contract->request_key && in.invalid.empty()) {
      const auto* v = find_pointer(in.unwrapped, *contract->request_key);
      if (v && v->is_string()) in.contract_key = v->get<std::string>();
    }
  }
  if (contract != nullptr && contract->request_id) {
    const Locator& at = *contract->request_id;
    switch (at.kind) {
      case Locator::Kind::pointer:
        if (!in.invalid.empty()) {
          break;
        } else if (!in.body_is_json) {
          in.invalid = "body is not JSON";
        } else if (const auto* v = find_pointer(in.unwrapped, at.name);
                   v && v->is_string() && !v->get_ref<const std::string&>().empty()) {
          in.id = v->get<std::string>();
        } else {
          in.invalid = "no string at '" + at.name + "' (CloudEvent envelopes unwrapped)";
        }
        break;
      case Locator::Kind::header:
        if (auto h = header(at.name); h && !h->empty()) in.id = *h;
        else if (in.invalid.empty()) in.invalid = "no header '" + at.name + "'";
        break;
      case Locator::Kind::key:
        if (!key.empty()) in.id = key;
        else if (in.invalid.empty()) in.invalid = "message has no key";
        break;
    }
  } else switch (id_source.kind) {
    case IdSource::Kind::body:
      if (!in.invalid.empty()) {
        break;
      } else if (!in.body_is_json) {
        in.invalid = "body is not JSON";
      } else if (const auto* v = in.request.is_object() ? find_path(in.request, id_source.name) : nullptr;
                 v && v->is_string() && !v->get_ref<const std::string&>().empty()) {
        in.id = v->get<std::string>();
      } else {
        in.invalid = "no string body field '" + id_source.name + "'";
      }
      break;
    case IdSource::Kind::header:
      if (auto h = header(id_source.name); h && !h->empty()) in.id = *h;
      else if (in.invalid.empty()) in.invalid = "no header '" + id_source.name + "'";
      break;
    case IdSource::Kind::key:
      if (!key.empty()) in.id = key;
      else if (in.invalid.empty()) in.invalid = "message has no key";
      break;
  }
  if (!in.id.empty() && !rrkit::valid_utf8(in.id)) {
    // The id goes into the reply's JSON; a replaced byte would make it another id.
    in.invalid = "correlation id is not UTF-8 text";
    in.id.clear();
  }
  if (!in.invalid.empty()) {
    // Unanswerable; an id from a header or the key stays, so the decision line names the request.
    in.request = nullptr;
    in.unwrapped = nullptr;
    in.body_is_json = false;
  }
  in.reply_topic = reply_topic;
  if (honor_reply_to) {
    if (auto h = header("replyTo"); h && !h->empty()) in.reply_topic = *h;
  }
  return in;
}

namespace {

bool set(RdKafka::Conf& conf, const std::string& name, const std::string& value, std::string& error) {
  std::string err;
  if (conf.set(name, value, err) != RdKafka::Conf::CONF_OK) {
    error = name + ": " + err;
    return false;
  }
  return true;
}

class EventLogger : public RdKafka::EventCb {
 public:
  EventLogger(log::Logger logger, std::atomic<bool>& fatal) : logger_(std::move(logger)), fatal_(fatal) {}
  void event_cb(RdKafka::Event& e) override {
    if (e.type() != RdKafka::Event::EVENT_ERROR) return;
    if (e.fatal()) {
      fatal_ = true;
      log::error(logger_, "kafka fatal error", {{"error", e.str()}, {"code", RdKafka::err2str(e.err())}});
    } else {
      log::warn(logger_, "kafka error", {{"error", e.str()}, {"code", RdKafka::err2str(e.err())}});
    }
  }

 private:
  log::Logger logger_;
  std::atomic<bool>& fatal_;
};

void free_partitions(std::vector<RdKafka::TopicPartition*>& v) {
  RdKafka::TopicPartition::destroy(v);
  v.clear();
}

}  // namespace

// ---- producer ---------------------------------------------------------------

class KafkaReplySink::Reports : public RdKafka::DeliveryReportCb, public EventLogger {
 public:
  using EventLogger::EventLogger;
  void dr_cb(RdKafka::Message& m) override {
    Engine* engine = engine_.load();
    if (!engine) return;
    const auto token = reinterpret_cast<std::uintptr_t>(m.msg_opaque());
    engine->on_delivered(token, m.err() == RdKafka::ERR_NO_ERROR, m.errstr());
  }
  std::atomic<Engine*> engine_{nullptr};
};

KafkaReplySink::KafkaReplySink(log::Logger logger) : logger_(std::move(logger)) {
  reports_ = std::make_unique<Reports>(logger_, fatal_);
}

KafkaReplySink::~KafkaReplySink() { stop_polling(); }

bool KafkaReplySink::init(const std::string& brokers, std::string& error) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  if (!set(*conf, "bootstrap.servers", brokers, error) || !set(*conf, "enable.idempotence", "true", error) ||
      !set(*conf, "linger.ms", "2", error) || !set(*conf, "client.id", "rr-simulator", error)) {
    return false;
  }
  if (conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(reports_.get()), err) != RdKafka::Conf::CONF_OK ||
      conf->set("event_cb", static_cast<RdKafka::EventCb*>(reports_.get()), err) != RdKafka::Conf::CONF_OK) {
    error = err;
    return false;
  }
  producer_.reset(RdKafka::Producer::create(conf.get(), err));
  if (!producer_) {
    error = "producer: " + err;
    return false;
  }
  poller_ = std::thread([this] {
    while (!stop_) producer_->poll(100);
  });
  return true;
}

void KafkaReplySink::attach(Engine* engine) { reports_->engine_ = engine; }

ProduceResult KafkaReplySink::produce(const std::string& topic, const std::string& key, const std::string& body,
                                      const Headers& headers, std::uint64_t token) {
  RdKafka::Headers* kafka_headers = nullptr;
  if (!headers.empty()) {
    kafka_headers = RdKafka::Headers::create();
    for (const auto& [name, value] : headers) kafka_headers->add(name, value);
  }
  const auto err = producer_->produce(topic, RdKafka::Topic::PARTITION_UA, RdKafka::Producer::RK_MSG_COPY,
                                      const_cast<char*>(body.data()), body.size(), key.data(), key.size(), 0,
                                      kafka_headers, reinterpret_cast<void*>(static_cast<std::uintptr_t>(token)));
  // librdkafka owns the headers only once the message was accepted.
  if (err != RdKafka::ERR_NO_ERROR) delete kafka_headers;
  if (err == RdKafka::ERR_NO_ERROR) return ProduceResult::ok;
  if (err == RdKafka::ERR__QUEUE_FULL) return ProduceResult::queue_full;
  log::error(logger_, "produce failed", {{"cid", key}, {"topic", topic}, {"error", RdKafka::err2str(err)}});
  return ProduceResult::failed;
}

bool KafkaReplySink::flush(std::chrono::milliseconds timeout) {
  if (!producer_) return true;
  return producer_->flush(static_cast<int>(timeout.count())) == RdKafka::ERR_NO_ERROR;
}

void KafkaReplySink::stop_polling() {
  stop_ = true;
  if (poller_.joinable()) poller_.join();
}

// ---- consumer ---------------------------------------------------------------

class KafkaConsumerLoop::Callbacks : public RdKafka::RebalanceCb, public EventLogger {
 public:
  Callbacks(KafkaConsumerLoop& owner, log::Logger logger, std::atomic<bool>& fatal)
      : EventLogger(std::move(logger), fatal), owner_(owner) {}
  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override {
    std::vector<TopicPartition> tps;
    for (const auto* p : partitions) tps.push_back({p->topic(), p->partition()});
    nlohmann::json list = nlohmann::json::array();
    for (const auto& tp : tps) list.push_back(tp.topic + "/" + std::to_string(tp.partition));
    if (err == RdKafka::ERR__ASSIGN_PARTITIONS) {
      owner_.engine_.on_assigned(tps);
      consumer->assign(partitions);
      if (owner_.paused_) consumer->pause(partitions);
      log::info(owner_.logger_, "partitions assigned", {{"partitions", list}});
    } else {
      // Commit what is handled before another member takes these partitions over.
      owner_.commit(true);
      owner_.engine_.on_revoked(tps);
      consumer->unassign();
      log::info(owner_.logger_, "partitions revoked", {{"partitions", list}});
    }
  }

 private:
  KafkaConsumerLoop& owner_;
};

KafkaConsumerLoop::KafkaConsumerLoop(ConsumerOptions options, Engine& engine, log::Logger logger)
    : options_(std::move(options)), engine_(engine), logger_(std::move(logger)) {
  callbacks_ = std::make_unique<Callbacks>(*this, logger_, fatal_);
}

KafkaConsumerLoop::~KafkaConsumerLoop() = default;

bool KafkaConsumerLoop::init(std::string& error) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  if (!set(*conf, "bootstrap.servers", options_.brokers, error) || !set(*conf, "group.id", options_.group, error) ||
      !set(*conf, "enable.auto.commit", "false", error) || !set(*conf, "enable.auto.offset.store", "false", error) ||
      !set(*conf, "auto.offset.reset", "earliest", error) || !set(*conf, "client.id", "rr-simulator", error) ||
      !set(*conf, "session.timeout.ms", "10000", error) || !set(*conf, "heartbeat.interval.ms", "1000", error)) {
    return false;
  }
  if (conf->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(callbacks_.get()), err) != RdKafka::Conf::CONF_OK ||
      conf->set("event_cb", static_cast<RdKafka::EventCb*>(callbacks_.get()), err) != RdKafka::Conf::CONF_OK) {
    error = err;
    return false;
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!consumer_) {
    error = "consumer: " + err;
    return false;
  }
  const auto rc = consumer_->subscribe({options_.request_topic});
  if (rc != RdKafka::ERR_NO_ERROR) {
    error = "subscribe " + options_.request_topic + ": " + RdKafka::err2str(rc);
    return false;
  }
  return true;
}

void KafkaConsumerLoop::set_paused(bool paused) {
  if (paused == paused_) return;
  std::vector<RdKafka::TopicPartition*> parts;
  consumer_->assignment(parts);
  if (paused) consumer_->pause(parts);
  else consumer_->resume(parts);
  free_partitions(parts);
  paused_ = paused;
}

void KafkaConsumerLoop::commit(bool sync) {
  const auto points = engine_.committable();
  if (points.empty()) return;
  std::vector<RdKafka::TopicPartition*> offsets;
  for (const auto& p : points) offsets.push_back(RdKafka::TopicPartition::create(p.tp.topic, p.tp.partition, p.offset));
  const auto rc = sync ? consumer_->commitSync(offsets) : consumer_->commitAsync(offsets);
  free_partitions(offsets);
  if (rc != RdKafka::ERR_NO_ERROR && rc != RdKafka::ERR__NO_OFFSET) {
    log::warn(logger_, "offset commit failed", {{"error", RdKafka::err2str(rc)}});
    return;
  }
  engine_.committed(points);
}

void KafkaConsumerLoop::handle(RdKafka::Message& msg) {
  Headers headers;
  if (auto* hs = msg.headers()) {
    for (const auto& h : hs->get_all()) {
      headers.emplace_back(h.key(), h.value() ? std::string(static_cast<const char*>(h.value()), h.value_size()) : "");
    }
  }
  const std::string key = msg.key() ? *msg.key() : std::string();
  const std::string payload(static_cast<const char*>(msg.payload()), msg.len());
  // The contract of the profile in force when the message is read; the engine decides with the same.
  const auto profile = engine_.profile();
  engine_.on_message(parse_incoming(msg.topic_name(), msg.partition(), msg.offset(), key, payload, std::move(headers),
                                    options_.id_source, options_.reply_topic, options_.honor_reply_to,
                                    profile->contract ? &*profile->contract : nullptr));
}

bool KafkaConsumerLoop::wait_applied(std::chrono::milliseconds timeout) {
  std::unique_lock lock(round_mutex_);
  // The round under way may have read accepting() just before the change: the one after it has not.
  const std::uint64_t target = rounds_ + 2;
  return round_started_.wait_for(lock, timeout, [&] { return rounds_ >= target || !running_; }) && rounds_ >= target;
}

void KafkaConsumerLoop::run() {
  auto last_commit = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(round_mutex_);
    running_ = true;
  }
  while (!stop_ && !fatal_) {
    set_paused(!engine_.accepting());
    {
      std::lock_guard lock(round_mutex_);
      ++rounds_;
    }
    round_started_.notify_all();
    std::unique_ptr<RdKafka::Message> msg(consumer_->consume(50));
    if (msg) {
      switch (msg->err()) {
        case RdKafka::ERR_NO_ERROR: handle(*msg); break;
        case RdKafka::ERR__TIMED_OUT:
        case RdKafka::ERR__PARTITION_EOF: break;
        default:
          log::warn(logger_, "consume error", {{"error", msg->errstr()}});
          if (msg->err() == RdKafka::ERR__FATAL) fatal_ = true;
          break;
      }
    }
    const auto now = std::chrono::steady_clock::now();
    if (now - last_commit >= 100ms) {
      commit(false);
      last_commit = now;
    }
  }
  {
    std::lock_guard lock(round_mutex_);
    running_ = false;
  }
  round_started_.notify_all();
}

void KafkaConsumerLoop::close() {
  if (!consumer_) return;
  commit(true);
  consumer_->close();
}

}  // namespace rrkit::simulator
