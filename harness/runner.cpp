#include "harness/runner.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "common/endpoint.h"
#include "common/gateway_metrics.h"
#include "testkit/http_client.h"
#include "common/json_limits.h"
#include "testkit/process.h"
#include "harness/attach.h"
#include "harness/checker.h"
#include "harness/connection_pool.h"
#include "harness/decision_logs.h"
#include "harness/memory.h"
#include "harness/rounds.h"
#include "harness/runner_instances.h"
#include "harness/run_folder.h"
#include "harness/timeline_player.h"
#include "harness/topology.h"
#include "harness/warmup.h"

namespace rrkit::harness {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

void narrow_for_only(Scenario& sc, const std::string& only_text, std::vector<std::string>& events) {
  if (!sc.assertions.empty() || !sc.expect_violations.empty()) {
    events.push_back(fmt::format("--only {}: {} whole-run assertion(s) and {} expected violation(s) not judged",
                                 only_text, sc.assertions.size(), sc.expect_violations.size()));
  }
  sc.assertions.clear();
  sc.expect_violations.clear();
}

namespace {

// How many failing requests get their own narrowed repro line.
constexpr std::size_t kReproRequests = 3;

// A failed scrape is kept as its reason, never as an empty text: empty would read as zero counters
// and a drained pending gauge on a dead gateway.
MetricsScrape fetch_metrics(std::uint16_t port, const std::string& path) {
  const auto r = http::get(port, path, 3s);
  if (r.ec) return {{}, "unreachable: " + r.ec.message()};
  if (!r.ok()) return {{}, fmt::format("answered HTTP {}", r.status)};
  return {r.body, {}};
}

std::vector<std::string> scrape_errors(const std::vector<MetricsScrape>& scrapes) {
  std::vector<std::string> errors;
  for (const auto& m : scrapes) errors.push_back(m.error);
  return errors;
}

std::string signal_name(int sig) {
  return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : sig == SIGHUP ? "SIGHUP" : fmt::format("signal {}", sig);
}

// One scenario's run, phase by phase: deploy (or attach), warm up, drive traffic and the timeline,
// settle, collect the evidence into the run folder, check. prepare, deploy and warm_up_phase return
// false when the run ends there, with the result already set (error or interrupted); the stack is down
// by then. Once traffic has started, every later phase runs: an interrupted run is still collected and checked.
// Lives on the caller's thread; drive() adds the traffic and timeline threads and joins them.
class ScenarioRun {
 public:
  ScenarioRun(const Scenario& scenario, const RunOptions& options) : sc_(scenario), options_(options) {
    if (options.seed) sc_.seed = *options.seed;
    if (!options.only.empty()) narrow_for_only(sc_, options.only_text, only_events_);
    result_.name = sc_.name;
    result_.path = sc_.path;
    result_.description = sc_.description;
    result_.seed = sc_.seed;
    result_.started_us = now_us();
    result_.repro = repro_command(options, sc_.path, sc_.seed);
  }

  ScenarioResult run() {
    if (prepare() && deploy() && warm_up_phase()) {
      {
        TimelinePlayer timeline(sc_, topo_, now_us(), events_, failures_, sim_.get());
        drive(timeline);
        settle();
        sample_memory(rounds());
        if (sim_) sim_->leave_as_found(in_.events);
        collect();
      }  // the stack is down here
      check();
      // A failed compression leaves plain files, which read back all the same: said, not fatal.
      if (std::string e; options_.compress_run_folder && !compress_run_folder(run_dir_, e)) result_.events.push_back(e);
    }
    result_.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    return std::move(result_);
  }

 private:
  bool interrupted() const { return options_.interrupt && options_.interrupt->load() != 0; }

  bool fail(const std::string& error) {
    if (topo_) topo_->down();
    result_.status = ScenarioStatus::error;
    result_.error = error;
    return false;
  }

  bool stop_for_signal(const std::string& when) {
    if (topo_) topo_->down();
    result_.status = ScenarioStatus::interrupted;
    result_.error = fmt::format("interrupted by {} {}", signal_name(options_.interrupt->load()), when);
    return false;
  }

