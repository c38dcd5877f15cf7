#include "harness/runner_instances.h"

#include <chrono>
#include <string>

#include "common/json_limits.h"
#include "harness/topology.h"
#include "testkit/http_client.h"

namespace rrkit::harness {

std::vector<GatewayLife> gateway_lives(const GatewayRoster& roster, std::size_t initial) {
  std::vector<GatewayLife> life;
  bool changed = false;
  for (std::size_t i = 0; i < roster.size(); ++i) {
    const bool joined = i >= initial, left = !roster.live(i);
    life.push_back(joined ? (left ? GatewayLife::joined_and_left : GatewayLife::joined)
                          : (left ? GatewayLife::left : GatewayLife::throughout));
    changed = changed || life.back() != GatewayLife::throughout;
  }
  if (!changed) life.clear();
  return life;
}

std::vector<MetricsScrape> read_instances(const std::vector<std::uint16_t>& ports, const GatewayRoster* roster,
                                          const RunFacts& facts,
                                          const std::function<MetricsScrape(std::uint16_t)>& fetch) {
  std::vector<MetricsScrape> out;
  for (std::size_t i = 0; i < ports.size(); ++i) {
    const auto life = life_of(facts, i);
    if (roster && (life == GatewayLife::left || life == GatewayLife::joined_and_left)) {
      // stop_gateway keeps the reading just before its SIGTERM; until then the instance is being stopped.
      const auto last = roster->last_reading(i);
      out.push_back(last ? MetricsScrape{last->text, last->error} : MetricsScrape{{}, "being stopped: not read yet"});
      continue;
    }
    out.push_back(fetch(ports[i]));
  }
  return out;
}

void follow_instances(const GatewayRoster& roster, std::size_t initial, std::vector<std::uint16_t>& ports,
                      RunFacts& facts, std::vector<MetricsScrape>& baseline) {
  ports = roster.ports();
  facts.gateway_life = gateway_lives(roster, initial);
  while (!baseline.empty() && baseline.size() < ports.size()) baseline.push_back({});
}

bool simulators_idle(Topology& topo) {
  for (std::size_t k = 0; k < topo.simulator_count(); ++k) {
    auto& sim = topo.simulator_instance(k);
    if (!sim.process.alive()) continue;
    const auto st = http::get(sim.control_port, "/stats", std::chrono::seconds(1));
    const auto j = parse_bounded(st.ok() ? st.body : std::string("null"));
    if (!j.value.is_object() || j.value.value("in_flight", 0) != 0 || j.value.value("queued", 0) != 0) return false;
  }
  return true;
}

}  // namespace rrkit::harness
