#pragma once
// The simulated legacy system's behaviour over time: worker pool and queue,
// delays, duplicates, the reorder hold buffer, stalls, crashes, and the offset
// bookkeeping that makes consumption at-least-once.
//
// Ownership and threads: main owns the Engine. The Kafka consumer thread calls
// on_message / on_assigned / on_revoked / committable / accepting; the producer's
// delivery thread calls on_delivered; the control API reads stats and swaps
// profiles. All of them hand their work to the engine's state under one mutex;
// timed work (service completion, reply emission, reorder flushes, stall ends)
// runs on the engine's own scheduler thread. Nothing blocks while holding the
// mutex: producing a reply only enqueues it in librdkafka.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "simulator/decide.h"
#include "simulator/decision_log.h"
#include "simulator/metrics.h"
#include "simulator/profile.h"

namespace rrkit::simulator {

// A consumed request, already parsed.
struct Incoming {
  std::string topic;
  std::int32_t partition = 0;
  std::int64_t offset = 0;
  std::string id;               // empty: no correlation id found
  std::string invalid;          // why the message cannot be answered (empty when it can)
  nlohmann::json request;       // the body as consumed (a JSON string when it was not JSON)
  bool body_is_json = false;
  // Under a profile contract: the request with its CloudEvent envelope removed (what rules match,
  // replies echo and fields are logged from) and the value at the contract's request_key.
  // Without one: unwrapped is null and request serves.
  nlohmann::json unwrapped;
  std::string contract_key;
  const nlohmann::json& body() const { return unwrapped.is_null() ? request : unwrapped; }
  Headers headers;
  std::string reply_topic;
};

enum class ProduceResult { ok, queue_full, failed };

// Where replies go (Kafka in the program, a recorder in tests). `token` comes back in on_delivered.
class ReplySink {
 public:
  virtual ~ReplySink() = default;
  virtual ProduceResult produce(const std::string& topic, const std::string& key, const std::string& body,
                                const Headers& headers, std::uint64_t token) = 0;
};

struct TopicPartition {
  std::string topic;
  std::int32_t partition = 0;
  auto operator<=>(const TopicPartition&) const = default;
};

struct CommitPoint {
  TopicPartition tp;
  std::int64_t offset = 0;  // the next offset to consume
};

class Engine {
 public:
  using Clock = std::chrono::steady_clock;
  // Called (on the consumer thread) when the profile's crash point is reached; the program exits 70.
  using CrashHandler = std::function<void()>;

  Engine(std::shared_ptr<const Profile> profile, std::uint64_t seed, DecisionLog& decisions, ReplySink& sink,
         Metrics& metrics, log::Logger logger, CrashHandler on_crash);
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  ~Engine();

  // Request body fields copied into each decision line ("fields"), so that a client that never
  // learned the correlation id (it hung up first) can still be joined with its decision by its own field.
  void set_logged_fields(std::vector<std::string> fields) { logged_fields_ = std::move(fields); }
  // Decisions are keyed on this body field (dotted path) when the request carries it as a string.
  void set_key_field(std::string path) { key_field_ = std::move(path); }
  static constexpr std::size_t kMaxKeyBytes = 256;

  void start();
  // Stops the scheduler; replies not yet emitted are abandoned (their offsets stay uncommitted).
  void stop();

  void on_message(Incoming msg);
  // The producer's delivery report for the reply produced with `token`: writes the reply's
  // decision-log line (`reply` when Kafka has it, `reply_failed` otherwise).
  void on_delivered(std::uint64_t token, bool ok, const std::string& error);
  void on_assigned(const std::vector<TopicPartition>& tps);
  void on_revoked(const std::vector<TopicPartition>& tps);
  // Offsets that may be committed now (every message below them is handled).
  std::vector<CommitPoint> committable();
  void committed(const std::vector<CommitPoint>& points);

  // False while paused, stalled or when the worker queue is at its bound.
  bool accepting() const;
  void pause();
  void resume();

  void set_profile(std::shared_ptr<const Profile> profile, const std::string& source);
  std::shared_ptr<const Profile> profile() const;
  std::uint64_t seed() const { return seed_; }
  nlohmann::json stats() const;
  int assigned_partitions() const;
  // Replies scheduled or held but not yet produced, plus produced but not yet delivery-reported.
  std::size_t in_flight() const;