  // The run folder (a narrowed run gets its own: it must not overwrite the full run it reproduces)
  // and the traffic plan.
  bool prepare() {
    std::string error;
    if (!create_run_folder(options_.out_dir, options_.only.empty() ? sc_.name : sc_.name + "-only", sc_.seed, sc_.path,
                           run_dir_, error)) {
      return fail(error);
    }
    result_.run_dir = run_dir_.string();
    plan_ = sc_.traffic;
    plan_.seed = sc_.seed;
    plan_.keep = std::make_shared<KeptConnections>();  // the warm-up's connections carry on to the traffic
    plan_.only = options_.only;
    if (!plan_.only.empty()) {
      const std::uint64_t planned = planned_requests(plan_);
      if (plan_.only.back() >= planned) {
        return fail(fmt::format("--only {}: this scenario sends requests 0 to {}", options_.only_text, planned - 1));
      }
    }
    return true;
  }

  // Launches the stack (or reads the gateways to attach to).
  bool deploy() {
    if (attached()) {
      for (const auto& url : options_.gateway_urls) {
        std::uint16_t port = 0;
        std::string error;
        if (!parse_gateway_url(url, plan_.host, port, error)) return fail(error);
        plan_.gateway_ports.push_back(port);
      }
      plan_.id_pointer = options_.attach_id_pointer;
      if (options_.sut) use_sut(*options_.sut);
      return attach_simulator();
    }
    std::string error;
    try {
      auto to = topology_options(sc_, run_dir_, sc_.warmup == 0);
      to.sut = options_.sut;
      topo_ = std::make_unique<Topology>(stack::Paths::discover(), std::move(to));
      if (!topo_->up(error)) throw std::runtime_error(error);
    } catch (const std::exception& e) {
      if (interrupted()) return stop_for_signal("while the stack was starting");
      return fail(e.what());
    }
    if (interrupted()) return stop_for_signal("before traffic started");
    for (const auto& c : sc_.expected_crashes) topo_->mark_expected_down(c, true);
    plan_.gateway_ports = topo_->gateway_ports();
    plan_.roster = topo_->roster();
    initial_gateways_ = plan_.gateway_ports.size();
    use_sut(topo_->sut());
    return true;
  }

  // Every gateway is asked and judged through its SUT file (rr-gateway's by default): one code path.
  void use_sut(const Sut& sut) {
    plan_.request = sut.request;
    plan_.answer = sut.answer;
    judging_ = judging_of(sut);
  }

  bool attached() const { return !options_.gateway_urls.empty(); }

  // Attach mode: the decision log from its end as it is now, the scenario's profile on the running simulator.
  bool attach_simulator() {
    decisions_offset_ = options_.attach_decisions.empty() ? 0 : decision_log_lines(options_.attach_decisions);
    std::string error;
    sim_ = attach_to_simulator(options_, sc_, events_, error);
    return error.empty() || fail(error);
  }

  // The warm-up (shared with `up`), then the baseline: the counters after it, which the checker
  // subtracts, and the decision-log lines it left, which are not part of the scenario.
  bool warm_up_phase() {
    if (attached()) {
      // A running gateway has counted whatever came before this run: the checker subtracts it.
      if (judging_.metrics) {
        for (auto port : plan_.gateway_ports) baseline_.push_back(fetch_metrics(port, judging_.metrics->path));
      }
      return true;
    }
    if (sc_.warmup <= 0) return true;
    const WarmupResult w = warm_up(*topo_, sc_, run_dir_, options_.interrupt, plan_.keep);
    if (w.status == WarmupStatus::interrupted) return stop_for_signal("during the warm-up");
    if (!w.summary.empty()) warmup_events_.push_back(w.summary);
    if (w.status == WarmupStatus::failed) return fail(w.error);
    // In broadcast mode the other instances receive the warm-up replies too, a little later than the
    // owner: wait until every copy is counted before taking the baseline.
    const double copies_each = sc_.shared_consumer_group || sc_.reply_mode == "reply-to"
                                   ? 1.0
                                   : static_cast<double>(plan_.gateway_ports.size());
    const double want = static_cast<double>(w.sent) * copies_each;
    proc::wait_until(
        [&] {
          baseline_.clear();
          double seen = 0;
          bool counted = false;  // a SUT without reply counters has nothing to wait for
          for (auto port : plan_.gateway_ports) {
            baseline_.push_back(judging_.metrics ? fetch_metrics(port, judging_.metrics->path) : MetricsScrape{});
            for (const auto cls : gateway_metrics::kTopicReplyClasses) {
              const SutSeries* s = sut_series(judging_, "replies_" + std::string(gateway_metrics::to_string(cls)));
              if (!s) continue;
              counted = true;
              seen += metric_value(baseline_.back().text, s->name, s->label, s->value);
            }
          }
          return !counted || seen >= want || interrupted();
        },
        10s, 100ms);
    decisions_offset_ = count_jsonl(run_dir_ / run_files::kDecisions);
    further_offsets_ = further_decision_offsets(run_dir_);
    return true;
  }

