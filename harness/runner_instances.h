#pragma once
// The gateway instances a run judges once the timeline may have added (add_gateway) and stopped
// (stop_gateway) some: each instance's life, and its metrics reading (a stopped one's last).
#include <cstdint>
#include <functional>
#include <vector>

#include "harness/checker.h"
#include "harness/traffic_roster.h"

namespace rrkit::harness {

class Topology;

// Each slot's life: those past `initial` joined, retired ones left. Empty when none changed (every
// instance served throughout), as runs without such actions record it.
std::vector<GatewayLife> gateway_lives(const GatewayRoster& roster, std::size_t initial);

// One reading per port: fetched from a serving instance, the roster's last reading for a stopped one
// (or why there is none yet). `roster` may be null (attach mode): every port is fetched.
std::vector<MetricsScrape> read_instances(const std::vector<std::uint16_t>& ports, const GatewayRoster* roster,
                                          const RunFacts& facts,
                                          const std::function<MetricsScrape(std::uint16_t)>& fetch);

// Brings a run's view up to the roster: every instance's port, each one's life (facts.gateway_life), and
// a warm-up baseline (when there is one) with an empty entry for each instance that joined afterwards,
// keeping one entry per instance (the checker subtracts nothing for a joined instance).
void follow_instances(const GatewayRoster& roster, std::size_t initial, std::vector<std::uint16_t>& ports,
                      RunFacts& facts, std::vector<MetricsScrape>& baseline);

// Whether every live simulator instance of the topology has nothing left to send (replies waiting on a
// delay, a reorder window or a worker), by its /stats; one that cannot be read is not idle.
bool simulators_idle(Topology& topo);

}  // namespace rrkit::harness
