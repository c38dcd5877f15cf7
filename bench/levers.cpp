#include "bench/levers.h"

#include <fmt/format.h>

#include "bench/sections.h"
#include "testkit/net.h"

namespace rrkit::bench {

namespace {

// One rr-gateway with its own daprd (consumer group = its app id), started in the order that loses
// nothing: gateway listening, then daprd, then /readyz (a probe went round the reply topic).
struct Pair {
  std::uint16_t port = 0;
  stack::Process gateway;
  std::unique_ptr<stack::Daprd> daprd;

  bool start(const Config& c, const stack::Paths& paths, const std::string& brokers, const Lever& lever,
             std::string& error) {
    port = net::free_port();
    const std::uint16_t callback = net::free_port();
    stack::DaprdConfig dc;
    dc.app_id = "bench-lever-" + lever.name;
    dc.app_port = callback;
    dc.http_port = net::free_port();
    dc.brokers = brokers;
    dc.log_level = c.log_level;
    std::vector<std::string> argv = {(paths.bin_dir / "rr-gateway").string(),
                                     "--listen", fmt::format("127.0.0.1:{}", port),
                                     "--callback-listen", fmt::format("127.0.0.1:{}", callback),
                                     "--dapr-http-port", std::to_string(dc.http_port),
                                     "--timeout", "5s", "--max-pending", "25000", "--max-timeout", "300s",
                                     "--log-level", c.log_level};
    argv.insert(argv.end(), lever.gateway_args.begin(), lever.gateway_args.end());
    gateway = stack::Process(proc::SpawnSpec{"gateway-" + lever.name, argv, {},
                                             c.run_dir / ("gateway-" + lever.name + ".log"), {}});
    if (!gateway.start(error)) return false;
    if (!stack::wait_http_status(port, "/healthz", 200, 30s, &gateway)) {
      error = "rr-gateway (" + lever.name + ") did not answer /healthz; see " + gateway.log_file().string();
      return false;
    }
    daprd = std::make_unique<stack::Daprd>(paths, c.run_dir, dc);
    if (!daprd->start(error)) return false;
    if (!stack::wait_http_status(port, "/readyz", 200, 90s, &gateway)) {
      error = "rr-gateway (" + lever.name + ") never became ready; see " + gateway.log_file().string();
      return false;
    }
    return true;
  }

  void stop() {
    gateway.stop(10s);
    if (daprd) daprd->stop();
  }
};

}  // namespace

std::vector<Lever> levers(const Config& c) {
  const std::vector<std::string> subscribe = {"--reply-bulk-subscribe", "--reply-bulk-max-messages",
                                              std::to_string(c.bulk_max_messages), "--reply-bulk-max-await",
                                              fmt::format("{}ms", c.bulk_max_await_ms)};
  const std::vector<std::string> publish = {"--publish-bulk-max", std::to_string(c.publish_bulk_max)};
  std::vector<std::string> both = publish;
  both.insert(both.end(), subscribe.begin(), subscribe.end());
  // "off" names every lever's off position, so it stays the single-message path whatever the defaults are.
  return {{"off", {"--publish-bulk-max", "0"}},
          {"bulk-publish", publish},
          {"bulk-subscribe", subscribe},
          {"both", both}};
}

json lever_runs(const Config& c, const stack::Paths& paths, const std::string& brokers, pid_t kafka, pid_t simulator,
                int& status) {
  json variants = json::array();
  for (const Lever& lever : levers(c)) {
    std::string args;
    for (const auto& a : lever.gateway_args) args += (args.empty() ? "" : " ") + a;
    say(fmt::format("== lever {}: rr-gateway {}", lever.name, args.empty() ? "(defaults)" : args));
    Pair pair;
    std::string error;
    json v = {{"name", lever.name}, {"gateway_args", lever.gateway_args}};
    if (!pair.start(c, paths, brokers, lever, error) || !warm_up(pair.port, 50, 60s)) {
      say("  failed: " + (error.empty() ? std::string("no 200 during warm-up") : error));
      v["error"] = error.empty() ? "no 200 during warm-up" : error;
      status = 2;
      pair.stop();
      variants.push_back(std::move(v));
      continue;
    }
    std::uint64_t failed = 0;
    const auto lat = sequential_latency(pair.port, c.latency_requests, failed);
    v["latency"] = lat.to_json();
    v["latency"]["failed"] = failed;
    say(fmt::format("  {} latency: p50 {:.2f} ms p99 {:.2f} ms ({} failed)", lever.name, lat.p50, lat.p99, failed));
    v["max_rate"] = rate_sweep(c, pair.port,
                               {{"gateway", pair.gateway.pid()},
                                {"daprd", pair.daprd->process().pid()},
                                {"kafka", kafka},
                                {"simulator", simulator}},
                               "rr-gateway " + lever.name);
    pair.stop();
    variants.push_back(std::move(v));
  }
  json out = {{"variants", variants}};
  // Each lever against "off", the first variant.
  if (!variants.empty() && variants[0].contains("max_rate")) {
    const json& off = variants[0];
    json vs = json::object();
    for (std::size_t i = 1; i < variants.size(); ++i) {
      const json& v = variants[i];
      if (!v.contains("max_rate")) continue;
      vs[v["name"].get<std::string>()] = {
          {"max_rate", ratio(v["max_rate"]["max_sustained_rps"].get<double>(),
                             off["max_rate"]["max_sustained_rps"].get<double>())},
          {"p50_low_load", ratio(v["latency"]["p50_ms"].get<double>(), off["latency"]["p50_ms"].get<double>())},
          {"p99_low_load", ratio(v["latency"]["p99_ms"].get<double>(), off["latency"]["p99_ms"].get<double>())}};
    }
    out["over_off"] = vs;
    say("  levers ÷ off: " + vs.dump());
  }
  return out;
}

}  // namespace rrkit::bench
