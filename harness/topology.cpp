#include "harness/topology.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "harness/decision_logs.h"
#include "harness/sut_launch.h"
#include "testkit/http_client.h"
#include "testkit/net.h"

namespace rrkit::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Topology::Topology(stack::Paths paths, TopologyOptions options)
    : paths_(std::move(paths)), options_(std::move(options)) {}

Topology::~Topology() { down(); }

bool Topology::up(std::string& error) {
  fs::create_directories(options_.run_dir);
  if (!options_.sut) {
    auto choice = choose_sut("", std::getenv("RRKIT_SUT"), paths_.bin_dir);
    if (!choice.load.ok()) {
      error = choice.load.error;
      return false;
    }
    options_.sut = std::make_shared<const Sut>(std::move(*choice.load.sut));
  }
  stack::KafkaConfig kc;
  kc.default_partitions = options_.partitions;
  kc.nodes = options_.kafka_brokers;
  kc.replication_factor = options_.replication_factor;
  kc.min_insync_replicas = options_.min_insync_replicas;
  kc.topics = {{options_.request_topic, options_.partitions}, {options_.reply_topic, options_.partitions}};
  if (options_.reply_mode == "reply-to") {
    for (int i = 1; i <= options_.gateways; ++i) {
      kc.topics.push_back({options_.reply_topic + ".gw-" + std::to_string(i), options_.partitions});
    }
  }
  kafka_ = std::make_unique<stack::Kafka>(paths_, options_.run_dir, kc);
  if (!kafka_->start(error)) return false;
  for (int k = 0; options_.simulator && k < options_.simulator_instances; ++k) {
    if (!add_simulator(error)) return false;
  }

  for (int i = 0; i < options_.gateways; ++i) {
    if (!launch_gateway(configure_gateway(), error)) return false;
  }
  for (std::size_t i = 0; i < gateways_.size(); ++i) {
    if (!wait_gateway_ready(i, std::chrono::duration_cast<std::chrono::milliseconds>(sut().ready.timeout), error)) {
      return false;
    }
  }
  roster_ = std::make_shared<GatewayRoster>(gateway_ports());
  return true;
}

void Topology::down() {
  // A component frozen by a timeline action (SIGSTOP) is resumed first: the others shut down
  // faster with the broker answering, and a frozen process must not outlive the run.
  if (kafka_) {
    for (int id = 1; id <= kafka_->node_count(); ++id) {
      if (kafka_->node(id).process.alive()) kafka_->node(id).process.resume();
    }
  }
  for (auto& sim : simulators_) {
    if (sim->process.alive()) sim->process.resume();
  }
  const auto grace = options_.sut ? std::chrono::duration_cast<std::chrono::milliseconds>(options_.sut->start.stop_grace)
                                  : std::chrono::milliseconds(10s);
  for (auto& g : gateways_) g->process.stop(grace);
  for (auto& g : gateways_) {
    if (g->daprd) g->daprd->stop();
  }
  for (auto& sim : simulators_) sim->process.stop(10s);
  if (kafka_) kafka_->stop();
}

std::vector<std::uint16_t> Topology::gateway_ports() const {
  std::vector<std::uint16_t> ports;
  for (const auto& g : gateways_) ports.push_back(g->port);
  return ports;
}

bool Topology::add_simulator(std::string& error) {
  auto sim = std::make_unique<SimulatorInstance>();
  sim->index = simulators_.size();
  sim->name = sim->index == 0 ? std::string("simulator") : "simulator-" + std::to_string(sim->index);
  simulators_.push_back(std::move(sim));
  return start_simulator(*simulators_.back(), error);
}

