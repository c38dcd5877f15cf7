#include "harness/topology.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include <fmt/format.h>

#include <nlohmann/json.hpp>

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
  for (int i = 0; i < options_.gateways; ++i) {
    auto g = std::make_unique<GatewayInstance>();
    g->instance = i + 1;
    g->id = "gw-" + std::to_string(i + 1);
    if (options_.reply_mode == "reply-to") kc.topics.push_back({options_.reply_topic + "." + g->id, options_.partitions});
    gateways_.push_back(std::move(g));
  }
  kafka_ = std::make_unique<stack::Kafka>(paths_, options_.run_dir, kc);
  if (!kafka_->start(error)) return false;
  if (options_.simulator && !start_simulator(error)) return false;

  for (auto& g : gateways_) {
    g->port = net::free_port();
    stack::DaprdConfig dc;
    dc.http_port = net::free_port();
    dc.grpc_port = net::free_port();
    SutInstanceVars v;
    v.instance = g->instance;
    v.port = g->port;
    v.app_port = net::free_port();
    v.dapr_http_port = dc.http_port;
    v.dapr_grpc_port = dc.grpc_port;
    v.timeout = options_.gateway_timeout;
    v.timeout_ms = options_.gateway_timeout_ms;
    v.pubsub = dc.pubsub_name;
    v.request_topic = options_.request_topic;
    v.reply_topic = options_.reply_topic;
    v.reply_mode = options_.reply_mode;
    v.sut_dir = sut().dir;
    v.bin_dir = paths_.bin_dir;
    v.run_dir = options_.run_dir;
    v.app_api_token = options_.app_api_token;
    g->spec = expand_instance(sut(), v, options_.gateway_args);
    g->callback_port = g->spec.app_port;
    // A SUT whose app id has no {{instance}} gives every instance the same id, hence one consumer
    // group: that is the SUT's own (mis)configuration and is reproduced as written.
    dc.app_id = g->spec.app_id;
    dc.app_port = g->callback_port;
    dc.brokers = kafka_->brokers();
    // Default: a consumer group per instance, so every instance sees every reply and keeps its own.
    dc.consumer_group = options_.shared_consumer_group ? "rr-gateways-shared" : "{appID}";
    dc.app_api_token = options_.app_api_token;
    g->daprd = std::make_unique<stack::Daprd>(paths_, options_.run_dir, dc);
    if (!start_gateway(*g, error)) return false;
    // daprd blocks its start-up until the app port answers, so the gateway goes first.
    if (!g->daprd->start(error)) return false;
  }
  for (std::size_t i = 0; i < gateways_.size(); ++i) {
    if (!wait_gateway_ready(i, std::chrono::duration_cast<std::chrono::milliseconds>(sut().ready.timeout), error)) {
      return false;
    }
  }
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
  if (simulator_.alive()) simulator_.resume();
  const auto grace = options_.sut ? std::chrono::duration_cast<std::chrono::milliseconds>(options_.sut->start.stop_grace)
                                  : std::chrono::milliseconds(10s);
  for (auto& g : gateways_) g->process.stop(grace);
  for (auto& g : gateways_) {
    if (g->daprd) g->daprd->stop();
  }
  simulator_.stop(10s);
  if (kafka_) kafka_->stop();
}

std::vector<std::uint16_t> Topology::gateway_ports() const {
  std::vector<std::uint16_t> ports;
  for (const auto& g : gateways_) ports.push_back(g->port);
  return ports;
}

