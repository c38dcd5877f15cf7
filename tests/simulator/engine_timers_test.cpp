// The engine's timed releases: a reorder window that never fills is emptied by its max_hold timer,
// and a stall that begins while replies are held defers that flush to the stall's end. The engine
// runs on the real clock (it has no injectable one), so every check waits on a condition with a
// deadline and reads the figures the engine itself logged (planned, sent, stall until).
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "testkit/process.h"
#include "simulator/engine.h"
#include "simulator/kafka_io.h"
#include "tests/simulator/engine_fixture.h"

namespace engine_timers_test {

using namespace rrkit::simulator;
using Timers = rrkit::simulator::test::Fixture;
using namespace std::chrono_literals;

namespace {

std::int64_t held_us(const nlohmann::json& reply) {
  return reply["sent_us"].get<std::int64_t>() - reply["planned_us"].get<std::int64_t>();
}

}  // namespace

TEST_CASE("engine: a reorder window that never fills is released by its max_hold timer", "[engine]") {
  // Three replies in a window of ten: only the timer can let them out.
  Timers t("default: {reorder: {window: 10, max_hold: 300ms}}", 11);
  for (int i = 0; i < 3; ++i) t.send(i);
  REQUIRE(rrkit::proc::wait_until([&] { return t.sink.count() == 3; }, 10s, 5ms));
  t.deliver_all();
  const auto replies = t.replies_by_request();
  REQUIRE(replies.size() == 3);
  // The first one held waited the whole max_hold (the others joined a window already running).
  std::int64_t longest = 0;
  for (const auto& [id, r] : replies) longest = std::max(longest, held_us(r));
  CHECK(longest >= 300'000 - 2'000);
  CHECK(t.engine->stats()["reorder"] == 3);
  CHECK(t.engine->in_flight() == 0);

  // The emptied buffer starts a new window with a timer of its own.
  t.send(3);
  REQUIRE(rrkit::proc::wait_until([&] { return t.sink.count() == 4; }, 10s, 5ms));
  t.deliver_all();
  CHECK(held_us(t.replies_by_request().at("id-3")) >= 300'000 - 2'000);
}

TEST_CASE("engine: a stall that begins while replies are held defers their flush to the stall's end", "[engine]") {
  // id-0 is held for 2s; a 3s stall starts while it is held, so the flush due at 2s must wait for
  // the stall to end. The plain reply of id-1 (emitted after id-0 entered the buffer, by the
  // scheduler's time order) tells the test that id-0 is held.
  const std::string rules = R"(
rules:
  - {name: plain, match: {field: data.kind, equals: plain}}
default: {reorder: {window: 10, max_hold: 2s}}
)";
  Timers t(rules, 11);
  t.send(0);
  t.send(1, "plain");
  REQUIRE(rrkit::proc::wait_until([&] { return t.sink.count() == 1; }, 10s, 2ms));
  REQUIRE(t.sink.snapshot()[0].key == "id-1");

  auto stalled = parse_profile(rules + "stall: {after: 0, for: 3s}\n", "test");
  REQUIRE(stalled);
  t.engine->set_profile(stalled.profile, "test");
  // Still held: the max_hold (2s) had not run out when the stall began.
  REQUIRE(t.sink.count() == 1);
  CHECK_FALSE(t.engine->accepting());

  REQUIRE(rrkit::proc::wait_until([&] { return t.sink.count() == 2; }, 20s, 5ms));
  t.deliver_all();
  const auto stall = t.log_lines("stall");
  REQUIRE(!stall.empty());
  REQUIRE(stall[0]["phase"] == "start");
  const std::int64_t stall_until_us = stall[0]["until_us"].get<std::int64_t>();
  const auto held = t.replies_by_request().at("id-0");
  // Without the stall it would have left at planned + 2s, a second before the stall ended.
  CHECK(held["planned_us"].get<std::int64_t>() + 2'000'000 < stall_until_us);
  CHECK(held["sent_us"].get<std::int64_t>() >= stall_until_us - 2'000);
  CHECK(t.engine->accepting());
}

}  // namespace engine_timers_test
