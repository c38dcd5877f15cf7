// The measurement sections of rr-bench: latency, rate sweeps, memory per waiting request, the
// harness's own capacity, and the Node.js peer the gateway is compared with.
#include "bench/sections.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "bench/measure.h"
#include "common/json_limits.h"
#include "testkit/http_client.h"
#include "testkit/net.h"
#include "testkit/tiny_http_server.h"

namespace rrkit::bench {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using harness::TrafficPlan;
using harness::TrafficProgress;


bool selected(const Config& c, const std::string& section) {
  return c.sections == "all" || ("," + c.sections + ",").find("," + section + ",") != std::string::npos;
}

void say(const std::string& line) { std::cout << line << std::endl; }

void pin_current_thread(int core) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<unsigned>(core), &set);
  ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

void unpin_current_thread() {
  cpu_set_t set;
  CPU_ZERO(&set);
  for (unsigned i = 0; i < std::max(1u, std::thread::hardware_concurrency()); ++i) CPU_SET(i, &set);
  ::pthread_setaffinity_np(::pthread_self(), sizeof set, &set);
}

double ratio(double a, double b) { return b > 0 ? a / b : 0; }

double thread_cpu_seconds() {
  rusage u{};
  ::getrusage(RUSAGE_THREAD, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

std::optional<double> scrape(std::uint16_t port, const std::string& series) {
  const auto r = http::get(port, "/metrics", 5s);
  if (!r.ok()) return std::nullopt;
  std::istringstream in(r.body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return std::nullopt;
}

TrafficPlan base_plan(std::uint16_t port) {
  TrafficPlan p;
  p.gateway_ports = {port};
  p.body_template = {{"action", "bench"}, {"data", {{"seq", "{{seq}}"}}}};
  p.client_timeout = 30s;
  return p;
}

// Sequential requests (one worker, keep-alive): the low-load latency of path (c) and of the peer.
Percentiles sequential_latency(std::uint16_t port, int requests, std::uint64_t& failed) {
  return percentiles(sequential_samples(port, requests, failed));
}

std::vector<double> sequential_samples(std::uint16_t port, int requests, std::uint64_t& failed) {
  auto plan = base_plan(port);
  plan.mode = TrafficPlan::Mode::closed;
  plan.concurrency = 1;
  plan.requests = static_cast<std::uint64_t>(requests);
  TrafficProgress progress;
  const auto records = harness::run_traffic(plan, progress);
  failed = static_cast<std::uint64_t>(
      std::count_if(records.begin(), records.end(), [](const auto& r) { return r.http_status != 200; }));
  return ok_latencies_ms(records);
}

// Sends until `warm` requests in a row got 200: the reply path is live end to end.
bool warm_up(std::uint16_t port, int warm, std::chrono::seconds budget) {
  const auto until = std::chrono::steady_clock::now() + budget;
  int ok = 0;
  while (ok < warm && std::chrono::steady_clock::now() < until) {
    const auto r = http::post_json(port, "/api/send", R"({"action":"warm"})", 6s);
    ok = r.status == 200 ? ok + 1 : 0;
  }
  return ok >= warm;
}


// Open-loop steps at rising rates until p99 reaches the limit or a request fails; CPU time of
// each watched process per answered request at every step.
json rate_sweep(const Config& c, std::uint16_t port, const std::vector<Watched>& watched, const std::string& who) {
  json steps = json::array();
  double max_rate = 0;
  json at_max;
  for (const double rate : c.rates) {
    // The machine is shared: a step that fails is run once more before the sweep stops.
    for (int attempt = 1; attempt <= 2; ++attempt) {
      auto plan = base_plan(port);
      plan.mode = TrafficPlan::Mode::open;
      plan.rate = rate;
      plan.requests = 0;
      plan.duration = std::chrono::microseconds(static_cast<std::int64_t>(c.step_seconds * 1e6));
      plan.client_timeout = 10s;
      std::map<std::string, double> cpu0;
      for (const auto& w : watched) cpu0[w.name] = group_cpu_seconds(w.pgid);
      TrafficProgress progress;
      const auto records = harness::run_traffic(plan, progress);
      std::uint64_t ok = 0;
      std::int64_t first = 0, last = 0;
      for (const auto& r : records) {
        if (r.http_status == 200) ++ok;
        if (first == 0 || (r.intended_us > 0 && r.intended_us < first)) first = r.intended_us;
        last = std::max(last, r.done_us);
      }
      const auto lat = ok_latency(records);
      json cpu = json::object();
      for (const auto& w : watched) {
        const double used = group_cpu_seconds(w.pgid) - cpu0[w.name];
        cpu[w.name] = ok > 0 ? used * 1e6 / static_cast<double>(ok) : 0.0;  // µs per request
      }
      const auto failed = records.size() - ok;
      const bool sustained = failed == 0 && lat.p99 < c.p99_limit_ms;
      const double achieved = last > first ? static_cast<double>(ok) * 1e6 / static_cast<double>(last - first) : 0;
      json step = {{"rate", rate},          {"attempt", attempt},     {"sent", records.size()}, {"ok", ok},
                   {"failed", failed},      {"achieved_rps", achieved}, {"latency", lat.to_json()},
                   {"cpu_us_per_request", cpu}, {"sustained", sustained}};
      std::string cpu_text;
      for (const auto& [name, us] : cpu.items()) cpu_text += fmt::format(" {} {:.0f}", name, us.get<double>());
      say(fmt::format("  {} {:>6.0f} req/s{}: ok {} failed {} p50 {:.2f} ms p99 {:.2f} ms {} | CPU µs/req:{}", who, rate,
                      attempt > 1 ? " (again)" : "", ok, failed, lat.p50, lat.p99,
                      sustained ? "sustained" : "NOT sustained", cpu_text));
      steps.push_back(step);
      // Let the previous step's tail drain so that steps do not overlap.
      std::this_thread::sleep_for(attempt == 1 && !sustained ? 3s : 1s);
      if (sustained) {
        max_rate = rate;
        at_max = step;
        break;
      }
      if (attempt == 2) {
        return {{"steps", steps}, {"max_sustained_rps", max_rate}, {"at_max", at_max},
                {"p99_limit_ms", c.p99_limit_ms}, {"step_seconds", c.step_seconds}};
      }
    }
  }
  return {{"steps", steps}, {"max_sustained_rps", max_rate}, {"at_max", at_max},
          {"p99_limit_ms", c.p99_limit_ms}, {"step_seconds", c.step_seconds}};
}

// A memory sample once the RSS has stopped moving (two readings a second apart within 0.5 %, at most
// 15 s): the last requests' buffers and the allocator's trimming settle first.
static json settled_sample(pid_t pid) {
  long before = rss_kb(pid);
  proc::wait_until(
      [&] {
        const long now = rss_kb(pid);
        const bool still = std::labs(now - before) * 200 <= std::max(before, 1L);
        before = now;
        return still;
      },
      15s, 1s);
  return memory_sample(pid);
}

// Holds `counts` requests waiting (the replier drops everything) and reads the RSS at each count.
// `pending` reads how many requests the server holds. Clients run on their own threads and are
// released by the caller (restarting the server answers them).
json memory_figures(const Config& c, std::uint16_t port, pid_t pid, const std::function<double()>& pending,
                    std::vector<std::thread>& clients, std::vector<std::unique_ptr<TrafficProgress>>& progress,
                    const std::string& who) {
  // Every waiting request is a client connection here and a socket in the server: both processes
  // need a descriptor per request, so the count is bounded by the lower of the two limits.
  rlimit lim{};
  ::getrlimit(RLIMIT_NOFILE, &lim);
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
  json points = json::array();
  const json base = settled_sample(pid);
  const long rss0 = base.value("rss_kb", 0L);
  json p0 = base;
  p0["waiting"] = 0;
  p0["driver_fd_limit"] = static_cast<long>(lim.rlim_cur);
  points.push_back(p0);
  say(fmt::format("  {} RSS with 0 waiting: {} kB (anonymous {} kB), TCP socket memory {} pages", who, rss0,
                  base["smaps_rollup_kb"].value("Anonymous", -1L), base["sockstat_tcp"].value("mem", -1L)));
  auto send = [&](std::uint64_t requests) {
    auto plan = base_plan(port);
    plan.mode = TrafficPlan::Mode::open;
    // At a rate daprd takes on this machine: a faster burst queues for a daprd connection, and
    // what waits longer than the gateway's acquire timeout is answered 503 dapr_busy at once
    // instead of waiting (so the count was never reached).
    plan.rate = 1000;
    plan.requests = requests;
    plan.request_timeout_ms = 280000;
    plan.client_timeout = 300s;
    progress.push_back(std::make_unique<TrafficProgress>());
    auto* prog = progress.back().get();
    clients.emplace_back([plan, prog] { harness::run_traffic(plan, *prog); });
  };
  for (const int target : c.waiting) {
    // Tops up what was answered at once (503 dapr_busy or overloaded) until `target` wait, at
    // most five rounds.
    bool reached = false;
    for (int round = 0; round < 5 && !reached; ++round) {
      const double now = pending();
      if (now >= static_cast<double>(target)) {
        reached = true;
        break;
      }
      send(static_cast<std::uint64_t>(static_cast<double>(target) - now));
      const auto budget = std::chrono::seconds(30 + (target - static_cast<int>(now)) / 500);
      reached = proc::wait_until([&] { return pending() >= static_cast<double>(target); }, budget, 250ms);
    }
    json point = settled_sample(pid);
    const double held = pending();
    const long rss = point.value("rss_kb", 0L);
    auto per = [&](long now_kb, long then_kb) {
      return held > 0 ? static_cast<double>(now_kb - then_kb) * 1024.0 / held : 0.0;
    };
    const double bytes = per(rss, rss0);
    point["waiting"] = held;
    point["target"] = target;
    point["reached"] = reached;
    point["bytes_per_pending"] = bytes;
    point["anonymous_bytes_per_pending"] =
        per(point["smaps_rollup_kb"].value("Anonymous", 0L), base["smaps_rollup_kb"].value("Anonymous", 0L));
    const long pages = point["sockstat_tcp"].value("mem", 0L) - base["sockstat_tcp"].value("mem", 0L);
    point["socket_bytes_per_pending"] =
        held > 0 ? static_cast<double>(pages * point["sockstat_tcp"].value("page_bytes", 4096L)) / held : 0.0;
    points.push_back(point);
    say(fmt::format("  {} RSS with {:.0f} waiting (target {}{}): {} kB, {:.0f} bytes per pending request "
                    "(anonymous {:.0f}); TCP socket memory {:+} pages ({:.0f} bytes per pending), {} fds",
                    who, held, target, reached ? "" : ", NOT reached", rss, bytes,
                    point.value("anonymous_bytes_per_pending", 0.0), pages,
                    point.value("socket_bytes_per_pending", 0.0), point.value("open_fds", -1L)));
  }
  return points;
}

void write_file(const std::string& path, const std::string& text) {
  if (path.empty()) return;
  fs::create_directories(fs::path(path).parent_path().empty() ? fs::path(".") : fs::path(path).parent_path());
  std::ofstream(path) << text;
}


// One harness-capacity measurement: run_traffic on this thread pinned to core 0, against a trivial
// endpoint whose thread is pinned to core 1.
json capacity_run(const Config& c) {
  pin_current_thread(1);  // the endpoint's thread inherits core 1
  test::TinyHttpServer trivial([](const test::TinyRequest&) { return test::TinyResponse{200, R"({"ok":true})"}; });
  pin_current_thread(0);
  auto plan = base_plan(trivial.port());
  plan.mode = TrafficPlan::Mode::closed;
  plan.concurrency = c.capacity_concurrency;
  plan.requests = static_cast<std::uint64_t>(c.capacity_seconds * 60000);
  plan.duration = std::chrono::microseconds(static_cast<std::int64_t>(c.capacity_seconds * 1e6));
  TrafficProgress progress;
  const double cpu0 = thread_cpu_seconds();
  const auto t0 = std::chrono::steady_clock::now();
  const auto records = harness::run_traffic(plan, progress);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = thread_cpu_seconds() - cpu0;
  unpin_current_thread();
  std::uint64_t ok = 0;
  std::int64_t first = 0, last = 0;
  for (const auto& r : records) {
    if (r.http_status != 200) continue;
    ++ok;
    if (first == 0 || r.sent_us < first) first = r.sent_us;
    last = std::max(last, r.done_us);
  }
  const double rps = last > first ? static_cast<double>(ok) * 1e6 / static_cast<double>(last - first) : 0;
  // The busy share (which includes preparing the request bodies) tells whether the client core or
  // the endpoint was the limit: well under 100% means the figure is a lower bound.
  return {{"requests_per_second", rps},
          {"ok", ok},
          {"concurrency", c.capacity_concurrency},
          {"client_core_busy", wall > 0 ? cpu / wall : 0},
          {"how", "harness::run_traffic on one thread pinned to core 0 (sched_setaffinity, as taskset -c 0); "
                  "endpoint: one Beast thread on core 1; best of 2 runs"}};
}


bool Peer::profile(const std::string& base, std::string& out, std::string& error) const {
  const fs::path sut = fs::path(config_.peer_dir) / "sut.yaml";
  try {
    const YAML::Node contract = YAML::LoadFile(sut.string())["contract"];
    if (!contract.IsMap()) {
      error = sut.string() + ": no contract: section";
      return false;
    }
    YAML::Node section;
    section["contract"] = contract;
    YAML::Emitter emitted;
    emitted << section;
    out = base + "\n" + emitted.c_str() + "\n";
    return true;
  } catch (const YAML::Exception& e) {
    error = sut.string() + ": " + e.what();
    return false;
  }
}

proc::SpawnSpec Peer::node_spec(int timeout_ms, std::uint16_t dapr_http_port) const {
  // node-gateway's own variables (see its README); APP_PORT unset: daprd calls back on the client port.
  std::vector<std::pair<std::string, std::string>> env = {{"PORT", std::to_string(port_)},
                                                          {"HOST", "127.0.0.1"},
                                                          {"DAPR_HTTP_PORT", std::to_string(dapr_http_port)},
                                                          {"TIMEOUT_MS", std::to_string(timeout_ms)}};
  return proc::SpawnSpec{"peer", {config_.node, (fs::path(config_.peer_dir) / "server.js").string()}, env,
                         config_.run_dir / "peer.log", config_.peer_dir};
}

bool Peer::start(int timeout_ms, std::string& error) {
  port_ = net::free_port();
  stack::DaprdConfig dc;
  dc.app_id = "bench-peer";
  dc.app_port = port_;
  dc.http_port = net::free_port();
  dc.brokers = brokers_;
  dc.log_level = config_.log_level;
  dapr_http_port_ = dc.http_port;
  node_ = stack::Process(node_spec(timeout_ms, dapr_http_port_));
  if (!node_.start(error)) return false;
  if (!stack::wait_http_status(port_, "/healthz", 200, 30s, &node_)) {
    error = "the Node.js peer did not answer /healthz (see " + node_.log_file().string() + ")";
    return false;
  }
  daprd_ = std::make_unique<stack::Daprd>(paths_, config_.run_dir, dc);
  if (!daprd_->start(error)) return false;
  if (!warm_up(port_, 20, 90s)) {
    error = "the Node.js peer never answered 200 (see " + node_.log_file().string() + ")";
    return false;
  }
  return true;
}

void Peer::stop() {
  node_.stop(5s);
  if (daprd_) daprd_->stop();
}

bool Peer::restart_node(int timeout_ms, std::string& error) {
  node_.stop(5s);
  node_ = stack::Process(node_spec(timeout_ms, dapr_http_port_));
  if (!node_.start(error)) return false;
  if (!stack::wait_http_status(port_, "/healthz", 200, 30s, &node_)) {
    error = "the Node.js peer did not answer /healthz after its restart (see " + node_.log_file().string() + ")";
    return false;
  }
  return true;
}

double Peer::pending() const {
  const auto r = http::get(port_, "/healthz", 5s);
  const auto j = parse_bounded(r.body).value;
  return j.is_object() ? j.value("pending", 0.0) : 0.0;
}

}  // namespace rrkit::bench
