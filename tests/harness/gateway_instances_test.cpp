// Gateway instances joining and leaving mid-traffic: the roster traffic picks from, the timeline's
// checks on add_gateway / stop_gateway, and what the runner makes of the instances afterwards.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "common/ids.h"
#include "harness/run_folder.h"
#include "harness/runner_instances.h"
#include "harness/scenario.h"
#include "harness/timeline_action.h"
#include "harness/topology.h"
#include "harness/traffic_roster.h"

namespace gateway_instances_test {

using namespace rrkit::harness;
namespace fs = std::filesystem;

TEST_CASE("the roster spreads requests round robin over the live instances only") {
  GatewayRoster roster({1001, 1002});
  SECTION("unchanged, request i goes to instance i % n as without a roster") {
    for (std::uint64_t i = 0; i < 6; ++i) {
      const auto lease = roster.pick(i);
      REQUIRE(lease);
      CHECK(lease.slot() == i % 2);
      CHECK(lease.port() == (i % 2 == 0 ? 1001 : 1002));
    }
  }
  SECTION("an added instance takes its share; a retired one gets nothing more") {
    CHECK(roster.add(1003) == 2);
    std::set<std::size_t> used;
    for (std::uint64_t i = 0; i < 6; ++i) used.insert(roster.pick(i).slot());
    CHECK(used == std::set<std::size_t>{0, 1, 2});
    CHECK(roster.retire(0));
    CHECK_FALSE(roster.retire(0));
    CHECK_FALSE(roster.retire(7));
    used.clear();
    for (std::uint64_t i = 0; i < 6; ++i) used.insert(roster.pick(i).slot());
    CHECK(used == std::set<std::size_t>{1, 2});
    CHECK(roster.live_count() == 2);
    CHECK(roster.ports() == std::vector<std::uint16_t>{1001, 1002, 1003});
  }
  SECTION("with no live instance there is nothing to pick") {
    CHECK(roster.retire(0));
    CHECK(roster.retire(1));
    CHECK_FALSE(roster.pick(0));
  }
}

TEST_CASE("a lease counts a request as unsent on its instance until released, once") {
  GatewayRoster roster({1001, 1002});
  {
    auto a = roster.pick(0);
    auto b = roster.pick(2);
    CHECK(roster.unsent(0) == 2);
    a.release();
    a.release();
    CHECK(roster.unsent(0) == 1);
    GatewayRoster::Lease moved = std::move(b);
    CHECK(roster.unsent(0) == 1);
  }  // the moved-to lease releases on destruction, the moved-from one does nothing
  CHECK(roster.unsent(0) == 0);
  CHECK(roster.unsent(1) == 0);
}

TEST_CASE("a stopped instance is read from its last reading, the others from their port") {
  GatewayRoster roster({1001, 1002});
  CHECK(roster.add(1003) == 2);
  CHECK(roster.retire(0));
  std::vector<std::uint16_t> ports = {1001, 1002};
  RunFacts facts;
  std::vector<MetricsScrape> baseline = {{"b0", ""}, {"b1", ""}};
  follow_instances(roster, 2, ports, facts, baseline);
  CHECK(ports == std::vector<std::uint16_t>{1001, 1002, 1003});
  CHECK(facts.gateway_life == std::vector<GatewayLife>{GatewayLife::left, GatewayLife::throughout, GatewayLife::joined});
  REQUIRE(baseline.size() == 3);
  CHECK(baseline[2].text.empty());
  CHECK(baseline[2].error.empty());

  std::vector<std::uint16_t> fetched;
  auto fetch = [&](std::uint16_t port) {
    fetched.push_back(port);
    return MetricsScrape{"live " + std::to_string(port), ""};
  };
  auto read = read_instances(ports, &roster, facts, fetch);
  CHECK(fetched == std::vector<std::uint16_t>{1002, 1003});
  CHECK(read[0].error == "being stopped: not read yet");
  roster.keep_last_reading(0, {"last words", ""});
  read = read_instances(ports, &roster, facts, fetch);
  CHECK(read[0].text == "last words");
  CHECK(read[1].text == "live 1002");

  SECTION("no change: no lives recorded, the baseline is left alone") {
    GatewayRoster same({1001, 1002});
    std::vector<MetricsScrape> none;
    follow_instances(same, 2, ports, facts, none);
    CHECK(facts.gateway_life.empty());
    CHECK(none.empty());
  }
  SECTION("an instance added and stopped again") {
    CHECK(roster.retire(2));
    CHECK(gateway_lives(roster, 2)[2] == GatewayLife::joined_and_left);
  }
}

TEST_CASE("gateway lives have names for the run folder") {
  for (const auto l : {GatewayLife::throughout, GatewayLife::joined, GatewayLife::left, GatewayLife::joined_and_left}) {
    CHECK(parse_gateway_life(to_string(l)) == l);
  }
  CHECK_FALSE(parse_gateway_life("gone"));
}

TEST_CASE("the timeline's gateway instances are checked as they come and go") {
  auto act = [](ActionKind k, int target = 0, int instance = 0) {
    TimelineAction a;
    a.action = k;
    a.target = target;
    a.instance = instance;
    return a;
  };
  using K = ActionKind;
  CHECK_FALSE(check_gateway_instances({act(K::add_gateway), act(K::stop_gateway, 0, 0), act(K::kill_daprd, 2)}, 2,
                                      "broadcast"));
  SECTION("a target that only exists after add_gateway") {
    const auto p = check_gateway_instances({act(K::kill_daprd, 2), act(K::add_gateway)}, 2, "broadcast");
    REQUIRE(p);
    CHECK(p->action == 0);
    CHECK(p->key == "target");
    CHECK(p->message.find("no such gateway 2") != std::string::npos);
  }
  SECTION("an action on a stopped instance") {
    const auto p = check_gateway_instances({act(K::stop_gateway, 0, 1), act(K::restart_gateway, 1)}, 2, "broadcast");
    REQUIRE(p);
    CHECK(p->action == 1);
    CHECK(p->message.find("stopped") != std::string::npos);
    const auto twice = check_gateway_instances({act(K::add_gateway), act(K::stop_gateway, 0, 1), act(K::stop_gateway, 0, 1)},
                                               2, "broadcast");
    REQUIRE(twice);
    CHECK(twice->action == 2);
    CHECK(twice->key == "instance");
  }
  SECTION("stopping the last serving instance") {
    const auto p = check_gateway_instances({act(K::stop_gateway, 0, 0)}, 1, "broadcast");
    REQUIRE(p);
    CHECK(p->message.find("no gateway serving") != std::string::npos);
  }
  SECTION("add_gateway in reply-to mode, or with traffic in rounds") {
    const auto p = check_gateway_instances({act(K::add_gateway)}, 1, "reply-to");
    REQUIRE(p);
    CHECK(p->key == "action");
    CHECK(p->message.find("broadcast") != std::string::npos);
    const auto rounds = check_gateway_instances({act(K::stop_gateway, 0, 1)}, 2, "broadcast", 3);
    REQUIRE(rounds);
    CHECK(rounds->message.find("one round") != std::string::npos);
  }
  CHECK(parse_action("add_gateway") == ActionKind::add_gateway);
  CHECK(parse_action("stop_gateway") == ActionKind::stop_gateway);
}

TEST_CASE("a gateway's log tells how many waiting clients its shutdown answered") {
  const auto path = fs::temp_directory_path() / ("rrkit-gw-log-" + rrkit::new_uuid_v4() + ".log");
  std::ofstream(path) << "{\"msg\":\"started\"}\nnot json answered_on_shutdown\n"
                      << "{\"msg\":\"stopped\",\"answered_on_shutdown\":4,\"unfinished\":0}\n"
                      << "{\"msg\":\"stopped\",\"answered_on_shutdown\":2,\"unfinished\":0}\n";
  CHECK(shutdown_answers(path) == 2);  // the last shutdown's
  std::ofstream(path) << "plain text log of another gateway\n";
  CHECK_FALSE(shutdown_answers(path));
  fs::remove(path);
  CHECK_FALSE(shutdown_answers(path));
}

TEST_CASE("a stored run keeps its instances' lives for replay, and refuses a life it does not know") {
  const fs::path dir = fs::temp_directory_path() / ("rrkit-gateway-lives-" + rrkit::new_uuid_v4());
  fs::create_directories(dir);
  StoredRun run;
  run.record.gateways = 3;
  run.record.gateway_life = {GatewayLife::left, GatewayLife::throughout, GatewayLife::joined};
  run.record.metrics_errors = {"", "", ""};
  run.metrics = {{"a 1\n", ""}, {"a 2\n", ""}, {"a 3\n", ""}};
  save_run(dir, run);
  std::string error;
  auto back = load_run(dir, error);
  INFO(error);
  REQUIRE(back);
  CHECK(back->record.gateway_life == run.record.gateway_life);

  nlohmann::json meta;
  std::ifstream(dir / run_files::kRunJson) >> meta;
  meta["gateway_life"][1] = "gone";
  std::ofstream(dir / run_files::kRunJson) << meta.dump();
  CHECK_FALSE(load_run(dir, error));
  CHECK(error.find("gateway_life") != std::string::npos);
  meta.erase("gateway_life");
  std::ofstream(dir / run_files::kRunJson) << meta.dump();
  back = load_run(dir, error);
  REQUIRE(back);
  CHECK(back->record.gateway_life.empty());  // a run from before: every instance served throughout
  fs::remove_all(dir);
}

TEST_CASE("a settle poll settles only on counters read after the simulator said it was idle") {
  // The simulator sends its last duplicate copy while the first poll runs, just after the gateway's
  // counters and the decision log were read. Those reads match each other (239 copies each), so only
  // the order of the three steps decides whether the poll settles on them. Asked after the reads, the
  // simulator is already idle and the poll settled on 239; the checks then read a log of 240.
  struct World {
    int sent = 239, counted = 239;  // copies the simulator sent, copies the gateway counted
    bool sending = true;            // the last copy is on its way
    int seen_sent = 0, seen_counted = 0;
  } w;
  const auto idle = [&] { return !w.sending; };
  const auto snapshot = [&] {
    w.seen_sent = w.sent;
    w.seen_counted = w.counted;
    if (w.sending) {  // the copy leaves and is counted right after this read
      w.sending = false;
      ++w.sent;
      ++w.counted;
    }
  };
  const auto caught_up = [&] { return w.seen_counted == w.seen_sent; };
  // The first poll finds the simulator still sending: not settled, though the counters matched.
  CHECK_FALSE(settle_poll(idle, snapshot, caught_up));
  CHECK(w.seen_sent == 239);
  // The next one settles, on counters that include the last copy.
  REQUIRE(settle_poll(idle, snapshot, caught_up));
  CHECK(w.seen_sent == 240);
  CHECK(w.seen_counted == 240);
}

}  // namespace gateway_instances_test
