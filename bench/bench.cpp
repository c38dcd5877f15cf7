#include "bench/bench.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <sstream>
#include <thread>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>

#include "bench/floor_grpc.h"
#include "bench/floors.h"
#include "bench/levers.h"
#include "bench/sections.h"
#include "bench/measure.h"
#include "common/gateway_metrics.h"
#include "testkit/http_client.h"
#include "testkit/net.h"
#include "harness/topology.h"
#include "harness/traffic.h"
#include "rrkit/versions.h"
#include "testkit/tiny_http_server.h"

namespace rrkit::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using harness::TrafficPlan;
using harness::TrafficProgress;
using json = nlohmann::json;

void add_options(CLI::App& app, Config& c) {
  auto env = [](const char* name) { return std::string("RR_BENCH_") + name; };
  if (c.peer_dir.empty()) c.peer_dir = RRKIT_BENCH_PEER_DIR;
  app.add_option("--sections", c.sections, "Comma list of capacity,latency,rate,timeout,memory,levers,peer or all")
      ->envname(env("SECTIONS"))->capture_default_str();
  app.add_option("--latency-requests", c.latency_requests, "Sequential requests per path and round (latency)")
      ->envname(env("LATENCY_REQUESTS"))->capture_default_str();
  app.add_option("--latency-rounds", c.latency_rounds,
                 "Rounds of the latency section: each path in turn, then again; percentiles of the pooled samples")
      ->envname(env("LATENCY_ROUNDS"))->check(CLI::Range(1, 100))->capture_default_str();
  app.add_option("--rates", c.rates, "Open-loop rate steps, req/s")->delimiter(',')->envname(env("RATES"))->capture_default_str();
  app.add_option("--step-seconds", c.step_seconds, "Length of each rate step")
      ->envname(env("STEP_SECONDS"))->capture_default_str();
  app.add_option("--p99-limit-ms", c.p99_limit_ms, "A rate is sustained when p99 is below this")
      ->envname(env("P99_LIMIT_MS"))->capture_default_str();
  app.add_option("--waiting", c.waiting, "Waiting-request counts for the memory figures")->delimiter(',')
      ->envname(env("WAITING"))->capture_default_str();
  app.add_option("--timeout-rate", c.timeout_rate, "Requests per second that time out (timeout precision)")
      ->envname(env("TIMEOUT_RATE"))->capture_default_str();
  app.add_option("--timeout-rate-low", c.timeout_rate_low,
                 "A second timeout-precision run at a rate the stack sustains (0: none)")
      ->envname(env("TIMEOUT_RATE_LOW"))->capture_default_str();
  app.add_option("--timeout-seconds", c.timeout_seconds, "Length of the timeout-precision run")
      ->envname(env("TIMEOUT_SECONDS"))->capture_default_str();
  app.add_option("--timeout-ms", c.timeout_ms, "X-Request-Timeout-Ms of the timeout-precision run")
      ->envname(env("TIMEOUT_MS"))->capture_default_str();
  app.add_option("--capacity-seconds", c.capacity_seconds, "Length of the harness-capacity run")
      ->envname(env("CAPACITY_SECONDS"))->capture_default_str();
  app.add_option("--capacity-concurrency", c.capacity_concurrency, "Closed-loop workers of the harness-capacity run")
      ->envname(env("CAPACITY_CONCURRENCY"))->capture_default_str();
  app.add_option("--publish-bulk-max", c.publish_bulk_max, "levers: requests per bulk publish of the bulk-publish variant")
      ->envname(env("PUBLISH_BULK_MAX"))->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--bulk-max-messages", c.bulk_max_messages, "levers: replies per batch of the bulk-subscribe variant")
      ->envname(env("BULK_MAX_MESSAGES"))->capture_default_str()->check(CLI::Range(1, 10000));
  app.add_option("--bulk-max-await-ms", c.bulk_max_await_ms, "levers: longest wait for a batch of the bulk-subscribe variant")
      ->envname(env("BULK_MAX_AWAIT_MS"))->capture_default_str()->check(CLI::Range(1, 600000));
  app.add_option("--peer-dir", c.peer_dir, "Folder of the Node.js peer (server.js, node_modules)")
      ->envname(env("PEER_DIR"))->capture_default_str();
  app.add_option("--node", c.node, "Node.js executable")->envname(env("NODE"))->capture_default_str();
  app.add_option("--run-dir", c.run_dir, "Folder for component logs (default /tmp/rr-bench-<time>)")
      ->envname(env("RUN_DIR"));
  app.add_option("--json", c.json_out, "Write the results JSON here")->envname(env("JSON"));
  app.add_option("--markdown", c.markdown_out, "Write the results as markdown (RESULTS.md) here")
      ->envname(env("MARKDOWN"));
  app.add_option("--log-level", c.log_level, "Log level of rr-gateway, rr-simulator and daprd")
      ->envname(env("LOG_LEVEL"))->capture_default_str();
}