bool Topology::start_simulator(std::string& error) {
  const fs::path profile = options_.run_dir / run_files::kProfile;
  // The SUT's contract holds in every profile, the warm-up's fault-free one included: the gateway
  // can read no other replies.
  const auto text = profile_with_contract(options_.simulator_profile_yaml, sut().contract_yaml, error);
  if (!text) return false;
  std::ofstream(profile) << (text->empty() ? "{}\n" : *text);
  // (With a warm-up the runner starts fault-free and applies the scenario's profile afterwards.)
  if (sim_control_port_ == 0) sim_control_port_ = net::free_port();
  std::vector<std::string> argv = {(paths_.bin_dir / "rr-simulator").string(),
                                   "--brokers", kafka_->brokers(),
                                   "--request-topic", options_.request_topic,
                                   "--reply-topic", options_.reply_topic,
                                   "--group", "rr-simulator",
                                   "--profile", profile.string(),
                                   "--seed", std::to_string(options_.seed),
                                   "--decisions", decisions_file().string(),
                                   "--control-listen", "127.0.0.1:" + std::to_string(sim_control_port_)};
  if (options_.reply_mode == "reply-to") argv.push_back("--honor-reply-to");
  // The harness's nonce joins a request whose client never saw the correlation id (it hung up).
  argv.insert(argv.end(), {"--log-field", "nonce"});
  // The nonce is the request's key ("rr-<seed>-<index>"): decisions keyed on it repeat run after run.
  // A SUT contract's request_key takes precedence over --key-field in the simulator, so it may stay.
  argv.insert(argv.end(), {"--key-field", "nonce"});
  argv.insert(argv.end(), options_.simulator_args.begin(), options_.simulator_args.end());
  simulator_ = stack::Process(proc::SpawnSpec{"simulator", argv, {}, options_.run_dir / run_files::kSimulatorLog, {}});
  if (!simulator_.start(error)) return false;
  // Ready once the consumer owns partitions of the request topic; before that a request would
  // still be consumed later (offsets start at the earliest), but its latency would include the group join.
  const bool ready = proc::wait_until(
      [&] {
        if (!simulator_.alive()) return true;
        const auto r = http::get(sim_control_port_, "/healthz", 1s);
        if (!r.ok()) return false;
        const auto j = nlohmann::json::parse(r.body, nullptr, false);
        return j.is_object() && j.value("assigned_partitions", 0) > 0;
      },
      60s, 100ms);
  if (!ready || !simulator_.alive()) {
    error = "rr-simulator did not become ready (see " + simulator_.log_file().string() + ")";
    return false;
  }
  return true;
}

std::string Topology::startup_failure(const GatewayInstance& g, const std::string& what) const {
  std::string out = fmt::format("{} {} ({}) {}", sut().name, g.id, g.spec.app_id, what);
  if (g.process.pid() > 0 && !g.process.alive()) out += fmt::format(" (exited with status {})", g.process.exit_status());
  out += "; log " + g.process.log_file().string();
  const std::string tail = log_tail(g.process.log_file());
  if (!tail.empty()) out += ", last lines:\n" + tail;
  return out;
}

bool Topology::start_gateway(GatewayInstance& g, std::string& error) {
  EnvList env = g.spec.env;
  proc::SpawnSpec spec{g.id, g.spec.argv, env, options_.run_dir / (g.id + ".log"), g.spec.cwd};
  g.process = stack::Process(std::move(spec));
  if (!g.process.start(error)) {
    error = startup_failure(g, "could not be started: " + error);
    return false;
  }
  // daprd blocks its start-up until the app port accepts connections, so the gateway goes first and
  // daprd follows once that port is open.
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(sut().ready.timeout);
  const bool open = proc::wait_until([&] { return !g.process.alive() || net::port_open(g.callback_port); }, timeout,
                                     100ms);
  if (!g.process.alive()) {
    error = startup_failure(g, "exited before opening its app port " + std::to_string(g.callback_port));
    return false;
  }
  if (!open) {
    error = startup_failure(g, fmt::format("did not open its app port {} within {} ms", g.callback_port,
                                           timeout.count()));
    return false;
  }
  return true;
}

