#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "gateway/pending_table.h"

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
  c.notify(Completion{Finish::replied, {{"x", 1}}});
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
  constexpr int kIds = 20000;
  PendingTable t(limits(kIds, 60s, kIds));
  const auto now = Clock::now();
  std::vector<CorrelationId> ids;
  std::atomic<int> notified{0};
  for (int i = 0; i < kIds; ++i) {
    ids.emplace_back("id-" + std::to_string(i));
    REQUIRE(t.insert(ids.back(), now, [&](Completion) { ++notified; }) == PendingTable::Insert::inserted);
  }
  std::atomic<int> matched{0}, timed_out{0}, late{0}, other{0};
  std::atomic<bool> go{false};
  std::thread replier([&] {
    while (!go) {
    }
    for (const auto& id : ids) {
      auto c = t.classify_reply(id, now);
      if (c.cls == ReplyClass::matched) {
        ++matched;
        c.notify(Completion{Finish::replied, {}});
      } else if (c.cls == ReplyClass::late) {
        ++late;
      } else {
        ++other;
      }
    }
  });
  std::thread deadline([&] {
    while (!go) {
    }
    // Walk from the other end so that both threads meet in the middle and really race.
    for (auto it = ids.rbegin(); it != ids.rend(); ++it) {
      if (t.finish(*it, Finish::timed_out, now)) ++timed_out;
    }
  });
  go = true;
  replier.join();
  deadline.join();
  CHECK(matched + timed_out == kIds);
  CHECK(notified == matched);
  CHECK(late == timed_out);  // every id the deadline won saw its reply arrive late
  CHECK(other == 0);
  CHECK(t.size() == 0);
  CHECK(matched > 0);
  CHECK(timed_out > 0);
}