  // Traffic on its own thread, the timeline on another, the progress display on this one.
  void drive(TimelinePlayer& timeline) {
    start_us_ = now_us();
    result_.started_us = start_us_;  // plots and timeline events count from the first request
    TrafficProgress progress;
    auto last_line = std::chrono::steady_clock::now();
    auto tick = [&] {
      if (interrupted()) timeline.stop();
      const auto sent = progress.sent.load();
      const auto answered = progress.answered.load();
      const double elapsed = static_cast<double>(now_us() - start_us_) / 1e6;
      const std::string line = fmt::format("{} | traffic | sent {} answered {} in flight {} | {:.1f}s", sc_.name, sent,
                                           answered, sent - std::min(sent, answered), elapsed);
      if (options_.progress_tty) {
        std::cerr << "\r\033[K" << line << std::flush;
      } else if (std::chrono::steady_clock::now() - last_line > 5s) {
        std::cerr << line << "\n";
        last_line = std::chrono::steady_clock::now();
      }
    };
    std::string traffic_error;
    sample_memory(0);
    // traffic.rounds: each round's requests (indexes continue), then the settle wait and a memory sample;
    // the last round's settle is the run's own (settle()).
    const std::uint64_t planned = planned_requests(plan_);
    for (int k = 0; k < rounds() && traffic_error.empty() && !interrupted(); ++k) {
      TrafficPlan round = plan_;
      if (rounds() > 1) round.only = round_indexes(planned, rounds(), k);
      try {
        auto sent = run_traffic_watched(round, progress, options_.interrupt, tick);
        if (records_.empty()) records_ = std::move(sent);  // one round: no second array of every record
        else records_.insert(records_.end(), std::make_move_iterator(sent.begin()), std::make_move_iterator(sent.end()));
      } catch (const std::exception& e) {
        traffic_error = std::string("traffic: ") + e.what();
      }
      if (k + 1 < rounds() && traffic_error.empty() && !interrupted()) {
        std::cerr << fmt::format("{} | round {}/{} sent, settling\n", sc_.name, k + 1, rounds());
        settle_traffic();
        sample_memory(k + 1);
      }
    }
    if (interrupted()) timeline.stop();
    timeline.wait_played();
    if (!traffic_error.empty()) failures_.push_back(traffic_error);
    events_.push_back(fmt::format("traffic client: {} connection(s) opened, {} idle one(s) closed instead of reused "
                                  "(too old or closed by the server), {} request(s) resent unsent",
                                  progress.connections_opened.load(), progress.stale_discarded.load(),
                                  progress.retried_unsent.load()));
    if (options_.progress_tty) std::cerr << "\r\033[K";
  }

  // traffic.rounds, except for a narrowed run (--only), which sends its few requests at once.
  int rounds() const { return options_.only.empty() ? sc_.rounds : 1; }

  // A memory sample of every gateway process the harness launched (none in attach mode), with the pending
  // gauge as the last settle wait read it (round 0: before the traffic, no gauge).
  void sample_memory(int round) {
    MemorySample s;
    s.round = round;
    s.requests_so_far = records_.size();
    s.timed_out_so_far = static_cast<std::uint64_t>(
        std::count_if(records_.begin(), records_.end(), [](const RequestRecord& r) { return r.outcome == Outcome::timeout; }));
    if (topo_) {
      for (std::size_t i = 0; i < topo_->gateway_count(); ++i) s.rss.push_back(rss_bytes(topo_->gateway(i).process.pid()));
    }
    // Without a pending gauge in the SUT file, memory_returns judges RSS alone.
    if (round > 0 && sut_series(judging_, "pending")) {
      s.pending = in_.pending;
      if (!in_.pending) s.pending_error = in_.pending_detail.empty() ? "not read" : in_.pending_detail;
    }
    memory_.push_back(std::move(s));
  }