namespace {

const char* kDropAll = "description: every request dropped (bench)\nrules:\n  - {name: hold, fraction: 1.0, drop: true}\n";
const char* kNoFaults = "description: immediate ok replies\n";

// The two floors are reported identically so (a) and (b) read side by side; false when the floor failed.
bool report_floor(bool ok, const FloorResult& r, const std::string& error, const char* label, json& lat,
                  const char* key) {
  if (!ok) {
    say(fmt::format("  {} failed: {}", label, error));
    return false;
  }
  json& out = lat[key];
  out = r.latency.to_json();
  out["lost"] = r.lost;
  out["how"] = r.notes;
  say(fmt::format("  {}: p50 {:.2f} ms p99 {:.2f} ms p999 {:.2f} ms", label, r.latency.p50, r.latency.p99,
                  r.latency.p999));
  return true;
}

}  // namespace

int run(const Config& c_in) {
  Config c = c_in;
  if (!c.peer_dir.empty()) c.peer_dir = fs::absolute(c.peer_dir).string();
  if (c.run_dir.empty()) c.run_dir = fs::path("/tmp") / ("rr-bench-" + stack::timestamp());
  fs::create_directories(c.run_dir);
  const auto started = std::chrono::steady_clock::now();
  json results = {{"date", utc_now_iso()},
                  {"machine", machine_description()},
                  {"versions",
                   {{"kafka", versions::kKafka}, {"daprd", versions::kDaprd}, {"rrkit", versions::kRrkit},
                    {"librdkafka", rd_kafka_version_str()}}},
                  {"run_dir", c.run_dir.string()},
                  {"load_average_start", load_average()}};
  say("rr-bench: logs in " + c.run_dir.string());

  // Section 5 first: it needs no stack, and the machine is quietest before Kafka starts.
  if (selected(c, "capacity")) {
    say("== harness capacity: run_traffic (closed loop) against a trivial local endpoint, pinned to core 0");
    // Run twice and keep the better figure: the other core is shared with other work.
    json runs = json::array();
    json best;
    for (int attempt = 1; attempt <= 2; ++attempt) {
      auto one = capacity_run(c);
      say(fmt::format("  {:.0f} req/s ({} ok, {} workers), client thread busy {:.0f}% of its core",
                      one["requests_per_second"].get<double>(), one["ok"].get<std::uint64_t>(),
                      c.capacity_concurrency, 100 * one["client_core_busy"].get<double>()));
      if (best.is_null() || one["requests_per_second"].get<double>() > best["requests_per_second"].get<double>()) {
        best = one;
      }
      runs.push_back(std::move(one));
    }
    best["runs"] = runs;
    results["harness_capacity"] = best;
  }

  const bool need_stack = selected(c, "latency") || selected(c, "rate") || selected(c, "timeout") ||
                          selected(c, "memory") || selected(c, "levers") || selected(c, "peer");
  if (!need_stack) {
    results["duration_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    results["load_average_end"] = load_average();
    write_file(c.json_out, results.dump(2) + "\n");
    write_markdown(c.markdown_out, results);
    return 0;
  }

  stack::Paths paths;
  try {
    paths = stack::Paths::discover();
  } catch (const std::exception& e) {
    std::cerr << "rr-bench: " << e.what() << "\n";
    return 2;
  }
  harness::TopologyOptions topts;
  topts.run_dir = c.run_dir;
  topts.gateway_timeout = "5s";
  topts.simulator_profile_yaml = kNoFaults;
  topts.gateway_args = {"--max-pending", "25000", "--max-timeout", "300s", "--log-level", c.log_level};
  topts.simulator_args = {"--log-level", c.log_level};
  harness::Topology topo(paths, topts);
  say("== starting Kafka, rr-simulator, rr-gateway + daprd");
  std::string error;
  if (!topo.up(error)) {
    std::cerr << "rr-bench: " << error << "\n";
    return 2;
  }
  const std::string brokers = topo.kafka().brokers();
  auto& gw = topo.gateway(0);
  auto watched = [&] {
    return std::vector<Watched>{{"gateway", gw.process.pid()},
                                {"daprd", gw.daprd->process().pid()},
                                {"kafka", topo.kafka().process().pid()},
                                {"simulator", topo.simulator().pid()}};
  };
  if (!warm_up(gw.port, 50, 60s)) {
    std::cerr << "rr-bench: rr-gateway never answered 200 during warm-up\n";
    return 2;
  }
  int status = 0;

  if (selected(c, "latency")) {
    say(fmt::format("== round-trip latency at low load, {} rounds of {} sequential requests per path", c.latency_rounds,
                    c.latency_requests));
    json lat = json::object();
    // Each round measures every path once, in turn, so that what the machine does meanwhile (Kafka's
    // flushes, a JVM collection, daprd's own work) falls on every path alike; the percentiles below are
    // of the samples of all rounds pooled, and each round's own c / best (b) shows the spread.
    FloorResult a, b, bg;
    bool a_ok = true, b_ok = true, bg_ok = grpc_floor_built();
    std::string a_error, b_error, bg_error;
    std::vector<double> c_ms;
    std::uint64_t failed = 0;
    json rounds = json::array();
    const auto pool = [](FloorResult& into, FloorResult& round) {
      into.samples_ms.insert(into.samples_ms.end(), round.samples_ms.begin(), round.samples_ms.end());
      into.lost += round.lost;
      into.notes = round.notes;
    };
    // c over the better of the two (b) floors, per percentile.
    const auto over_best = [](const Percentiles& cp, const Percentiles* fb, const Percentiles* fg) {
      json out = json::object();
      for (const auto& [name, cv, vb, vg] :
           {std::tuple{"p50", cp.p50, fb ? fb->p50 : 0.0, fg ? fg->p50 : 0.0},
            std::tuple{"p99", cp.p99, fb ? fb->p99 : 0.0, fg ? fg->p99 : 0.0},
            std::tuple{"p999", cp.p999, fb ? fb->p999 : 0.0, fg ? fg->p999 : 0.0}}) {
        const double best = fg && (!fb || vg < vb) ? vg : vb;
        out[name] = ratio(cv, best);
      }
      return out;
    };
    for (int round = 1; round <= c.latency_rounds; ++round) {
      json this_round = {{"round", round}};
      FloorResult ra, rb, rbg;
      if (a_ok && (a_ok = kafka_pingpong(brokers, c.latency_requests, ra, a_error))) {
        pool(a, ra);
        this_round["a"] = ra.latency.to_json();
      }
      if (b_ok && (b_ok = dapr_pingpong(paths, c.run_dir, brokers, c.latency_requests, rb, b_error))) {
        pool(b, rb);
        this_round["b"] = rb.latency.to_json();
      }
      if (bg_ok && (bg_ok = dapr_pingpong(paths, c.run_dir, brokers, c.latency_requests, rbg, bg_error,
                                          DaprTransport::grpc))) {
        pool(bg, rbg);
        this_round["b_grpc"] = rbg.latency.to_json();
      }
      std::uint64_t round_failed = 0;
      auto rc = sequential_samples(gw.port, c.latency_requests, round_failed);
      failed += round_failed;
      const Percentiles pc = percentiles(rc);
      c_ms.insert(c_ms.end(), rc.begin(), rc.end());
      this_round["c"] = pc.to_json();
      this_round["c_over_best_b"] = over_best(pc, b_ok ? &rb.latency : nullptr, bg_ok ? &rbg.latency : nullptr);
      const auto& q = this_round["c_over_best_b"];
      say(fmt::format("  round {}: c p50 {:.2f} p99 {:.2f} ms; c / best (b): p50 {:.2f} p99 {:.2f} p999 {:.2f}", round,
                      pc.p50, pc.p99, q["p50"].get<double>(), q["p99"].get<double>(), q["p999"].get<double>()));
      rounds.push_back(std::move(this_round));
    }
    for (FloorResult* f : {&a, &b, &bg}) f->latency = percentiles(f->samples_ms);
    if (!report_floor(a_ok, a, a_error, "(a) raw librdkafka", lat, "a_raw_kafka")) status = 2;
    if (!report_floor(b_ok, b, b_error, "(b) through daprd", lat, "b_dapr_floor")) status = 2;
    // The floor is the best client daprd can have: kept-alive HTTP and gRPC, c/b against the better one.
    if (grpc_floor_built()) {
      if (!report_floor(bg_ok, bg, bg_error, "(b) daprd over gRPC", lat, "b_dapr_floor_grpc")) status = 2;
    } else {
      lat["b_dapr_floor_grpc"] = {{"skipped", "rr-bench built without gRPC (RR_BENCH_GRPC=1 bench/run.sh)"}};
      say("  (b) daprd over gRPC: skipped, rr-bench built without gRPC (RR_BENCH_GRPC=1 bench/run.sh)");
    }
    const Percentiles cl = percentiles(c_ms);
    lat["c_rr_gateway"] = cl.to_json();
    lat["c_rr_gateway"]["failed"] = failed;
    lat["c_rr_gateway"]["how"] = "harness run_traffic, closed loop with 1 worker (keep-alive), rr-simulator no faults";
    lat["rounds"] = std::move(rounds);
    lat["requests_per_round"] = c.latency_requests;
    say(fmt::format("  (c) rr-gateway:     p50 {:.2f} ms p99 {:.2f} ms p999 {:.2f} ms ({} failed)", cl.p50, cl.p99,
                    cl.p999, failed));
    json ratios = json::object();
    for (const auto& [name, fa, fb] : {std::tuple{"p50", a.latency.p50, b.latency.p50},
                                       std::tuple{"p99", a.latency.p99, b.latency.p99},
                                       std::tuple{"p999", a.latency.p999, b.latency.p999}}) {
      const double cv = std::string(name) == "p50" ? cl.p50 : std::string(name) == "p99" ? cl.p99 : cl.p999;
      ratios[std::string("c_over_b_") + name] = ratio(cv, fb);
      ratios[std::string("c_over_a_") + name] = ratio(cv, fa);
    }
    // Per percentile, the lower of the two floors.
    const json best = over_best(cl, b_ok ? &b.latency : nullptr, bg_ok ? &bg.latency : nullptr);
    const json grpc_only = over_best(cl, nullptr, &bg.latency);
    for (const std::string name : {"p50", "p99", "p999"}) {
      ratios["c_over_best_b_" + name] = best[name];
      if (bg_ok) ratios["c_over_b_grpc_" + name] = grpc_only[name];
    }
    lat["ratios"] = ratios;
    say(fmt::format("  c / best (b): p50 {:.2f} p99 {:.2f} p999 {:.2f}", ratios["c_over_best_b_p50"].get<double>(),
                    ratios["c_over_best_b_p99"].get<double>(), ratios["c_over_best_b_p999"].get<double>()));
    say(fmt::format("  c/b: p50 {:.2f} p99 {:.2f} p999 {:.2f}   c/a: p50 {:.2f} p99 {:.2f} p999 {:.2f}",
                    ratios["c_over_b_p50"].get<double>(), ratios["c_over_b_p99"].get<double>(),
                    ratios["c_over_b_p999"].get<double>(), ratios["c_over_a_p50"].get<double>(),
                    ratios["c_over_a_p99"].get<double>(), ratios["c_over_a_p999"].get<double>()));
    results["latency"] = lat;
  }

  if (selected(c, "rate")) {
    say(fmt::format("== max sustained open-loop rate through rr-gateway (p99 < {} ms, steps of {} s)", c.p99_limit_ms,
                    c.step_seconds));
    results["max_rate"] = rate_sweep(c, gw.port, watched(), "rr-gateway");
    proc::wait_until([&] { return scrape(gw.port, gateway_metrics::kPending).value_or(1) == 0; }, 30s, 200ms);
  }

  if (selected(c, "timeout")) {
    json runs = json::array();
    std::vector<double> rates = {c.timeout_rate};
    if (c.timeout_rate_low > 0) rates.push_back(c.timeout_rate_low);
    for (const double trate : rates) {
      say(fmt::format("== timeout precision: {} req/s all timing out after {} ms (simulator drops every request)",
                      trate, c.timeout_ms));
      if (!topo.set_profile(kDropAll, error)) {
        say("  failed: " + error);
        status = 2;
        break;
      }
      auto plan = base_plan(gw.port);
      plan.mode = TrafficPlan::Mode::open;
      plan.rate = trate;
      plan.requests = 0;
      plan.duration = std::chrono::microseconds(static_cast<std::int64_t>(c.timeout_seconds * 1e6));
      plan.request_timeout_ms = c.timeout_ms;
      plan.client_timeout = 30s;
      TrafficProgress progress;
      const auto records = harness::run_traffic(plan, progress);
      std::vector<double> late_ms;
      std::uint64_t others = 0;
      std::int64_t first = 0, last = 0;
      for (const auto& r : records) {
        if (r.http_status != 504) {
          ++others;
          continue;
        }
        // The deadline starts when the gateway reads the request; the client's send time is the
        // closest the client can see (it is at most a loopback write earlier).
        late_ms.push_back(static_cast<double>(r.done_us - r.sent_us) / 1000.0 - c.timeout_ms);
        if (first == 0 || r.sent_us < first) first = r.sent_us;
        last = std::max(last, r.sent_us);
      }
      const auto p = percentiles(late_ms);
      const double rate =
          last > first ? static_cast<double>(late_ms.size()) * 1e6 / static_cast<double>(last - first) : 0;
      runs.push_back({{"rate_requested", trate}, {"rate_504_per_s", rate}, {"timeout_ms", c.timeout_ms},
                      {"timeouts", late_ms.size()}, {"other_answers", others}, {"lateness", p.to_json()},
                      {"how", "504 arrival (client) minus client send time minus timeout"}});
      say(fmt::format("  {} x 504 at {:.0f}/s ({} other answers): 504 - deadline p50 {:.2f} ms p90 {:.2f} ms p99 "
                      "{:.2f} ms p999 {:.2f} ms min {:.2f} max {:.2f}",
                      late_ms.size(), rate, others, p.p50, p.p90, p.p99, p.p999, p.min, p.max));
      proc::wait_until([&] { return scrape(gw.port, gateway_metrics::kPending).value_or(1) == 0; }, 30s, 200ms);
      std::this_thread::sleep_for(1s);
    }
    results["timeout_precision"] = runs;
    topo.set_profile(kNoFaults, error);
  }

  if (selected(c, "memory")) {
    say("== memory: rr-gateway RSS with requests waiting (simulator drops every request)");
    // A fresh gateway, so that earlier sections' allocations do not count as the idle figure.
    if (!topo.set_profile(kDropAll, error) || !topo.restart_gateway(0, error)) {
      say("  failed: " + error);
      status = 2;
    } else {
      topo.set_profile(kNoFaults, error);
      warm_up(gw.port, 50, 60s);
      topo.set_profile(kDropAll, error);
      std::vector<std::thread> clients;
      std::vector<std::unique_ptr<TrafficProgress>> progress;
      const auto points = memory_figures(
          c, gw.port, gw.process.pid(), [&] { return scrape(gw.port, gateway_metrics::kPending).value_or(0); }, clients,
          progress, "rr-gateway");
      results["memory"] = {{"gateway", points},
                           {"limit", "RLIMIT_NOFILE is 20000 (hard) for every process here, so one gateway cannot "
                                     "hold more than ~19.9k client connections; 100k waiting is out of reach with "
                                     "HTTP/1.1 (one request in flight per connection)"}};
      // Releasing the clients: SIGTERM answers every waiting request (503 shutdown).
      topo.restart_gateway(0, error);
      for (auto& t : clients) t.join();
    }
    topo.set_profile(kNoFaults, error);
  }

  if (selected(c, "levers")) {
    // The run's gateway and daprd stop, so that each variant has the machine and the reply topic to itself.
    gw.process.stop(10s);
    gw.daprd->stop();
    topo.mark_expected_down(gw.process.name(), true);
    results["levers"] =
        lever_runs(c, paths, brokers, topo.kafka().process().pid(), topo.simulator().pid(), status);
  }

  if (selected(c, "peer")) {
    say("== the Node.js peer (examples/node-gateway: @dapr/dapr + Express) on path (c), same Kafka, its own daprd");
    // rr-gateway and its daprd stop, so that the peer has the machine (and the reply topic) to itself.
    gw.process.stop(10s);
    gw.daprd->stop();
    topo.mark_expected_down(gw.process.name(), true);
    Peer peer(c, paths, brokers);
    std::string answer_profile, hold_profile;
    if (!peer.profile(kNoFaults, answer_profile, error) || !peer.profile(kDropAll, hold_profile, error) ||
        !topo.set_profile(answer_profile, error) || !peer.start(5000, error)) {
      say("  failed: " + error);
      status = 2;
    } else {
      json pj = json::object();
      std::uint64_t failed = 0;
      const auto pl = sequential_latency(peer.port(), c.latency_requests, failed);
      pj["latency"] = pl.to_json();
      pj["latency"]["failed"] = failed;
      say(fmt::format("  peer latency: p50 {:.2f} ms p99 {:.2f} ms p999 {:.2f} ms ({} failed)", pl.p50, pl.p99,
                      pl.p999, failed));
      pj["max_rate"] = rate_sweep(c, peer.port(),
                                  {{"peer", peer.node().pid()},
                                   {"daprd", peer.daprd().process().pid()},
                                   {"kafka", topo.kafka().process().pid()},
                                   {"simulator", topo.simulator().pid()}},
                                  "peer");
      proc::wait_until([&] { return peer.pending() == 0; }, 30s, 200ms);
      // Memory: the peer's 5 s timeout would expire requests while the others connect, so this
      // measurement runs with TIMEOUT_MS=280000 (a restart of the node process).
      std::vector<std::thread> clients;
      std::vector<std::unique_ptr<TrafficProgress>> progress;
      if (!topo.set_profile(hold_profile, error) || !peer.restart_node(280000, error)) {
        say("  peer memory set-up failed: " + error);
        status = 2;
      } else {
        Config pc = c;
        pc.waiting = {c.waiting.front()};
        pj["memory"] = memory_figures(pc, peer.port(), peer.node().pid(), [&] { return peer.pending(); }, clients,
                                      progress, "peer");
      }
      peer.stop();  // the waiting clients get a connection reset
      for (auto& t : clients) t.join();
      topo.set_profile(kNoFaults, error);
      results["peer"] = pj;

      // rr-gateway ÷ peer
      json vs = json::object();
      if (results.contains("latency")) {
        const auto& g = results["latency"]["c_rr_gateway"];
        vs["p50"] = ratio(g["p50_ms"].get<double>(), pl.p50);
        vs["p99"] = ratio(g["p99_ms"].get<double>(), pl.p99);
      }
      if (results.contains("max_rate")) {
        vs["max_rate"] = ratio(results["max_rate"]["max_sustained_rps"].get<double>(),
                               pj["max_rate"]["max_sustained_rps"].get<double>());
      }
      if (results.contains("memory")) {
        // Compare at the same waiting count (the first one).
        const auto& gm = results["memory"]["gateway"];
        const auto& pm = pj["memory"];
        if (gm.size() > 1 && pm.size() > 1) {
          vs["bytes_per_pending"] =
              ratio(gm[1]["bytes_per_pending"].get<double>(), pm[1]["bytes_per_pending"].get<double>());
        }
      }
      results["gateway_over_peer"] = vs;
      std::string text;
      for (const auto& [k, v] : vs.items()) text += fmt::format(" {} {:.2f}", k, v.get<double>());
      say("  rr-gateway ÷ peer:" + text);
    }
  }

  topo.down();
  results["duration_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  results["load_average_end"] = load_average();
  write_file(c.json_out, results.dump(2) + "\n");
  write_markdown(c.markdown_out, results);
  say(fmt::format("rr-bench: done in {:.0f} s{}{}", results["duration_s"].get<double>(),
                  c.json_out.empty() ? "" : ", JSON " + c.json_out,
                  c.markdown_out.empty() ? "" : ", markdown " + c.markdown_out));
  return status;
}

}  // namespace rrkit::bench