bool Topology::start_simulator(SimulatorInstance& sim, std::string& error) {
  const fs::path profile = options_.run_dir / run_files::kProfile;
  // The SUT's contract holds in every profile, the warm-up's fault-free one included: the gateway
  // can read no other replies.
  const auto text = profile_with_contract(options_.simulator_profile_yaml, sut().contract_yaml, error);
  if (!text) return false;
  std::ofstream(profile) << (text->empty() ? "{}\n" : *text);
  // (With a warm-up the runner starts fault-free and applies the scenario's profile afterwards.)
  if (sim.control_port == 0) sim.control_port = net::free_port();
  std::vector<std::string> argv = {(paths_.bin_dir / "rr-simulator").string(),
                                   "--brokers", kafka_->brokers(),
                                   "--request-topic", options_.request_topic,
                                   "--reply-topic", options_.reply_topic,
                                   "--group", "rr-simulator",
                                   "--profile", profile.string(),
                                   "--seed", std::to_string(options_.seed),
                                   "--decisions", decision_log(options_.run_dir, sim.index).string(),
                                   "--control-listen", "127.0.0.1:" + std::to_string(sim.control_port)};
  if (options_.reply_mode == "reply-to") argv.push_back("--honor-reply-to");
  // The harness's nonce joins a request whose client never saw the correlation id (it hung up).
  argv.insert(argv.end(), {"--log-field", "nonce"});
  // The nonce is the request's key ("rr-<seed>-<index>"): decisions keyed on it repeat run after run.
  // A SUT contract's request_key takes precedence over --key-field in the simulator, so it may stay.
  argv.insert(argv.end(), {"--key-field", "nonce"});
  argv.insert(argv.end(), options_.simulator_args.begin(), options_.simulator_args.end());
  const fs::path log = sim.index == 0 ? options_.run_dir / run_files::kSimulatorLog
                                      : options_.run_dir / (sim.name + ".log");
  sim.process = stack::Process(proc::SpawnSpec{sim.name, argv, {}, log, {}});
  if (!sim.process.start(error)) return false;
  // Ready once the consumer owns partitions of the request topic; before that a request would
  // still be consumed later (offsets start at the earliest), but its latency would include the group join.
  const bool ready = proc::wait_until(
      [&] {
        if (!sim.process.alive()) return true;
        const auto r = http::get(sim.control_port, "/healthz", 1s);
        if (!r.ok()) return false;
        const auto j = nlohmann::json::parse(r.body, nullptr, false);
        return j.is_object() && j.value("assigned_partitions", 0) > 0;
      },
      60s, 100ms);
  if (!ready || !sim.process.alive()) {
    error = "rr-simulator " + sim.name + " did not become ready (see " + sim.process.log_file().string() + ")";
    return false;
  }
  return true;
}

bool Topology::pause_kafka(std::string&) {
  for (int id = 1; id <= kafka_->node_count(); ++id) kafka_->node(id).process.pause();
  return true;
}

bool Topology::resume_kafka(std::string&) {
  for (int id = 1; id <= kafka_->node_count(); ++id) kafka_->node(id).process.resume();
  return true;
}

bool Topology::kill_broker(int id, std::string& error) {
  if (id >= 1 && id <= kafka_->node_count()) mark_expected_down(kafka_->node(id).process.name(), true);
  return kafka_->kill_node(id, error);
}

bool Topology::restart_broker(int id, std::string& error) {
  if (!kafka_->restart_node(id, error)) return false;
  mark_expected_down(kafka_->node(id).process.name(), false);
  return true;
}

bool Topology::restart_killed_brokers(std::string& error) {
  std::vector<int> ids;
  for (int id = 1; id <= kafka_->node_count(); ++id) {
    if (kafka_->node(id).killed) ids.push_back(id);
  }
  if (ids.empty()) {
    error = "no Kafka node was killed";
    return false;
  }
  for (const int id : ids) {
    if (!restart_broker(id, error)) return false;
    note_ += (note_.empty() ? "broker " : ", ") + std::to_string(id);
  }
  return true;
}

bool Topology::pause_broker(int id, std::string& error) { return kafka_->pause_node(id, error); }

bool Topology::resume_broker(int id, std::string& error) { return kafka_->resume_node(id, error); }

bool Topology::kill_leader(const std::string& topic, int partition, std::string& error) {
  const std::string& name = topic == "request" ? options_.request_topic : options_.reply_topic;
  const int leader = kafka::partition_leader(kafka_->brokers(), name, partition, 5s, error);
  if (leader < 0) return false;
  note_ = fmt::format("{}[{}] led by broker {}", name, partition, leader);
  return kill_broker(leader, error);
}