bool Topology::wait_gateway_ready(std::size_t i, std::chrono::milliseconds timeout, std::string& error) {
  auto& g = *gateways_.at(i);
  const auto& ready = sut().ready;
  std::string missing;
  const bool ok = proc::wait_until(
      [&] {
        if (!g.process.alive()) return true;
        if (ready.http) {
          const auto r = http::get(g.port, ready.http->path, 1s);
          if (r.ec || r.status != ready.http->status) {
            missing = fmt::format("GET {} did not answer {} ({})", ready.http->path, ready.http->status,
                                  r.ec ? r.ec.message() : "got " + std::to_string(r.status));
            return false;
          }
        }
        if (ready.subscription) {
          const auto m = http::get(g.daprd->http_port(), "/v1.0/metadata", 1s);
          if (!m.ok() || !metadata_has_subscription(m.body, options_.reply_topic)) {
            missing = "daprd lists no subscription to " + options_.reply_topic;
            return false;
          }
        }
        return true;
      },
      timeout, 100ms);
  if (!g.process.alive()) {
    error = startup_failure(g, "exited before it was ready");
    return false;
  }
  if (!ok) {
    error = startup_failure(g, fmt::format("was not ready within {} ms: {} (daprd log {})", timeout.count(), missing,
                                           g.daprd->process().log_file().string()));
    return false;
  }
  return true;
}

bool Topology::kill_daprd(std::size_t i, std::string& error) {
  if (i >= gateways_.size()) {
    error = "no gateway " + std::to_string(i);
    return false;
  }
  auto& d = *gateways_[i]->daprd;
  mark_expected_down(d.process().name(), true);
  d.process().kill9();
  return true;
}

bool Topology::restart_daprd(std::size_t i, std::string& error) {
  if (i >= gateways_.size()) {
    error = "no gateway " + std::to_string(i);
    return false;
  }
  auto& d = *gateways_[i]->daprd;
  if (!d.restart(error)) return false;
  mark_expected_down(d.process().name(), false);
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

bool Topology::crash_simulator(std::string&) {
  mark_expected_down("simulator", true);
  simulator_.kill9();
  return true;
}

bool Topology::restart_simulator(std::string& error) {
  simulator_.stop(10s);
  if (!start_simulator(error)) return false;
  mark_expected_down("simulator", false);
  return true;
}

bool Topology::restart_gateway(std::size_t i, std::string& error) {
  if (i >= gateways_.size()) {
    error = "no gateway " + std::to_string(i);
    return false;
  }
  auto& g = *gateways_[i];
  g.process.stop(std::chrono::duration_cast<std::chrono::milliseconds>(sut().start.stop_grace));
  if (!start_gateway(g, error)) return false;
  return wait_gateway_ready(i, std::chrono::duration_cast<std::chrono::milliseconds>(sut().ready.timeout), error);
}

bool Topology::set_profile(const std::string& yaml, std::string& error) {
  http::Request req;
  req.method = "PUT";
  req.port = sim_control_port_;
  req.target = "/profile";
  const auto merged = profile_with_contract(yaml, sut().contract_yaml, error);
  if (!merged) return false;
  req.body = *merged;
  req.content_type = "application/yaml";
  req.timeout = 5s;
  const auto r = http::call(req);
  if (r.ok()) options_.simulator_profile_yaml = yaml;  // a restarted simulator keeps the current profile
  if (!r.ok()) {
    error = "simulator rejected the profile: " + (r.ec ? r.ec.message() : std::to_string(r.status) + " " + r.body);
    return false;
  }
  return true;
}

bool Topology::pause_simulator(std::string& error) {
  const auto r = http::post_json(sim_control_port_, "/pause", "{}", 5s);
  if (!r.ok()) error = "simulator pause failed: " + (r.ec ? r.ec.message() : r.body);
  return r.ok();
}

bool Topology::resume_simulator(std::string& error) {
  const auto r = http::post_json(sim_control_port_, "/resume", "{}", 5s);
  if (!r.ok()) error = "simulator resume failed: " + (r.ec ? r.ec.message() : r.body);
  return r.ok();
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
  if (options_.simulator) check(simulator_);
  for (const auto& g : gateways_) {
    check(g->process);
    check(g->daprd->process());
  }
  return dead;
}

}  // namespace rrkit::harness
