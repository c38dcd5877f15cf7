#include "harness/runner.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "common/gateway_metrics.h"
#include "testkit/http_client.h"
#include "common/json_limits.h"
#include "testkit/process.h"
#include "harness/checker.h"
#include "harness/report.h"
#include "harness/topology.h"
#include "harness/traffic.h"

namespace rrkit::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::json;

TopologyOptions topology_options(const Scenario& sc, const fs::path& run_dir, bool with_profile) {
  TopologyOptions to;
  to.run_dir = run_dir;
  to.gateways = sc.gateways;
  to.shared_consumer_group = sc.shared_consumer_group;
  to.reply_mode = sc.reply_mode;
  to.partitions = sc.partitions;
  to.gateway_timeout = fmt::format("{}ms", sc.gateway_timeout.count() / 1000);
  to.gateway_args = sc.gateway_args;
  to.simulator_profile_yaml = with_profile ? sc.profile_yaml : std::string();
  to.seed = sc.seed;
  to.simulator_args = sc.simulator_args;
  return to;
}

TrafficPlan warmup_plan(const Scenario& sc, const std::vector<std::uint16_t>& gateway_ports) {
  TrafficPlan w;
  w.mode = TrafficPlan::Mode::closed;
  w.concurrency = 1;
  w.requests = static_cast<std::uint64_t>(sc.warmup) * gateway_ports.size();
  w.body_template = {{"warmup", true}};
  // The first messages on a fresh stack take ~250 ms each way (producer ids, metadata, first
  // fetches), more than some scenarios' timeouts: the warm-up waits longer than the scenario does.
  w.request_timeout_ms = 10000;
  w.gateway_ports = gateway_ports;
  w.seed = sc.seed;
  w.key_prefix = "warmup";  // keys of their own: the scenario's requests keep theirs
  return w;
}

std::vector<Json> read_jsonl(const fs::path& file) {
  std::vector<Json> lines;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    // Another program's file: bounded, so that a line nested too deep cannot crash the checker.
    auto j = parse_bounded(line);
    if (j.ok()) lines.push_back(std::move(j.value));
  }
  return lines;
}