  // Waits (with a deadline, sc.settle) until every gateway has no pending request, every request
  // answered ok or timeout has its decision in the simulator's log, and the reply counters have
  // caught up with what the simulator sent; an interrupted run does not wait.
  void settle() {
    in_.events = only_events_;
    in_.events.insert(in_.events.end(), warmup_events_.begin(), warmup_events_.end());
    in_.events.insert(in_.events.end(), events_.begin(), events_.end());
    in_.infra_errors = failures_;
    settle_traffic();
    if (topo_) in_.unexpected_deaths = topo_->unexpected_deaths();
  }

  // The settle wait itself, on what the traffic has sent so far: also run between rounds, while the
  // timeline may still be playing (so it leaves events and failures alone).
  void settle_traffic() {
    in_.scenario = &sc_;
    in_.sut = judging_;
    // Handed over, not copied (a long run's records are held once), and handed back for the next round.
    in_.requests = std::move(records_);
    if (plan_.roster) follow_instances(*plan_.roster, initial_gateways_, plan_.gateway_ports, in_, baseline_);
    in_.gateways = static_cast<int>(plan_.gateway_ports.size());
    in_.shared_consumer_group = sc_.shared_consumer_group;
    in_.reply_mode = sc_.reply_mode;
    in_.gateway_baseline = baseline_;
    decisions_file_ = attached() ? fs::path(options_.attach_decisions) : run_dir_ / run_files::kDecisions;
    proc::wait_until(
        [&] {
          snapshot();
          join_ids_by_nonce(in_);
          // A SUT without a pending gauge settles on the decision log and the answers alone.
          const GatewayFigure pending = sut_pending(in_);
          const bool no_gauge = !pending.not_applicable.empty();
          in_.pending = pending.ok() ? std::optional<double>(pending.value) : std::nullopt;
          in_.pending_detail = no_gauge ? pending.not_applicable : pending.unreadable;
          if (interrupted()) return true;
          return (no_gauge || (pending.ok() && pending.value == 0)) && answered_without_decision(in_) == 0 &&
                 counters_caught_up() && simulator_idle();
        },
        std::chrono::duration_cast<std::chrono::milliseconds>(sc_.settle), 250ms);
    records_ = std::move(in_.requests);
  }

  void snapshot() {
    in_.gateway_metrics = read_instances(plan_.gateway_ports, plan_.roster.get(), in_, [&](std::uint16_t port) {
      // One entry per gateway all the same: the run folder keeps why each was not read.
      return judging_.metrics ? fetch_metrics(port, judging_.metrics->path)
                              : MetricsScrape{{}, "not scraped: the SUT names no metrics"};
    });
    read_decisions_now();
  }

  void read_decisions_now() {
    in_.decisions = DecisionLines{};  // freed first: the old and the new copy of a long log would double the peak
    // Attach mode: the lines the checks read are counted by the same read (the log is parsed once a poll).
    in_.decisions = decisions_file_.empty() ? DecisionLines{}
                                            : read_run_decisions(decisions_file_, decisions_offset_,
                                                                 attached() ? fs::path() : run_dir_, further_offsets_,
                                                                 attached() ? &attached_end_ : nullptr);
  }

  // An unreadable figure never catches up: the wait runs to its deadline and the checks say why.
  bool counters_caught_up() const {
    const auto want = expected_replies(in_);
    using gateway_metrics::ReplyClass;
    // A counter the SUT does not expose has nothing to catch up with.
    auto same = [&](ReplyClass cls, double expected) {
      const GatewayFigure got = sut_counter(in_, "replies_" + std::string(gateway_metrics::to_string(cls)));
      return !got.not_applicable.empty() ||
             (got.ok() && within(got.value, expected, counter_slack(want, gateway_metrics::to_string(cls))));
    };
    return same(ReplyClass::matched, want.matched) && same(ReplyClass::late, want.late) &&
           same(ReplyClass::duplicate, want.duplicate) && same(ReplyClass::unknown, want.unknown) &&
           same(ReplyClass::malformed, want.malformed);
  }

  // The simulator must have nothing left to send (replies waiting on a delay, a reorder window or a
  // worker), or counters could match now and move again a moment later.
  bool simulator_idle() const {
    if (sim_) return sim_->idle();
    return !topo_ || simulators_idle(*topo_);
  }