bool Topology::kill_controller(std::string& error) {
  const int id = kafka_->active_controller(error);
  if (id < 0) return false;
  note_ = fmt::format("active controller is broker {}", id);
  return kill_broker(id, error);
}

bool Topology::crash_simulator(std::size_t k, std::string& error) {
  if (k >= simulators_.size()) {
    error = "no simulator instance " + std::to_string(k);
    return false;
  }
  auto& sim = *simulators_[k];
  mark_expected_down(sim.name, true);
  sim.process.kill9();
  return true;
}

bool Topology::restart_simulator(std::size_t k, std::string& error) {
  if (k >= simulators_.size()) {
    error = "no simulator instance " + std::to_string(k);
    return false;
  }
  auto& sim = *simulators_[k];
  sim.process.stop(10s);
  if (!start_simulator(sim, error)) return false;
  mark_expected_down(sim.name, false);
  return true;
}

bool Topology::any_simulator_alive(std::string& error) const {
  for (const auto& sim : simulators_) {
    if (sim->process.alive()) return true;
  }
  error = "no simulator instance is running";
  return false;
}

// The legacy system is all its instances: a profile, a pause or a resume goes to every live one (a
// crashed instance gets the current profile when restarted).
bool Topology::set_profile(const std::string& yaml, std::string& error) {
  const auto merged = profile_with_contract(yaml, sut().contract_yaml, error);
  if (!merged) return false;
  if (!any_simulator_alive(error)) return false;
  for (const auto& sim : simulators_) {
    if (!sim->process.alive()) continue;
    http::Request req;
    req.method = "PUT";
    req.port = sim->control_port;
    req.target = "/profile";
    req.body = *merged;
    req.content_type = "application/yaml";
    req.timeout = 5s;
    const auto r = http::call(req);
    if (!r.ok()) {
      error = sim->name + " rejected the profile: " + (r.ec ? r.ec.message() : std::to_string(r.status) + " " + r.body);
      return false;
    }
  }
  options_.simulator_profile_yaml = yaml;  // a restarted or added simulator starts with the current profile
  return true;
}

bool Topology::pause_simulator(std::string& error) {
  if (!any_simulator_alive(error)) return false;
  for (const auto& sim : simulators_) {
    if (!sim->process.alive()) continue;
    const auto r = http::post_json(sim->control_port, "/pause", "{}", 5s);
    if (!r.ok()) {
      error = sim->name + " pause failed: " + (r.ec ? r.ec.message() : r.body);
      return false;
    }
  }
  return true;
}

bool Topology::resume_simulator(std::string& error) {
  if (!any_simulator_alive(error)) return false;
  for (const auto& sim : simulators_) {
    if (!sim->process.alive()) continue;
    const auto r = http::post_json(sim->control_port, "/resume", "{}", 5s);
    if (!r.ok()) {
      error = sim->name + " resume failed: " + (r.ec ? r.ec.message() : r.body);
      return false;
    }
  }
  return true;
}

void Topology::mark_expected_down(const std::string& name, bool is_down) {
  auto it = std::find(expected_down_.begin(), expected_down_.end(), name);
  if (is_down && it == expected_down_.end()) expected_down_.push_back(name);
  if (!is_down && it != expected_down_.end()) expected_down_.erase(it);
}

std::vector<std::string> Topology::unexpected_deaths() const {
  std::vector<std::string> dead;
  auto check = [&](const stack::Process& p) {
    if (p.pid() > 0 && !p.alive() &&
        std::find(expected_down_.begin(), expected_down_.end(), p.name()) == expected_down_.end()) {
      dead.push_back(p.name() + " (exit " + std::to_string(p.exit_status()) + ")");
    }
  };
  if (kafka_) {
    for (int id = 1; id <= kafka_->node_count(); ++id) check(kafka_->node(id).process);
  }
  for (const auto& sim : simulators_) check(sim->process);
  for (const auto& g : gateways_) {
    check(g->process);
    check(g->daprd->process());
  }
  return dead;
}

}  // namespace rrkit::harness