namespace {

// How many failing requests get their own narrowed repro line.
constexpr std::size_t kReproRequests = 3;

// A narrowed run (--only) reproduces single requests: assertions about the whole run (counts,
// fractions) and negative controls have nothing to say about it; the per-request invariants stay.
void narrow_for_only(Scenario& sc, const std::string& only_text, std::vector<std::string>& events) {
  if (!sc.assertions.empty() || !sc.expect_violations.empty()) {
    events.push_back(fmt::format("--only {}: {} whole-run assertion(s) and {} expected violation(s) not judged",
                                 only_text, sc.assertions.size(), sc.expect_violations.size()));
  }
  sc.assertions.clear();
  sc.expect_violations.clear();
}

// A history line: the report's record plus the bodies, which replay needs and reports leave out.
Json history_line(const RequestRecord& r) {
  Json j = to_json(r);
  j["request_body"] = r.request_body;
  j["response_body"] = r.response_body;
  return j;
}

// Sends the timeline's actions at their times while traffic runs; returns what happened.
void run_timeline(const Scenario& sc, Topology* topo, std::int64_t start_us, const std::atomic<bool>& stop,
                  std::vector<std::string>& events, std::vector<std::string>& failures) {
  for (const auto& a : sc.timeline) {
    const std::int64_t due = start_us + a.at.count();
    while (now_us() < due && !stop) {
      std::this_thread::sleep_for(std::chrono::microseconds(std::min<std::int64_t>(due - now_us(), 20'000)));
    }
    if (stop) return;
    std::string error;
    bool ok = true;
    const auto t = static_cast<std::size_t>(a.target);
    if (!topo) {
      ok = false;
      error = "timeline actions need a stack launched by the harness (not attach mode)";
    } else if (a.action == "kill_daprd") {
      ok = topo->kill_daprd(t, error);
    } else if (a.action == "restart_daprd") {
      ok = topo->restart_daprd(t, error);
    } else if (a.action == "pause_kafka") {
      ok = topo->pause_kafka(error);
    } else if (a.action == "resume_kafka") {
      ok = topo->resume_kafka(error);
    } else if (a.action == "crash_simulator") {
      ok = topo->crash_simulator(error);
    } else if (a.action == "restart_simulator") {
      ok = topo->restart_simulator(error);
    } else if (a.action == "restart_gateway") {
      ok = topo->restart_gateway(t, error);
    } else if (a.action == "set_profile") {
      ok = topo->set_profile(a.profile_yaml, error);
    } else if (a.action == "pause_simulator") {
      ok = topo->pause_simulator(error);
    } else if (a.action == "resume_simulator") {
      ok = topo->resume_simulator(error);
    }
    const double at_s = static_cast<double>(now_us() - start_us) / 1e6;
    events.push_back(fmt::format("t={:.2f}s {}{}{}", at_s, a.action,
                                 a.action.find("daprd") != std::string::npos || a.action == "restart_gateway"
                                     ? fmt::format(" gateway {}", a.target)
                                     : "",
                                 ok ? "" : " FAILED: " + error));
    if (!ok) failures.push_back(fmt::format("{}:{}: {} failed: {}", sc.path, a.line, a.action, error));
  }
}

// A failed scrape is kept as its reason, never as an empty text: empty would read as zero counters
// and a drained pending gauge on a dead gateway.
MetricsScrape fetch_metrics(std::uint16_t port) {
  const auto r = http::get(port, "/metrics", 3s);
  if (r.ec) return {{}, "unreachable: " + r.ec.message()};
  if (!r.ok()) return {{}, fmt::format("answered HTTP {}", r.status)};
  return {r.body, {}};
}

Json scrape_errors(const std::vector<MetricsScrape>& scrapes) {
  Json a = Json::array();
  for (const auto& m : scrapes) a.push_back(m.error);
  return a;
}

bool interrupted(const RunOptions& o) { return o.interrupt && o.interrupt->load() != 0; }

std::string signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : fmt::format("signal {}", sig);
}

// Runs traffic on its own thread while this one forwards an interruption to it and calls tick;
// an exception on the traffic thread is rethrown here, never lost.
std::vector<RequestRecord> run_traffic_watched(const TrafficPlan& plan, TrafficProgress& progress,
                                               const RunOptions& options, const std::function<void()>& tick) {
  std::vector<RequestRecord> records;
  std::exception_ptr failure;
  std::atomic<bool> done{false};
  std::thread traffic([&] {
    try {
      records = run_traffic(plan, progress);
    } catch (...) {
      failure = std::current_exception();
    }
    done = true;
  });
  // Joined on every way out, so that an exception here cannot destroy a joinable thread.
  struct Join {
    std::thread& thread;
    TrafficProgress& progress;
    ~Join() {
      if (thread.joinable()) {
        progress.stop = true;
        thread.join();
      }
    }
  } join{traffic, progress};
  while (!done) {
    std::this_thread::sleep_for(100ms);
    if (interrupted(options)) progress.stop = true;
    if (tick) tick();
  }
  traffic.join();
  if (failure) std::rethrow_exception(failure);
  return records;
}

}  // namespace

bool parse_gateway_url(const std::string& url, std::string& host, std::uint16_t& port, std::string& error) {
  const std::string prefix = "http://";
  error = "cannot read gateway URL \"" + url + "\" (expected http://HOST:PORT)";
  if (url.rfind(prefix, 0) != 0) return false;
  std::string rest = url.substr(prefix.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = rest.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  const std::string digits = rest.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 || digits.find_first_not_of("0123456789") != std::string::npos) return false;
  const int value = std::stoi(digits);
  if (value <= 0 || value > 65535) return false;
  port = static_cast<std::uint16_t>(value);
  std::string why;
  if (!resolve_host(host, why)) {
    error = "gateway URL \"" + url + "\": " + why;
    return false;
  }
  error.clear();
  return true;
}

bool run_folder_for(const fs::path& out_dir, const std::string& name, std::uint64_t seed, fs::path& folder,
                    std::string& error) {
  const fs::path out = fs::absolute(out_dir).lexically_normal();
  folder = (out / fmt::format("{}-seed{}", name, seed)).lexically_normal();
  if (folder.parent_path() != out || folder.filename().string().front() == '.' || name.empty()) {
    error = fmt::format("scenario name \"{}\" would put its run folder outside {}", name, out.string());
    return false;
  }
  return true;
}

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  Scenario sc = scenario;
  if (options.seed) sc.seed = *options.seed;
  std::vector<std::string> only_events;
  if (!options.only.empty()) narrow_for_only(sc, options.only_text, only_events);
  ScenarioResult result;
  result.name = sc.name;
  result.path = sc.path;
  result.description = sc.description;
  result.seed = sc.seed;
  result.started_us = now_us();
  result.repro = fmt::format("{} run {} --seed {}", options.self_command, sc.path, sc.seed);
  if (!options.only.empty()) result.repro += " --only " + options.only_text;
  const auto t0 = std::chrono::steady_clock::now();
  auto finish = [&](ScenarioResult& r) -> ScenarioResult& {
    r.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return r;
  };
  auto fail = [&](const std::string& error) -> ScenarioResult& {
    result.status = ScenarioStatus::error;
    result.error = error;
    return finish(result);
  };
  auto stop_for_signal = [&](const std::string& when) -> ScenarioResult& {
    result.status = ScenarioStatus::interrupted;
    result.error = fmt::format("interrupted by {} {}", signal_name(options.interrupt->load()), when);
    return finish(result);
  };
  fs::path run_dir;
  std::string folder_error;
  // A narrowed run gets its own folder: it must not overwrite the full run it reproduces.
  if (!run_folder_for(options.out_dir, options.only.empty() ? sc.name : sc.name + "-only", sc.seed, run_dir, folder_error)) {
    return fail(folder_error);
  }
  std::error_code ec;
  fs::remove_all(run_dir, ec);
  fs::create_directories(run_dir, ec);
  if (ec) return fail("cannot create the run folder " + run_dir.string() + ": " + ec.message());
  result.run_dir = run_dir.string();
  fs::copy_file(sc.path, run_dir / "scenario.yaml", fs::copy_options::overwrite_existing, ec);
  std::ofstream(run_dir / "seed") << sc.seed << "\n";

  const bool attach = !options.gateway_urls.empty();
  std::unique_ptr<Topology> topo;
  TrafficPlan plan = sc.traffic;
  plan.seed = sc.seed;
  plan.only = options.only;
  if (!plan.only.empty()) {
    const std::uint64_t planned = planned_requests(plan);
    if (plan.only.back() >= planned) {
      return fail(fmt::format("--only {}: this scenario sends requests 0 to {}", options.only_text, planned - 1));
    }
  }
  if (!attach) {
    const TopologyOptions to = topology_options(sc, run_dir, sc.warmup == 0);
    std::string error;
    try {
      topo = std::make_unique<Topology>(stack::Paths::discover(), to);
      if (!topo->up(error)) throw std::runtime_error(error);
    } catch (const std::exception& e) {
      if (topo) topo->down();
      if (interrupted(options)) return stop_for_signal("while the stack was starting");
      return fail(e.what());
    }
    if (interrupted(options)) {
      topo->down();
      return stop_for_signal("before traffic started");
    }
    for (const auto& c : sc.expected_crashes) topo->mark_expected_down(c, true);
    plan.gateway_ports = topo->gateway_ports();
  } else {
    for (const auto& url : options.gateway_urls) {
      std::uint16_t port = 0;
      std::string error;
      if (!parse_gateway_url(url, plan.host, port, error)) return fail(error);
      plan.gateway_ports.push_back(port);
    }
    plan.id_pointer = options.attach_id_pointer;
  }

  // Warm-up: a few requests through every gateway with the fault-free profile, so that the first
  // requests of the scenario do not pay for connection set-up, producer ids and consumer fetch start
  // (measured: the very first reply can take a second on a fresh broker). Then the scenario's profile
  // is applied and the counters and the decision log are baselined.
  std::vector<MetricsScrape> baseline;
  std::size_t decisions_offset = 0;
  std::vector<std::string> warmup_events;
  if (!attach && sc.warmup > 0) {
    const TrafficPlan w = warmup_plan(sc, plan.gateway_ports);
    TrafficProgress wp;
    std::vector<RequestRecord> warm;
    try {
      warm = run_traffic_watched(w, wp, options, nullptr);
    } catch (const std::exception& e) {
      topo->down();
      return fail(std::string("warm-up traffic: ") + e.what());
    }
    if (interrupted(options)) {
      topo->down();
      return stop_for_signal("during the warm-up");
    }
    double first_ms = warm.empty() ? 0 : warm.front().latency_ms(), worst = 0;
    std::size_t ok = 0;
    for (const auto& r : warm) {
      ok += r.outcome == Outcome::ok;
      worst = std::max(worst, r.latency_ms());
    }
    warmup_events.push_back(fmt::format("warm-up: {}/{} requests answered 200, first {:.0f} ms, slowest {:.0f} ms", ok,
                                        warm.size(), first_ms, worst));
    std::string error;
    if (ok != warm.size()) {
      error = warmup_events.back() + " (the stack does not answer; see the logs in " + run_dir.string() + ")";
    } else if (!sc.profile_yaml.empty() && !topo->set_profile(sc.profile_yaml, error)) {
      error = "applying the scenario's profile: " + error;
    }
    if (!error.empty()) {
      topo->down();
      return fail(error);
    }
    // In broadcast mode the other instances receive the warm-up replies too, a little later than the
    // owner: wait until every copy is counted before taking the baseline.
    const double copies_each = sc.shared_consumer_group || sc.reply_mode == "reply-to" ? 1.0
                                                                                      : static_cast<double>(plan.gateway_ports.size());
    const double want = static_cast<double>(warm.size()) * copies_each;
    proc::wait_until(
        [&] {
          baseline.clear();
          double seen = 0;
          for (auto port : plan.gateway_ports) {
            baseline.push_back(fetch_metrics(port));
            for (const auto cls : gateway_metrics::kTopicReplyClasses) {
              seen += metric_value(baseline.back().text, gateway_metrics::kReplies, gateway_metrics::kClassLabel,
                                   std::string(gateway_metrics::to_string(cls)));
            }
          }
          return seen >= want || interrupted(options);
        },
        10s, 100ms);
    decisions_offset = read_jsonl(run_dir / "decisions.jsonl").size();
  }

  // Traffic on its own thread; the timeline on another; the progress display on this one.
  TrafficProgress progress;
  std::vector<RequestRecord> records;
  const std::int64_t start_us = now_us();
  result.started_us = start_us;  // plots and timeline events count from the first request
  std::vector<std::string> events, failures;
  // The timeline thread spawns restarted components, which die with the thread that spawned them
  // (PR_SET_PDEATHSIG), so it stays alive until the stack is down.
  std::atomic<bool> timeline_done{false}, scenario_over{false}, stop_timeline{false};
  std::thread timeline([&] {
    try {
      run_timeline(sc, topo.get(), start_us, stop_timeline, events, failures);
    } catch (const std::exception& e) {
      failures.push_back(fmt::format("{}: timeline: {}", sc.path, e.what()));
    }
    timeline_done = true;
    while (!scenario_over) std::this_thread::sleep_for(20ms);
  });
  // Whatever happens from here on (an exception included), the stack goes down and the timeline
  // thread is joined: a joinable std::thread destroyed during unwinding would end the process
  // (std::terminate) without a report and with the stack still running.
  struct Teardown {
    std::unique_ptr<Topology>& topo;
    std::atomic<bool>& stop_timeline;
    std::atomic<bool>& scenario_over;
    std::thread& timeline;
    void operator()() {
      stop_timeline = true;
      if (topo) topo->down();
      scenario_over = true;
      if (timeline.joinable()) timeline.join();
    }
    ~Teardown() { (*this)(); }
  } teardown{topo, stop_timeline, scenario_over, timeline};

  auto last_line = std::chrono::steady_clock::now();
  auto tick = [&] {
    if (interrupted(options)) stop_timeline = true;
    const auto sent = progress.sent.load();
    const auto answered = progress.answered.load();
    const double elapsed = static_cast<double>(now_us() - start_us) / 1e6;
    const std::string line = fmt::format("{} | traffic | sent {} answered {} in flight {} | {:.1f}s", sc.name, sent,
                                         answered, sent - std::min(sent, answered), elapsed);
    if (options.progress_tty) {
      std::cerr << "\r\033[K" << line << std::flush;
    } else if (std::chrono::steady_clock::now() - last_line > 5s) {
      std::cerr << line << "\n";
      last_line = std::chrono::steady_clock::now();
    }
  };
  std::string traffic_error;
  try {
    records = run_traffic_watched(plan, progress, options, tick);
  } catch (const std::exception& e) {
    traffic_error = std::string("traffic: ") + e.what();
  }
  if (interrupted(options)) stop_timeline = true;
  while (!timeline_done) std::this_thread::sleep_for(20ms);
  // (After the timeline thread is done with `events` and `failures`.)
  if (!traffic_error.empty()) failures.push_back(traffic_error);
  events.push_back(fmt::format("traffic client: {} connection(s) opened, {} idle one(s) closed instead of reused "
                               "(too old or closed by the server), {} request(s) resent unsent",
                               progress.connections_opened.load(), progress.stale_discarded.load(),
                               progress.retried_unsent.load()));
  if (options.progress_tty) std::cerr << "\r\033[K";

  // Settle: wait (with a deadline) until every gateway has no pending request and the reply
  // counters have caught up with what the simulator sent; then snapshot the evidence.
  // An interrupted run does not wait: it takes the snapshot as it is.
  CheckInput in;
  in.scenario = &sc;
  in.requests = records;
  in.gateways = static_cast<int>(plan.gateway_ports.size());
  in.shared_consumer_group = sc.shared_consumer_group;
  in.reply_mode = sc.reply_mode;
  in.events = only_events;
  in.events.insert(in.events.end(), warmup_events.begin(), warmup_events.end());
  in.events.insert(in.events.end(), events.begin(), events.end());
  in.infra_errors = failures;
  in.gateway_baseline = baseline;
  const fs::path decisions_file = attach ? fs::path(options.attach_decisions) : run_dir / "decisions.jsonl";
  auto snapshot = [&] {
    in.gateway_metrics.clear();
    for (auto port : plan.gateway_ports) in.gateway_metrics.push_back(fetch_metrics(port));
    in.decisions = decisions_file.empty() ? std::vector<Json>{} : read_jsonl(decisions_file);
    // Lines of the warm-up are not part of the scenario.
    if (decisions_offset > 0) {
      in.decisions.erase(in.decisions.begin(),
                         in.decisions.begin() + static_cast<std::ptrdiff_t>(std::min(decisions_offset, in.decisions.size())));
    }
  };
  bool settled = false;
  proc::wait_until(
      [&] {
        snapshot();
        join_ids_by_nonce(in);
        const GatewayFigure pending = gateway_gauge(in, gateway_metrics::kPending);
        in.pending = pending.ok() ? std::optional<double>(pending.value) : std::nullopt;
        in.pending_detail = pending.unreadable;
        if (interrupted(options)) return true;
        const auto want = expected_replies(in);
        using gateway_metrics::ReplyClass;
        auto replies = [&](ReplyClass cls) {
          return gateway_counter(in, gateway_metrics::kReplies, gateway_metrics::kClassLabel,
                                 std::string(gateway_metrics::to_string(cls)));
        };
        const GatewayFigure matched = replies(ReplyClass::matched), late = replies(ReplyClass::late),
                            dup = replies(ReplyClass::duplicate), unknown = replies(ReplyClass::unknown),
                            malformed = replies(ReplyClass::malformed);
        // The simulator must have nothing left to send (replies waiting on a delay, a reorder window or a
        // worker), or counters could match now and move again a moment later.
        bool simulator_idle = true;
        if (topo && topo->simulator().alive()) {
          const auto st = http::get(topo->simulator_control_port(), "/stats", 1s);
          const auto j = parse_bounded(st.ok() ? st.body : std::string("null"));
          simulator_idle = j.value.is_object() && j.value.value("in_flight", 0) == 0 && j.value.value("queued", 0) == 0;
        }
        // An unreadable figure never settles: the wait runs to its deadline and the checks say why.
        settled = simulator_idle && pending.ok() && pending.value == 0 && matched.ok() && late.ok() && dup.ok() &&
                  unknown.ok() && malformed.ok() && matched.value == want.matched && late.value == want.late &&
                  dup.value == want.duplicate && unknown.value == want.unknown && malformed.value == want.malformed;
        return settled;
      },
      std::chrono::duration_cast<std::chrono::milliseconds>(sc.settle), 250ms);
  if (topo) in.unexpected_deaths = topo->unexpected_deaths();
  // A failed scrape writes no file: its reason goes to run.json, and replay reads it from there.
  for (std::size_t i = 0; i < in.gateway_metrics.size(); ++i) {
    if (in.gateway_metrics[i].error.empty()) {
      std::ofstream(run_dir / fmt::format("metrics-gw-{}.txt", i + 1)) << in.gateway_metrics[i].text;
    }
    if (i < baseline.size() && baseline[i].error.empty()) {
      std::ofstream(run_dir / fmt::format("metrics-gw-{}.baseline.txt", i + 1)) << baseline[i].text;
    }
  }
  if (topo) {
    const auto stats = http::get(topo->simulator_control_port(), "/stats", 2s);
    if (stats.ok()) std::ofstream(run_dir / "simulator-stats.json") << stats.body << "\n";
  }
  {
    // The replace handler: an answer is outside input and may carry bytes that are not UTF-8 (a
    // proxy's Latin-1 error page); the strict handler would throw on it and lose the whole history.
    std::ofstream hist(run_dir / "history.jsonl");
    for (const auto& r : records) hist << safe_dump(history_line(r)) << "\n";
    const int sig = options.interrupt ? options.interrupt->load() : 0;
    Json meta = {{"gateways", in.gateways},
                 {"shared_consumer_group", in.shared_consumer_group},
                 {"reply_mode", in.reply_mode},
                 {"pending", in.pending ? Json(*in.pending) : Json(nullptr)},
                 {"pending_detail", in.pending_detail},
                 {"metrics_errors", scrape_errors(in.gateway_metrics)},
                 {"baseline_errors", scrape_errors(baseline)},
                 {"unexpected_deaths", in.unexpected_deaths},
                 {"events", in.events},
                 {"infra_errors", in.infra_errors},
                 {"decisions", decisions_file.string()},
                 {"decisions_offset", decisions_offset},
                 {"seed", sc.seed},
                 {"only", options.only_text},
                 {"started_us", result.started_us},
                 {"interrupted", sig != 0}};
    std::ofstream(run_dir / "run.json") << safe_dump(meta, 2) << "\n";
  }
  teardown();

  run_checks(in, result);
  // The first few requests a per-request invariant failed on, each as the command that sends just it.
  if (result.status != ScenarioStatus::pass && options.only.empty()) {
    for (std::size_t k = 0; k < result.failing_requests.size() && k < kReproRequests; ++k) {
      result.repro_requests.push_back(fmt::format("{} --only {}", result.repro, result.failing_requests[k]));
    }
  }
  if (interrupted(options)) {
    result.status = ScenarioStatus::interrupted;
    result.error = fmt::format("interrupted by {} after {:.1f} s of traffic; the checks cover the {} request(s) sent",
                               signal_name(options.interrupt->load()),
                               static_cast<double>(now_us() - start_us) / 1e6, records.size());
  }
  return finish(result);
}

namespace {

// Reads a whole file; false when it cannot be opened.
bool read_text(const fs::path& file, std::string& out) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return false;
  std::stringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

// run.json's per-gateway scrape errors ("" for a scrape that was read): an array of `count` strings.
bool read_scrape_errors(const Json& meta, const char* key, std::size_t min_count, std::size_t max_count,
                        std::vector<std::string>& out, std::string& error) {
  const auto it = meta.find(key);
  if (it == meta.end() || !it->is_array() || it->size() < min_count || it->size() > max_count ||
      !std::all_of(it->begin(), it->end(), [](const Json& e) { return e.is_string(); })) {
    error = fmt::format("\"{}\" must be a list of {} string(s), one per gateway (\"\" when its /metrics was read)", key,
                        min_count == max_count ? std::to_string(min_count) : fmt::format("0 or {}", max_count));
    return false;
  }
  out.clear();
  for (const auto& e : *it) out.push_back(e.get<std::string>());
  return true;
}

}  // namespace

std::optional<ScenarioResult> replay_run(const fs::path& run_dir, std::string& error) {
  const fs::path meta_file = run_dir / "run.json";
  std::ifstream meta_in(meta_file);
  if (!meta_in) {
    error = meta_file.string() + ": not a run folder (no run.json)";
    return std::nullopt;
  }
  const Json meta = Json::parse(meta_in, nullptr, false);
  if (meta.is_discarded() || !meta.is_object()) {
    error = meta_file.string() + ": unreadable (not a JSON object)";
    return std::nullopt;
  }
  auto bad_meta = [&](const std::string& why) {
    error = meta_file.string() + ": " + why;
    return std::nullopt;
  };
  auto sc = load_scenario(run_dir / "scenario.yaml", error, false);
  if (!sc) return std::nullopt;
  if (const auto seed = meta.find("seed"); seed != meta.end() && seed->is_number_unsigned()) {
    sc->seed = seed->get<std::uint64_t>();
  }
  CheckInput in;
  if (const auto only = meta.find("only"); only != meta.end() && only->is_string() && !only->get<std::string>().empty()) {
    std::vector<std::string> ignored;
    narrow_for_only(*sc, only->get<std::string>(), ignored);
  }
  in.scenario = &*sc;
  // One metrics file is read per gateway: a corrupt count must not become millions of reads (nor a
  // float converted to int, which is undefined behaviour).
  const auto stored_gateways = meta.find("gateways");
  if (stored_gateways == meta.end() || !stored_gateways->is_number_integer() ||
      stored_gateways->get<std::int64_t>() < 1 || stored_gateways->get<std::int64_t>() > 8) {
    return bad_meta("gateways must be an integer between 1 and 8, got " +
                    (stored_gateways == meta.end()
                         ? std::string("nothing")
                         : stored_gateways->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  }
  in.gateways = stored_gateways->get<int>();
  // Every piece of evidence must be there: a missing file would read as no requests, zero counters or
  // a drained gateway, and the replay would pass a run the live checker failed.
  {
    const fs::path history = run_dir / "history.jsonl";
    std::ifstream hist(history);
    if (!hist) {
      error = history.string() + ": missing (the run's HTTP history)";
      return std::nullopt;
    }
    std::string line;
    std::size_t n = 0;
    while (std::getline(hist, line)) {
      ++n;
      if (line.empty()) continue;
      auto j = parse_bounded(line);
      if (!j.ok()) {
        error = fmt::format("{}:{}: not a JSON line", history.string(), n);
        return std::nullopt;
      }
      try {
        in.requests.push_back(request_from_json(j.value));
      } catch (const std::runtime_error& e) {
        error = fmt::format("{}:{}: {}", history.string(), n, e.what());
        return std::nullopt;
      }
    }
  }
  const auto stored_decisions = meta.find("decisions");
  if (stored_decisions == meta.end() || !stored_decisions->is_string()) {
    return bad_meta("\"decisions\" must name the decision log (\"\" for a run that had none)");
  }
  // The run folder's own copy first (a moved folder still replays); else the file the run read.
  const std::string named = stored_decisions->get<std::string>();
  const fs::path own_copy = run_dir / "decisions.jsonl";
  if (fs::exists(own_copy)) {
    in.decisions = read_jsonl(own_copy);
  } else if (!named.empty()) {
    if (!fs::exists(named)) {
      error = fmt::format("{}: missing (the simulator's decision log; run.json names {})", own_copy.string(), named);
      return std::nullopt;
    }
    in.decisions = read_jsonl(named);
  }
  // Only an unsigned integer is an offset: converting a float like 1e20 to size_t is undefined behaviour.
  const auto stored_offset = meta.find("decisions_offset");
  const std::size_t offset =
      stored_offset != meta.end() && stored_offset->is_number_unsigned()
          ? std::min<std::size_t>(stored_offset->get<std::size_t>(), in.decisions.size())
          : 0;
  in.decisions.erase(in.decisions.begin(), in.decisions.begin() + static_cast<std::ptrdiff_t>(offset));
  const auto n = static_cast<std::size_t>(in.gateways);
  std::vector<std::string> metrics_errors, baseline_errors;
  std::string why;
  if (!read_scrape_errors(meta, "metrics_errors", n, n, metrics_errors, why)) return bad_meta(why);
  if (!read_scrape_errors(meta, "baseline_errors", 0, n, baseline_errors, why)) return bad_meta(why);
  if (!baseline_errors.empty() && baseline_errors.size() != n) {
    return bad_meta(fmt::format("\"baseline_errors\" must be a list of 0 or {} string(s)", n));
  }
  auto read_scrape = [&](const std::string& scrape_error, const fs::path& file, std::vector<MetricsScrape>& out) {
    MetricsScrape m;
    m.error = scrape_error;
    if (m.error.empty() && !read_text(file, m.text)) {
      error = file.string() + ": missing (run.json says this /metrics was read)";
      return false;
    }
    out.push_back(std::move(m));
    return true;
  };
  for (std::size_t i = 0; i < n; ++i) {
    if (!read_scrape(metrics_errors[i], run_dir / fmt::format("metrics-gw-{}.txt", i + 1), in.gateway_metrics)) {
      return std::nullopt;
    }
  }
  for (std::size_t i = 0; i < baseline_errors.size(); ++i) {
    if (!read_scrape(baseline_errors[i], run_dir / fmt::format("metrics-gw-{}.baseline.txt", i + 1),
                     in.gateway_baseline)) {
      return std::nullopt;
    }
  }
  const auto pending = meta.find("pending");
  if (pending == meta.end() || !(pending->is_number() || pending->is_null())) {
    return bad_meta("\"pending\" must be the requests left pending after the settle time (null: not read)");
  }
  if (pending->is_number()) in.pending = pending->get<double>();
  try {
    in.shared_consumer_group = meta.value("shared_consumer_group", false);
    in.reply_mode = meta.value("reply_mode", std::string("broadcast"));
    in.pending_detail = meta.value("pending_detail", std::string());
    in.unexpected_deaths = meta.value("unexpected_deaths", std::vector<std::string>{});
    in.events = meta.value("events", std::vector<std::string>{});
    in.infra_errors = meta.value("infra_errors", std::vector<std::string>{});
  } catch (const nlohmann::json::exception& e) {
    return bad_meta(std::string("a member has the wrong type: ") + e.what());
  }
  join_ids_by_nonce(in);
  ScenarioResult result;
  result.name = sc->name;
  result.path = sc->path;
  result.description = sc->description;
  result.seed = sc->seed;
  result.run_dir = run_dir.string();
  if (const auto started = meta.find("started_us"); started != meta.end() && started->is_number_integer()) {
    result.started_us = started->get<std::int64_t>();
  }
  result.repro = fmt::format("rr-harness replay {}", run_dir.string());
  run_checks(in, result);
  return result;
}

}  // namespace rrkit::harness
