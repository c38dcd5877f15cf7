// The gateway instances of a Topology: starting them through the SUT file, the actions on one
// instance, and instances joining (add_gateway) and leaving (stop_gateway) while traffic runs.
#include <fstream>

#include <fmt/format.h>

#include "common/json_limits.h"
#include "harness/run_files.h"
#include "harness/sut_launch.h"
#include "harness/topology.h"
#include "testkit/http_client.h"
#include "testkit/net.h"

namespace rrkit::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::optional<std::int64_t> shutdown_answers(const fs::path& log) {
  std::ifstream in(log);
  std::optional<std::int64_t> found;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find("answered_on_shutdown") == std::string::npos) continue;
    const auto j = parse_bounded(line);
    if (!j.ok() || !j.value.is_object()) continue;
    const auto it = j.value.find("answered_on_shutdown");
    if (it != j.value.end() && it->is_number_integer()) found = it->get<std::int64_t>();
  }
  return found;  // the last one: a restarted instance logs one per shutdown
}

GatewayInstance& Topology::configure_gateway() {
  auto owned = std::make_unique<GatewayInstance>();
  auto& g = *owned;
  g.instance = static_cast<int>(gateways_.size()) + 1;
  g.id = "gw-" + std::to_string(g.instance);
  g.port = net::free_port();
  stack::DaprdConfig dc;
  dc.http_port = net::free_port();
  dc.grpc_port = net::free_port();
  SutInstanceVars v;
  v.instance = g.instance;
  v.port = g.port;
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
  g.spec = expand_instance(sut(), v, options_.gateway_args);
  g.callback_port = g.spec.app_port;
  // A SUT whose app id has no {{instance}} gives every instance the same id, hence one consumer
  // group: that is the SUT's own (mis)configuration and is reproduced as written.
  dc.app_id = g.spec.app_id;
  dc.app_port = g.callback_port;
  dc.brokers = kafka_->brokers();
  // Default: a consumer group per instance, so every instance sees every reply and keeps its own.
  dc.consumer_group = options_.shared_consumer_group ? "rr-gateways-shared" : "{appID}";
  dc.app_api_token = options_.app_api_token;
  g.daprd = std::make_unique<stack::Daprd>(paths_, options_.run_dir, dc);
  gateways_.push_back(std::move(owned));
  return g;
}

bool Topology::launch_gateway(GatewayInstance& g, std::string& error) {
  if (!start_gateway(g, error)) return false;
  // daprd blocks its start-up until the app port answers, so the gateway goes first.
  return g.daprd->start(error);
}

bool Topology::gateway_in_service(std::size_t i, std::string& error) const {
  if (i >= gateways_.size()) {
    error = "no gateway " + std::to_string(i);
    return false;
  }
  if (gateways_[i]->stopped) {
    error = fmt::format("gateway {} was stopped by stop_gateway", i);
    return false;
  }
  return true;
}

bool Topology::add_gateway(std::string& error) {
  if (!roster_) {
    error = "the stack is not up";
    return false;
  }
  if (options_.reply_mode == "reply-to") {
    // Its reply topic would have to exist before its daprd subscribes: topics are made with the stack.
    error = "add_gateway needs reply_mode broadcast";
    return false;
  }
  auto& g = configure_gateway();
  const std::size_t i = gateways_.size() - 1;
  g.joined = true;
  if (!launch_gateway(g, error) ||
      !wait_gateway_ready(i, std::chrono::duration_cast<std::chrono::milliseconds>(sut().ready.timeout), error)) {
    // It never served: nothing was sent to it, and its death is this action's failure, not a crash.
    mark_expected_down(g.process.name(), true);
    mark_expected_down(g.daprd->process().name(), true);
    g.stopped = true;
    g.process.stop(std::chrono::duration_cast<std::chrono::milliseconds>(sut().start.stop_grace));
    g.daprd->stop();
    return false;
  }
  // Only now (ready, its daprd subscribed) may the traffic send to it.
  const std::size_t slot = roster_->add(g.port);
  if (slot != i) {
    error = fmt::format("gateway {} got traffic slot {}", i, slot);
    return false;
  }
  note_ = fmt::format("gateway {} ({}, app id {}) on port {}", i, g.id, g.spec.app_id, g.port);
  return true;
}

bool Topology::stop_gateway(std::size_t i, std::string& error) {
  if (!gateway_in_service(i, error)) return false;
  if (!roster_) {
    error = "the stack is not up";
    return false;
  }
  auto& g = *gateways_[i];
  roster_->retire(i);
  // A request that picked this instance just before is let finish writing, so the shutdown finds it
  // received and answers it instead of the client finding the port closed mid-request.
  const bool written = proc::wait_until([&] { return roster_->unsent(i) == 0; }, 10s, 5ms);
  // What it counted up to its SIGTERM: the runner reads this instead of a closed port.
  GatewayRoster::Reading last;
  if (sut().metrics) {
    const auto r = http::get(g.port, sut().metrics->path, 3s);
    if (r.ok()) {
      last.text = r.body;
    } else {
      last.error = r.ec ? "unreachable: " + r.ec.message() : fmt::format("answered HTTP {}", r.status);
    }
  } else {
    last.error = "not scraped: the SUT names no metrics";
  }
  roster_->keep_last_reading(i, std::move(last));
  g.stopped = true;
  mark_expected_down(g.process.name(), true);
  mark_expected_down(g.daprd->process().name(), true);
  const bool exited = g.process.stop(std::chrono::duration_cast<std::chrono::milliseconds>(sut().start.stop_grace));
  g.daprd->stop();
  const auto answered = shutdown_answers(g.process.log_file());
  note_ = fmt::format("{} exited with status {}{}{}", g.id, g.process.exit_status(),
                      answered ? fmt::format(", answered {} waiting client(s) on shutdown", *answered) : "",
                      written ? "" : "; requests were still being written to it after 10 s");
  if (!exited) {
    error = fmt::format("{} did not exit within its stop grace", g.id);
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
  if (!gateway_in_service(i, error)) return false;
  auto& d = *gateways_[i]->daprd;
  mark_expected_down(d.process().name(), true);
  d.process().kill9();
  return true;
}

bool Topology::restart_daprd(std::size_t i, std::string& error) {
  if (!gateway_in_service(i, error)) return false;
  auto& d = *gateways_[i]->daprd;
  if (!d.restart(error)) return false;
  mark_expected_down(d.process().name(), false);
  return true;
}

bool Topology::restart_gateway(std::size_t i, std::string& error) {
  if (!gateway_in_service(i, error)) return false;
  auto& g = *gateways_[i];
  g.process.stop(std::chrono::duration_cast<std::chrono::milliseconds>(sut().start.stop_grace));
  if (!start_gateway(g, error)) return false;
  return wait_gateway_ready(i, std::chrono::duration_cast<std::chrono::milliseconds>(sut().ready.timeout), error);
}

}  // namespace rrkit::harness
