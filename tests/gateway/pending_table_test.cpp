#include <catch2/catch.hpp>

#include <atomic>
#include <barrier>
#include <string>
#include <thread>
#include <vector>

#include "gateway/pending_table.h"

namespace pending_table_test {

using namespace rrkit;
using namespace rrkit::gateway;
using namespace std::chrono_literals;

namespace {

PendingTable::Limits limits(std::size_t max_pending = 100, std::chrono::milliseconds window = 60s,
                            std::size_t window_max = 1000) {
  return {max_pending, window, window_max};
}

// Counts how often an entry's waiter is told, and with what.
struct Probe {
  std::atomic<int> calls{0};
  Finish last = Finish::timed_out;
  PendingTable::Notify notify() {
    return [this](Completion c) {
      last = c.how;
      ++calls;
    };
  }
};

}  // namespace

TEST_CASE("pending table: a reply removes the entry once and hands over the notify") {
  PendingTable t(limits());
  const auto now = Clock::now();
  const CorrelationId id("a");
  Probe p;
  REQUIRE(t.insert(id, now, p.notify()) == PendingTable::Insert::inserted);
  CHECK(t.size() == 1);
  auto c = t.classify_reply(id, now);
  REQUIRE(c.cls == ReplyClass::matched);
  REQUIRE(c.notify);
  c.notify(Completion{Finish::replied, R"({"x":1})"});
  CHECK(p.calls == 1);
  CHECK(t.size() == 0);
  // A second copy of the same reply is a duplicate, and nothing else is removed.
  CHECK(t.classify_reply(id, now).cls == ReplyClass::duplicate);
  CHECK_FALSE(t.finish(id, Finish::timed_out, now));
}

TEST_CASE("pending table: deadline, client gone and publish failure each remove exactly once") {
  for (const Finish how : {Finish::timed_out, Finish::client_gone, Finish::publish_failed}) {
    PendingTable t(limits());
    const auto now = Clock::now();
    const CorrelationId id("b");
    Probe p;
    REQUIRE(t.insert(id, now, p.notify()) == PendingTable::Insert::inserted);
    CHECK(t.finish(id, how, now));
    CHECK_FALSE(t.finish(id, how, now));
    CHECK_FALSE(t.finish(id, Finish::timed_out, now));
    CHECK(t.size() == 0);
    // The first reply after that is late, a second copy a duplicate.
    CHECK(t.classify_reply(id, now).cls == ReplyClass::late);
    CHECK(t.classify_reply(id, now).cls == ReplyClass::duplicate);
    CHECK(p.calls == 0);  // the remover answers its own client; nobody is notified
  }
}

TEST_CASE("pending table: shutdown hands every waiter over and refuses new entries") {
  PendingTable t(limits());
  const auto now = Clock::now();
  Probe a, b;
  REQUIRE(t.insert(CorrelationId("a"), now, a.notify()) == PendingTable::Insert::inserted);
  REQUIRE(t.insert(CorrelationId("b"), now, b.notify()) == PendingTable::Insert::inserted);
  auto waiting = t.close(now);
  REQUIRE(waiting.size() == 2);
  for (auto& n : waiting) n(Completion{Finish::shutdown, {}});
  CHECK(a.calls == 1);
  CHECK(b.calls == 1);
  CHECK(a.last == Finish::shutdown);
  CHECK(t.size() == 0);
  CHECK_FALSE(t.finish(CorrelationId("a"), Finish::timed_out, now));
  CHECK(t.classify_reply(CorrelationId("a"), now).cls == ReplyClass::late);
  Probe c;
  CHECK(t.insert(CorrelationId("c"), now, c.notify()) == PendingTable::Insert::closed);
}

TEST_CASE("pending table: max pending is enforced and ids are unique") {
  PendingTable t(limits(2));
  const auto now = Clock::now();
  Probe p;
  CHECK(t.insert(CorrelationId("1"), now, p.notify()) == PendingTable::Insert::inserted);
  CHECK(t.insert(CorrelationId("1"), now, p.notify()) == PendingTable::Insert::duplicate_id);
  CHECK(t.insert(CorrelationId("2"), now, p.notify()) == PendingTable::Insert::inserted);
  CHECK(t.insert(CorrelationId("3"), now, p.notify()) == PendingTable::Insert::full);
  CHECK(t.finish(CorrelationId("1"), Finish::timed_out, now));
  CHECK(t.insert(CorrelationId("3"), now, p.notify()) == PendingTable::Insert::inserted);
}

TEST_CASE("pending table: a remembered id is refused as a new one until it is forgotten") {
  const auto t0 = Clock::now();
  PendingTable t(limits(100, 1s));
  Probe p;
  REQUIRE(t.insert(CorrelationId("r"), t0, p.notify()) == PendingTable::Insert::inserted);
  REQUIRE(t.classify_reply(CorrelationId("r"), t0).cls == ReplyClass::matched);
  CHECK(t.insert(CorrelationId("r"), t0 + 10ms, p.notify()) == PendingTable::Insert::duplicate_id);
  CHECK(t.size() == 0);
  // Once the window has passed (and something made the table look at the time), it is new again.
  CHECK(t.classify_reply(CorrelationId("other"), t0 + 2s).cls == ReplyClass::unknown);
  CHECK(t.insert(CorrelationId("r"), t0 + 2s, p.notify()) == PendingTable::Insert::inserted);
}

TEST_CASE("pending table: a long churn keeps exactly the newest ids and every waiter") {
  // 60,000 requests through a window of 1,000 ids with 300 waiting: both tables grow, and
  // entries are inserted and erased far more often than they are held, so the tables rebuild
  // themselves many times. None of that may lose a waiter or misclassify an id.
  const auto t0 = Clock::now();
  constexpr int kWaiting = 300, kTotal = 60000, kWindow = 1000;
  PendingTable t(limits(kWaiting + 1, 60s, kWindow));
  Probe p;
  const auto id = [](int i) { return CorrelationId("id-" + std::to_string(i)); };
  for (int i = 0; i < kWaiting; ++i) REQUIRE(t.insert(id(i), t0, p.notify()) == PendingTable::Insert::inserted);
  int matched = 0;
  for (int i = kWaiting; i < kTotal; ++i) {
    const auto now = t0 + std::chrono::microseconds(i);
    REQUIRE(t.insert(id(i), now, p.notify()) == PendingTable::Insert::inserted);
    auto c = t.classify_reply(id(i - kWaiting), now);
    REQUIRE(c.cls == ReplyClass::matched);
    c.notify(Completion{Finish::replied, {}});
    ++matched;
  }
  CHECK(matched == kTotal - kWaiting);
  CHECK(p.calls == kTotal - kWaiting);
  CHECK(t.size() == static_cast<std::size_t>(kWaiting));
  CHECK(t.remembered() == static_cast<std::size_t>(kWindow));
  const auto later = t0 + 1s;
  const int newest_finished = kTotal - kWaiting - 1;
  CHECK(t.classify_reply(id(newest_finished), later).cls == ReplyClass::duplicate);
  CHECK(t.classify_reply(id(newest_finished - kWindow + 1), later).cls == ReplyClass::duplicate);
  CHECK(t.classify_reply(id(newest_finished - kWindow), later).cls == ReplyClass::unknown);
  CHECK(t.classify_reply(id(kTotal - 1), later).cls == ReplyClass::matched);
}

TEST_CASE("pending table: unknown ids and the bounded late window") {
  const auto t0 = Clock::now();
  SECTION("never seen") {
    PendingTable t(limits());
    CHECK(t.classify_reply(CorrelationId("nope"), t0).cls == ReplyClass::unknown);
  }
  SECTION("forgotten after the window") {
    PendingTable t(limits(100, 1s));
    Probe p;
    t.insert(CorrelationId("x"), t0, p.notify());
    t.finish(CorrelationId("x"), Finish::timed_out, t0);
    CHECK(t.remembered() == 1);
    CHECK(t.classify_reply(CorrelationId("x"), t0 + 2s).cls == ReplyClass::unknown);
    CHECK(t.remembered() == 0);
  }
  SECTION("bounded in count: the oldest are forgotten first") {
    PendingTable t(limits(100, 60s, 3));
    Probe p;
    for (int i = 0; i < 5; ++i) {
      const CorrelationId id(std::to_string(i));
      t.insert(id, t0, p.notify());
      t.finish(id, Finish::timed_out, t0 + std::chrono::milliseconds(i));
    }
    CHECK(t.remembered() == 3);
    CHECK(t.classify_reply(CorrelationId("0"), t0 + 10ms).cls == ReplyClass::unknown);
    CHECK(t.classify_reply(CorrelationId("1"), t0 + 10ms).cls == ReplyClass::unknown);
    CHECK(t.classify_reply(CorrelationId("4"), t0 + 10ms).cls == ReplyClass::late);
  }
  SECTION("a zero window remembers nothing") {
    PendingTable t(limits(100, 60s, 0));
    Probe p;
    t.insert(CorrelationId("x"), t0, p.notify());
    t.finish(CorrelationId("x"), Finish::timed_out, t0);
    CHECK(t.remembered() == 0);
    CHECK(t.classify_reply(CorrelationId("x"), t0).cls == ReplyClass::unknown);
  }
}

TEST_CASE("pending table: oldest pending age") {
  PendingTable t(limits());
  const auto t0 = Clock::now();
  CHECK(t.oldest_age(t0) == Clock::duration::zero());
  Probe p;
  t.insert(CorrelationId("old"), t0, p.notify());
  t.insert(CorrelationId("new"), t0 + 2s, p.notify());
  CHECK(t.oldest_age(t0 + 3s) == 3s);
  t.finish(CorrelationId("old"), Finish::timed_out, t0 + 3s);
  CHECK(t.oldest_age(t0 + 3s) == 1s);
}

TEST_CASE("pending table: reply vs deadline race removes each entry exactly once") {
  // Each round releases a reply and a deadline on the same entry at the same moment (a barrier).
  // Which one wins is the scheduler's choice, and one time slice can hand every round to the same
  // side, so no winner is required: every round must remove its entry exactly once, whoever wins.
  // The two threads swap roles every round, so that a thread the barrier favours does not always
  // play the same side. Each outcome on its own is forced by the sequential test cases above.
  constexpr int kRounds = 2000;
  PendingTable t(limits(1, 60s, kRounds));
  const auto now = Clock::now();
  std::vector<CorrelationId> ids;
  for (int i = 0; i < kRounds; ++i) ids.emplace_back("race-" + std::to_string(i));

  // Written between a round's two barriers, read by the main thread after the second one.
  ReplyClass seen = ReplyClass::unknown;
  bool finished = false;
  std::atomic<int> notified{0};
  auto reply = [&](int i) {
    auto c = t.classify_reply(ids[static_cast<std::size_t>(i)], now);
    if (c.cls == ReplyClass::matched) c.notify(Completion{Finish::replied, {}});
    seen = c.cls;
  };
  auto deadline = [&](int i) { finished = t.finish(ids[static_cast<std::size_t>(i)], Finish::timed_out, now); };
  std::barrier sync(2);
  std::thread other([&] {
    for (int i = 0; i < kRounds; ++i) {
      sync.arrive_and_wait();  // round i starts: the entry is in the table
      if (i % 2 == 0) reply(i);
      else deadline(i);
      sync.arrive_and_wait();  // round i done
    }
  });

  int reply_won = 0, deadline_won = 0, broken = 0;
  std::string first_broken;
  for (int i = 0; i < kRounds; ++i) {
    const int notified_before = notified;
    const auto inserted = t.insert(ids[static_cast<std::size_t>(i)], now, [&](Completion) { ++notified; });
    sync.arrive_and_wait();
    if (i % 2 == 0) deadline(i);
    else reply(i);
    sync.arrive_and_wait();
    const int notifies = notified - notified_before;
    // Exactly one remover: the reply (matched, its waiter told once, the deadline refused) or the
    // deadline (nobody told, the reply classified late).
    const bool reply_first = !finished && seen == ReplyClass::matched && notifies == 1;
    const bool deadline_first = finished && seen == ReplyClass::late && notifies == 0;
    reply_won += reply_first ? 1 : 0;
    deadline_won += deadline_first ? 1 : 0;
    if (inserted != PendingTable::Insert::inserted || !(reply_first || deadline_first) || t.size() != 0) {
      if (broken++ == 0) {
        first_broken = "round " + std::to_string(i) + ": deadline " + (finished ? "won" : "lost") + ", reply " +
                       std::string(to_string(seen)) + ", notified " + std::to_string(notifies) + " times, " +
                       std::to_string(t.size()) + " left";
      }
    }
  }
  other.join();
  INFO("reply won " << reply_won << " rounds, deadline won " << deadline_won);
  INFO(first_broken);
  CHECK(broken == 0);
  CHECK(reply_won + deadline_won == kRounds);
  CHECK(t.size() == 0);
}

}  // namespace pending_table_test
