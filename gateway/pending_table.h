#pragma once
// The correlation core: requests waiting for their reply, keyed by correlation id, plus a
// bounded memory of recently finished ids so that a stray reply can be classified as
// late / duplicate / unknown instead of being silently dropped.
//
// Ownership: one PendingTable per gateway, shared by every io thread; all state is behind
// one mutex. The table never runs a waiter's code under its lock: whoever removes an
// entry gets its Notify back and calls it afterwards, which is what makes removal
// exactly-once whatever races (reply vs deadline vs disconnect vs shutdown).
#include <chrono>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>
#include <nlohmann/json.hpp>

#include "common/gateway_metrics.h"
#include "common/ids.h"

namespace rrkit::gateway {

using Clock = std::chrono::steady_clock;

// Why a pending entry left the table.
enum class Finish { replied, timed_out, client_gone, publish_failed, shutdown };

// What a delivered reply turned out to be; also the class label of the replies counter, so it is
// defined with the rest of the metric contract.
using gateway_metrics::ReplyClass;
using gateway_metrics::to_string;

std::string_view to_string(Finish f);

// Handed to a waiter by whoever removed its entry (a reply or shutdown).
struct Completion {
  Finish how = Finish::replied;
  std::string reply;  // the reply object as JSON text (Delivery::reply); only for Finish::replied
};

class PendingTable {
 public:
  using Notify = std::function<void(Completion)>;

  struct Limits {
    std::size_t max_pending = 10000;
    std::chrono::milliseconds late_window{60000};
    std::size_t late_window_max = 100000;
  };

  enum class Insert { inserted, full, duplicate_id, closed };

  struct Classified {
    ReplyClass cls = ReplyClass::unknown;
    Notify notify;  // set only for matched: the caller must call it with the reply
  };

  explicit PendingTable(Limits limits) : limits_(limits) {}

  Insert insert(const CorrelationId& id, Clock::time_point now, Notify notify);

  // Removes a still-pending entry for a reason other than a reply (deadline, client gone,
  // publish failure). True for exactly one caller per id: that caller answers the client.
  bool finish(const CorrelationId& id, Finish how, Clock::time_point now);

  // Classifies a reply and, when it matches a pending entry, removes that entry.
  Classified classify_reply(const CorrelationId& id, Clock::time_point now);

  // Shutdown: refuses further inserts and removes every entry; the caller notifies them.
  std::vector<Notify> close(Clock::time_point now);

  std::size_t size() const;
  std::size_t remembered() const;
  // Age of the oldest waiting entry (zero when none).
  Clock::duration oldest_age(Clock::time_point now) const;

 private:
  struct Pending {
    Clock::time_point started;
    Notify notify;
  };
  struct Finished {
    Clock::time_point at;
    bool answered_by_reply = false;
    bool late_seen = false;
  };

  void remember(const CorrelationId& id, bool answered, Clock::time_point now);  // lock held
  void evict(Clock::time_point now);                                             // lock held

  Limits limits_;
  mutable std::mutex mutex_;
  bool closed_ = false;
  // Open addressing (entries in one array, not a node each): at a high rate the late window holds
  // its maximum of ids, and every request looks ids up in both tables; a lookup here reads one
  // group of metadata and one slot instead of walking a bucket's chain of separately allocated nodes.
  boost::unordered_flat_map<CorrelationId, Pending, CorrelationIdHash> pending_;
  boost::unordered_flat_map<CorrelationId, Finished, CorrelationIdHash> finished_;
  // Finished ids in finishing order: the front is evicted first (by age or by count). A copy of the
  // id, since finished_'s entries move when it grows.
  std::deque<std::pair<Clock::time_point, CorrelationId>> finished_order_;
};

}  // namespace rrkit::gateway