  // Keeps the evidence in the run folder (the stack is still up: the simulator's stats are read too).
  void collect() {
    if (topo_) {
      const auto stats = http::get(topo_->simulator_control_port(), "/stats", 2s);
      if (stats.ok()) std::ofstream(run_dir_ / run_files::kSimulatorStats) << stats.body << "\n";
    }
    StoredRun stored;
    stored.history = std::move(records_);
    stored.request_body_of = [this](const RequestRecord& r) { return recorded_request_body(plan_, r.index, r.nonce); };
    stored.metrics = in_.gateway_metrics;
    stored.baseline = baseline_;
    RunRecord& r = stored.record;
    in_.memory = memory_;
    in_.sut = judging_;
    static_cast<RunFacts&>(r) = in_;
    r.metrics_errors = scrape_errors(in_.gateway_metrics);
    r.baseline_errors = scrape_errors(baseline_);
    r.decisions = decisions_file_.string();
    r.decisions_offset = decisions_offset_;
    if (attached() && !decisions_file_.empty()) {
      keep_attached_decisions(run_dir_, decisions_file_, decisions_offset_, attached_end_);
      r.decisions_offset = 0;
    }
    r.further_decisions_offsets = further_offsets_;
    r.seed = sc_.seed;
    r.only = options_.only_text;
    r.started_us = result_.started_us;
    r.interrupted = interrupted();
    save_run(run_dir_, stored);
    in_.requests = std::move(stored.history);  // for the checks: the records are held once
  }

  // The checker's verdicts, and the commands that reproduce the run and its first failing requests.
  void check() {
    run_checks_moving(in_, result_);
    add_not_applicable_actions(in_.events, result_);
    if (result_.status != ScenarioStatus::pass && options_.only.empty()) {
      for (std::size_t k = 0; k < result_.failing_requests.size() && k < kReproRequests; ++k) {
        result_.repro_requests.push_back(fmt::format("{} --only {}", result_.repro, result_.failing_requests[k]));
      }
    }
    if (interrupted()) {
      result_.status = ScenarioStatus::interrupted;
      result_.error = fmt::format("interrupted by {} after {:.1f} s of traffic; the checks cover the {} request(s) sent",
                                  signal_name(options_.interrupt->load()),
                                  static_cast<double>(now_us() - start_us_) / 1e6, result_.requests.size());
    }
  }

  Scenario sc_;
  const RunOptions& options_;
  ScenarioResult result_;
  const std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  fs::path run_dir_;
  std::unique_ptr<Topology> topo_;
  TrafficPlan plan_;
  std::size_t initial_gateways_ = 0;  // instances before the timeline added any
  std::vector<MetricsScrape> baseline_;
  std::size_t decisions_offset_ = 0, attached_end_ = 0;  // attach mode: the log's lines when the checks read it
  std::vector<std::size_t> further_offsets_;  // the same for simulator instances 1..
  fs::path decisions_file_;
  std::vector<std::string> only_events_, warmup_events_, events_, failures_;
  std::int64_t start_us_ = 0;
  std::vector<RequestRecord> records_;
  std::vector<MemorySample> memory_;
  SutJudging judging_ = rr_gateway_judging();
  CheckInput in_;
  std::unique_ptr<AttachedSimulator> sim_;
};

}  // namespace

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  return ScenarioRun(scenario, options).run();
}

std::optional<ScenarioResult> replay_run(const fs::path& run_dir, std::string& error) {
  auto stored = load_run(run_dir, error);
  if (!stored) return std::nullopt;
  auto sc = load_scenario(run_dir / run_files::kScenario, error, false);
  if (!sc) return std::nullopt;
  const RunRecord& r = stored->record;
  if (r.seed) sc->seed = *r.seed;
  if (!r.only.empty()) {
    std::vector<std::string> ignored;
    narrow_for_only(*sc, r.only, ignored);
  }
  CheckInput in;
  in.scenario = &*sc;
  in.sut = r.sut;
  in.requests = std::move(stored->history);
  in.decisions = std::move(stored->decisions);
  in.gateway_metrics = stored->metrics;
  in.gateway_baseline = stored->baseline;
  static_cast<RunFacts&>(in) = r;
  join_ids_by_nonce(in);
  ScenarioResult result;
  result.name = sc->name;
  result.path = sc->path;
  result.description = sc->description;
  result.seed = sc->seed;
  result.run_dir = run_dir.string();
  result.started_us = r.started_us;
  result.repro = fmt::format("rr-harness replay {}", run_dir.string());
  run_checks_moving(in, result);
  add_not_applicable_actions(in.events, result);
  return result;
}

}  // namespace rrkit::harness