 private:
  std::vector<std::string> logged_fields_;
  std::string key_field_;
  // A reply handed to the producer and not yet confirmed by its delivery report: its decision-log
  // line is written from the report, so that the log never claims a reply Kafka did not take (a kill -9
  // loses whatever was still queued in the producer).
  struct Unconfirmed {
    std::string reply_id;  // empty: none (missing_id, corrupt)
    std::string kind;
    std::int64_t planned_us = 0;
    std::int64_t sent_us = 0;
  };
  struct Entry {
    std::uint64_t seq = 0;
    Incoming msg;
    Decision decision;
    std::string key;  // what the decision was keyed on when not the correlation id (--key-field)
    std::shared_ptr<const Profile> profile;  // in force when it arrived: its contract shapes the replies
    std::uint64_t generation = 0;  // of the partition assignment it came from
    int emitted = 0;
    int delivered = 0;
    bool finished_emitting = false;
    std::map<int, Unconfirmed> unconfirmed;  // by copy
  };
  enum class EventKind { service_done, emit, reorder_flush, stall_end };
  struct Event {
    Clock::time_point at;
    std::uint64_t order = 0;  // FIFO among equal times
    EventKind kind = EventKind::emit;
    std::uint64_t entry = 0;
    int copy = 0;
    std::int64_t planned_us = 0;
    std::string bucket;    // reorder_flush: which hold buffer
    std::uint64_t epoch = 0;  // reorder_flush: which filling of it
    bool operator>(const Event& o) const { return at != o.at ? at > o.at : order > o.order; }
  };
  struct Held {
    std::uint64_t entry;
    int copy;
    std::int64_t planned_us;
  };
  struct HoldBuffer {
    std::vector<Held> items;
    std::uint64_t epoch = 0;
  };
  struct PartitionTrack {
    std::uint64_t generation = 0;
    std::set<std::int64_t> pending;
    std::int64_t next = -1;
    std::int64_t committed = -1;
  };

  void run();
  void push(Event e);
  void start_service(Entry& e, Clock::time_point now);
  void service_done(std::uint64_t seq, Clock::time_point now);
  void emit(std::uint64_t seq, int copy, std::int64_t planned_us, Clock::time_point now);
  void produce_copy(Entry& e, int copy, std::int64_t planned_us);
  void flush_hold(const std::string& bucket);
  void finish(std::uint64_t seq);
  void check_stall_locked(Clock::time_point now);
  std::string swap_partner(const Entry& e);
  void log_decision(const Entry& e);
  std::string decision_key(const Incoming& msg, const Profile& profile) const;
  DecisionRecord reply_line(DecisionLineType type, std::int64_t ts_us, const Entry& e, int copy,
                            const Unconfirmed& r) const;
  void write_reply_failed(const Entry& e, int copy, const Unconfirmed& r, const std::string& error);
  bool stalled_locked(Clock::time_point now) const { return stall_until_ && now < *stall_until_; }

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::thread thread_;
  bool stopping_ = false;

  std::shared_ptr<const Profile> profile_;
  const std::uint64_t seed_;
  DecisionLog& decisions_;
  ReplySink& sink_;
  Metrics& metrics_;
  log::Logger logger_;
  CrashHandler on_crash_;

  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  std::uint64_t event_order_ = 0;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::uint64_t next_seq_ = 1;
  std::deque<std::uint64_t> waiting_;  // for a worker
  int busy_ = 0;
  std::map<std::string, HoldBuffer> hold_;
  std::deque<std::string> recent_ids_;  // fallback swap partners
  std::map<TopicPartition, PartitionTrack> partitions_;
  std::uint64_t generation_ = 0;
  bool paused_ = false;
  std::optional<Clock::time_point> stall_until_;
  std::int64_t consumed_since_profile_ = 0;
  bool stall_fired_ = false;

  // counts for /stats
  std::map<std::string, std::int64_t> counts_;
  std::map<std::string, std::int64_t> by_rule_;
};

}  // namespace rrkit::simulator
