// The late window's time boundary, on the table's injected clock: a reply that arrives just
// inside --late-window after its request finished is late (or a duplicate), one that arrives
// just after it is unknown. The window is half-open: [finished, finished + window).
#include <catch2/catch.hpp>

#include <vector>

#include "gateway/pending_table.h"

namespace late_window_test {

using namespace rrkit;
using namespace rrkit::gateway;
using namespace std::chrono_literals;

namespace {

constexpr auto kWindow = 5s;

PendingTable table() { return PendingTable({100, kWindow, 1000}); }

// Inserts `id` at t0 and finishes it at `finished` for `how` (a reply when how == replied).
void finish_at(PendingTable& t, const CorrelationId& id, Clock::time_point t0, Clock::time_point finished, Finish how) {
  REQUIRE(t.insert(id, t0, [](Completion) {}) == PendingTable::Insert::inserted);
  if (how == Finish::replied) {
    REQUIRE(t.classify_reply(id, finished).cls == ReplyClass::matched);
  } else {
    REQUIRE(t.finish(id, how, finished));
  }
}

}  // namespace

TEST_CASE("late window: a reply 1 ms inside the window is late, one at or after its end is unknown") {
  const auto t0 = Clock::now();
  const auto finished = t0 + 2s;  // the deadline, client hang-up, failed publish or shutdown
  for (const Finish how : {Finish::timed_out, Finish::client_gone, Finish::publish_failed}) {
    INFO(to_string(how));
    {
      auto t = table();
      finish_at(t, CorrelationId("inside"), t0, finished, how);
      CHECK(t.classify_reply(CorrelationId("inside"), finished + kWindow - 1ms).cls == ReplyClass::late);
      // The next copy is still inside: a duplicate of the late one.
      CHECK(t.classify_reply(CorrelationId("inside"), finished + kWindow - 1ms).cls == ReplyClass::duplicate);
    }
    {
      auto t = table();
      finish_at(t, CorrelationId("at-end"), t0, finished, how);
      CHECK(t.classify_reply(CorrelationId("at-end"), finished + kWindow).cls == ReplyClass::unknown);
      CHECK(t.remembered() == 0);
    }
    {
      auto t = table();
      finish_at(t, CorrelationId("after"), t0, finished, how);
      CHECK(t.classify_reply(CorrelationId("after"), finished + kWindow + 1ms).cls == ReplyClass::unknown);
    }
  }
}

TEST_CASE("late window: shutdown starts the window for every waiter at the moment of closing") {
  const auto t0 = Clock::now();
  auto t = table();
  REQUIRE(t.insert(CorrelationId("a"), t0, [](Completion) {}) == PendingTable::Insert::inserted);
  REQUIRE(t.insert(CorrelationId("b"), t0, [](Completion) {}) == PendingTable::Insert::inserted);
  const auto closed = t0 + 1s;
  CHECK(t.close(closed).size() == 2);
  // Measured from the close, not from the insert: t0 + window is still inside.
  CHECK(t.classify_reply(CorrelationId("a"), closed + kWindow - 1ms).cls == ReplyClass::late);
  CHECK(t.classify_reply(CorrelationId("b"), closed + kWindow).cls == ReplyClass::unknown);
}

TEST_CASE("late window: a second copy of an answered reply is a duplicate inside the window, unknown after") {
  const auto t0 = Clock::now();
  const auto answered = t0 + 100ms;
  {
    auto t = table();
    finish_at(t, CorrelationId("x"), t0, answered, Finish::replied);
    CHECK(t.classify_reply(CorrelationId("x"), answered + kWindow - 1ms).cls == ReplyClass::duplicate);
  }
  {
    auto t = table();
    finish_at(t, CorrelationId("x"), t0, answered, Finish::replied);
    CHECK(t.classify_reply(CorrelationId("x"), answered + kWindow).cls == ReplyClass::unknown);
  }
}

TEST_CASE("late window: an unrelated reply's arrival forgets expired ids, not those still inside") {
  // Eviction runs on every classification: ids that finished earlier expire first.
  const auto t0 = Clock::now();
  auto t = table();
  finish_at(t, CorrelationId("early"), t0, t0 + 1s, Finish::timed_out);
  finish_at(t, CorrelationId("later"), t0, t0 + 3s, Finish::timed_out);
  CHECK(t.classify_reply(CorrelationId("stranger"), t0 + 1s + kWindow).cls == ReplyClass::unknown);
  CHECK(t.remembered() == 1);
  CHECK(t.classify_reply(CorrelationId("later"), t0 + 3s + kWindow - 1ms).cls == ReplyClass::late);
}

TEST_CASE("late window: at shutdown a reply matched just before the close still reaches its waiter, one after is late") {
  const auto t0 = Clock::now();
  auto t = table();
  std::vector<Finish> told_a, told_b;
  REQUIRE(t.insert(CorrelationId("a"), t0, [&](Completion c) { told_a.push_back(c.how); }) ==
          PendingTable::Insert::inserted);
  REQUIRE(t.insert(CorrelationId("b"), t0, [&](Completion c) { told_b.push_back(c.how); }) ==
          PendingTable::Insert::inserted);
  // a's reply is matched; its delivery handler has not called the waiter yet when SIGTERM closes the table.
  auto matched = t.classify_reply(CorrelationId("a"), t0 + 10ms);
  REQUIRE(matched.cls == ReplyClass::matched);
  auto waiting = t.close(t0 + 11ms);
  REQUIRE(waiting.size() == 1);  // only b: a is no longer the shutdown's to answer
  for (auto& n : waiting) n(Completion{Finish::shutdown, {}});
  matched.notify(Completion{Finish::replied, R"({"correlationId":"a"})"});
  CHECK(told_a == std::vector<Finish>{Finish::replied});
  CHECK(told_b == std::vector<Finish>{Finish::shutdown});
  // b's reply, arriving mid-shutdown, is late; a second copy of a's is a duplicate.
  CHECK(t.classify_reply(CorrelationId("b"), t0 + 1s).cls == ReplyClass::late);
  CHECK(t.classify_reply(CorrelationId("a"), t0 + 1s).cls == ReplyClass::duplicate);
}

}  // namespace late_window_test
