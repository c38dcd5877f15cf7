// rr-harness: runs request/reply scenarios end to end on a real Kafka + daprd stack,
// checks every exchange, and reports for people and for CI.
// Exit codes: 0 pass, 1 a check failed, 2 infrastructure error (for replay: a run folder that is
// incomplete or unreadable), 3 usage error,
// 130/143 (128 + signal) when SIGINT/SIGTERM stopped a run (the reports of what ran are written).
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <iostream>
#include <optional>
#include <thread>
#include <sys/utsname.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/build_info.h"
#include "common/json_limits.h"
#include "harness/data_dirs.h"
#include "harness/diff.h"
#include "harness/memory.h"
#include "harness/report.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/setup_cmd.h"
#include "testkit/stack.h"
#include "harness/stack_cli.h"
#include "harness/sut_launch.h"
#include "harness/traffic.h"
#include "harness/up.h"

namespace {

using namespace rrkit::harness;

std::string machine_description() {
  utsname u{};
  uname(&u);
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page = sysconf(_SC_PAGE_SIZE);
  return fmt::format("{} cores, {:.0f} GiB, {} {}", sysconf(_SC_NPROCESSORS_ONLN),
                     static_cast<double>(pages) * static_cast<double>(page) / (1024.0 * 1024 * 1024), u.sysname,
                     u.release);
}

std::string iso_now() { return rrkit::stack::timestamp("%Y-%m-%dT%H:%M:%SZ"); }

// Loads every scenario under paths (each found as harness/data_dirs.h says, so `scenarios` works from
// an install and from anywhere in a clone); prints each problem; returns false if any is invalid.
bool load_all(const std::vector<std::string>& paths, const std::vector<std::string>& tags,
              std::vector<Scenario>& out) {
  std::string error;
  std::vector<std::string> resolved;
  for (const auto& p : paths) resolved.push_back(resolve_data_path(p, self_bin_dir()).string());
  const auto files = find_scenarios(resolved, error);
  if (!error.empty()) {
    std::cerr << "rr-harness: " << error << "\n";
    return false;
  }
  bool ok = true;
  for (const auto& f : files) {
    auto sc = load_scenario(f, error);
    if (!sc) {
      std::cerr << "rr-harness: " << error << "\n";
      ok = false;
      continue;
    }
    if (has_any_tag(*sc, tags)) out.push_back(std::move(*sc));
  }
  if (std::string dup; !check_unique_names(out, dup)) {
    std::cerr << "rr-harness: " << dup << "\n";
    ok = false;
  }
  return ok;
}

// Waits for SIGINT/SIGTERM/SIGHUP (blocked in every thread) for the lifetime of a `run` and records
// the first one; the runner then stops traffic, tears the stack down and writes the reports.
class SignalWatcher {
 public:
  explicit SignalWatcher(std::string doing = "stopping traffic, tearing the stack down, writing the reports")
      : doing_(std::move(doing)), thread_([this] { watch(); }) {}
  ~SignalWatcher() {
    done_ = true;
    thread_.join();
  }
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;
  const std::atomic<int>& received() const { return received_; }

 private:
  void watch() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    const timespec poll{0, 200'000'000};
    while (!done_) {
      const int sig = sigtimedwait(&set, nullptr, &poll);
      if (sig <= 0) continue;
      int none = 0;
      if (received_.compare_exchange_strong(none, sig)) {
        std::cerr << fmt::format("\nrr-harness: {} received: {} (this takes a few seconds)\n",
                                 sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP", doing_);
      } else {
        std::cerr << "rr-harness: already stopping\n";
      }
    }
  }
  std::string doing_;
  std::atomic<int> received_{0};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

// The options `run` and `up` share: where run folders go, and a seed that overrides the scenario's own.
struct FolderAndSeed {
  std::string out_dir = "runs";
  std::uint64_t seed = 0;
  CLI::Option* seed_option = nullptr;

  void add_to(CLI::App* cmd, const std::string& seed_help, const std::string& out_help) {
    seed_option = cmd->add_option("--seed", seed, seed_help);
    cmd->add_option("--out", out_dir, out_help)->capture_default_str();
  }
  std::optional<std::uint64_t> seed_given() const {
    return *seed_option ? std::optional<std::uint64_t>(seed) : std::nullopt;
  }
};

// The scenario selection `run` and `list` share: files or folders, and tags.
void add_selection(CLI::App* cmd, std::vector<std::string>& paths, std::vector<std::string>& tags) {
  cmd->add_option("paths", paths, "Scenario files or folders")->required();
  cmd->add_option("--tag", tags, "Only scenarios with one of these tags (repeatable)");
}

int cmd_run(const std::vector<std::string>& paths, const std::vector<std::string>& tags, RunOptions options,
            const std::string& junit, const std::string& json, const std::string& html) {
  std::vector<Scenario> scenarios;
  if (!load_all(paths, tags, scenarios)) return 3;
  if (scenarios.empty()) {
    std::cerr << "rr-harness: no scenario selected\n";
    return 3;
  }
  SuiteResult suite;
  suite.started_at = iso_now();
  suite.machine = machine_description();
  suite.versions = rrkit::version_map();
  const auto t0 = std::chrono::steady_clock::now();
  SignalWatcher signals;
  options.interrupt = &signals.received();
  for (const auto& sc : scenarios) {
    if (signals.received() != 0) break;  // scenarios not started are not reported
    std::cerr << fmt::format("==> {} (seed {}){}\n", sc.name, options.seed.value_or(sc.seed),
                             sc.description.empty() ? "" : ": " + sc.description);
    ScenarioResult result;
    try {
      result = run_scenario(sc, options);
    } catch (const std::exception& e) {
      // One scenario's failure must not lose the reports of the others.
      result.name = sc.name;
      result.path = sc.path;
      result.seed = options.seed.value_or(sc.seed);
      result.status = ScenarioStatus::error;
      result.error = std::string("rr-harness: ") + e.what();
    }
    if (const auto peak = own_peak_rss_bytes()) result.harness_peak_rss_bytes = static_cast<std::int64_t>(*peak);
    // The report lists failures one by one and a sample of the rest; counts and checks cover every request.
    bound_request_list(result, kReportedRequestSample);
    std::cerr << fmt::format("    {} in {:.1f}s{}\n", to_string(result.status), result.duration_s,
                             result.status == ScenarioStatus::error ? ": " + result.error : "");
    if (result.status != ScenarioStatus::pass) std::cerr << "    reproduce: " << result.repro << "\n";
    for (std::size_t k = 0; k < result.repro_requests.size() && k < result.failing_requests.size(); ++k) {
      std::cerr << "    reproduce request #" << result.failing_requests[k] << ": " << result.repro_requests[k] << "\n";
    }
    suite.scenarios.push_back(std::move(result));
  }
  suite.duration_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  suite.interrupt_signal = signals.received();
  std::filesystem::create_directories(options.out_dir);
  write_json_report(suite, json.empty() ? options.out_dir / "report.json" : std::filesystem::path(json));
  if (!junit.empty()) write_junit_report(suite, junit);
  const auto html_path = html.empty() ? options.out_dir / "report.html" : std::filesystem::path(html);
  write_html_report(suite, html_path);
  print_console_summary(suite, std::cout, isatty(STDOUT_FILENO) != 0);
  std::cout << "HTML report: " << std::filesystem::absolute(html_path).string() << "\n";
  if (suite.interrupt_signal != 0) {
    std::cerr << fmt::format("rr-harness: interrupted; the reports cover the {} scenario(s) that ran (exit {})\n",
                             suite.scenarios.size(), suite.exit_code());
  }
  return suite.exit_code();
}

}  // namespace

int main(int argc, char** argv) {
  // SIGINT/SIGTERM are taken synchronously (sigtimedwait) so that Ctrl-C tears the stack down cleanly;
  // children unblock them again before exec.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
  // Thousands of client connections in flight: lift the soft descriptor limit to the hard one.
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }

  CLI::App app{"rr-harness: run request/reply scenarios end to end on a real Kafka + daprd stack"};
  app.require_subcommand(1);
  app.set_version_flag("--version", rrkit::version_text("rr-harness"));
  int exit_code = 0;

  std::vector<std::string> paths, tags;
  RunOptions options;
  FolderAndSeed run_folder;
  std::string junit, json, html;
  auto* run = app.add_subcommand("run", "Run scenarios (files or folders) and report");
  add_selection(run, paths, tags);
  run_folder.add_to(run, "Seed for every scenario (default: each scenario's own)", "Folder for run folders and reports");
  run->add_option("--junit", junit, "Write a JUnit XML report here");
  run->add_option("--json", json, "Write the JSON report here (default <out>/report.json)");
  run->add_option("--html", html, "Write the HTML report here (default <out>/report.html)");
  run->add_option("--gateway-url", options.gateway_urls,
                  "Attach mode: send traffic to this running gateway (repeatable) instead of launching a stack");
  run->add_option("--simulator-url", options.simulator_url,
                  "Attach mode: a running rr-simulator's control API (http://HOST:PORT); the scenario's profiles, "
                  "set_profile and pause/resume actions are applied there");
  run->add_option("--decisions", options.attach_decisions,
                  "Attach mode: that simulator's decision log (read from its end at the start of the run)");
  run->add_option("--id-pointer", options.attach_id_pointer,
                  "Attach mode: JSON pointer to the correlation id in the gateway's answer")->capture_default_str();
  std::string sut_flag;
  run->add_option("--sut", sut_flag,
                  "The system under test: a SUT file saying how to start, ask and judge the gateway (default: "
                  "$RRKIT_SUT, else sut/rr-gateway.yaml of this install or clone)");
  run->add_flag("--compress", options.compress_run_folder,
                "Gzip each run folder's history and decision logs when the scenario ends (replay and diff read "
                "them as they are)");
  std::string only;
  run->add_option("--only", only,
                  "Send only these request indexes (\"137\", \"3,9,40-45\"), each with the key it has in the full "
                  "run, so that it meets the same faults; whole-run assertions are not judged");
  run->callback([&] {
    if (!only.empty()) {
      std::string error;
      auto list = parse_index_list(only, error);
      if (!list) {
        std::cerr << "rr-harness: --only: " << error << "\n";
        exit_code = 3;
        return;
      }
      options.only = std::move(*list);
      options.only_text = only;
    }
    for (const auto& url : options.gateway_urls) {
      std::string host, error;
      std::uint16_t port = 0;
      if (!parse_gateway_url(url, host, port, error)) {
        std::cerr << "rr-harness: --gateway-url: " << error << "\n";
        exit_code = 3;
        return;
      }
    }
    if (options.gateway_urls.empty() && (!options.simulator_url.empty() || !options.attach_decisions.empty())) {
      std::cerr << "rr-harness: --simulator-url and --decisions belong to attach mode: give --gateway-url too\n";
      exit_code = 3;
      return;
    }
    if (!options.simulator_url.empty()) {
      std::string host, error;
      std::uint16_t port = 0;
      if (!parse_gateway_url(options.simulator_url, host, port, error)) {
        std::cerr << "rr-harness: --simulator-url: " << error << "\n";
        exit_code = 3;
        return;
      }
    }
    try {
      (void)nlohmann::json::json_pointer(options.attach_id_pointer);
    } catch (const nlohmann::json::exception& e) {
      std::cerr << "rr-harness: --id-pointer: \"" << options.attach_id_pointer << "\" is not a JSON pointer ("
                << e.what() << ")\n";
      exit_code = 3;
      return;
    }
    // In attach mode too: the SUT file says how to ask and judge the gateway, and its contract goes into
    // every profile sent to the attached simulator.
    {
      auto choice = choose_sut(sut_flag, std::getenv("RRKIT_SUT"), self_bin_dir());
      if (!choice.load.ok()) {
        std::cerr << "rr-harness: " << choice.load.error << "\n";
        exit_code = 3;
        return;
      }
      options.sut = std::make_shared<const Sut>(std::move(*choice.load.sut));
      options.sut_arg = sut_flag;
    }
    options.seed = run_folder.seed_given();
    options.out_dir = run_folder.out_dir;
    options.progress_tty = isatty(STDERR_FILENO) != 0;
    exit_code = cmd_run(paths, tags, options, junit, json, html);
  });

  std::vector<std::string> list_paths, list_tags;
  std::string list_format = "text";
  auto* list = app.add_subcommand("list", "List scenarios with their tags and descriptions");
  add_selection(list, list_paths, list_tags);
  list->add_option("--format", list_format,
                   "text, or json: one array of {name, path, tags, description} (the build registers the `ci` "
                   "scenarios as ctest entries from it)")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  list->callback([&] {
    std::vector<Scenario> scenarios;
    // Invalid files are reported on stderr and make the exit code 3; the valid ones are still listed.
    const bool ok = load_all(list_paths, list_tags, scenarios);
    if (list_format == "json") {
      auto all = nlohmann::json::array();
      for (const auto& s : scenarios) {
        all.push_back({{"name", s.name},
                       {"path", std::filesystem::absolute(s.path).lexically_normal().string()},
                       {"tags", s.tags},
                       {"description", s.description}});
      }
      std::cout << rrkit::safe_dump(all, 2) << "\n";
    } else {
      for (const auto& s : scenarios) {
        std::string t;
        for (const auto& tag : s.tags) t += (t.empty() ? "" : ",") + tag;
        std::cout << fmt::format("{:<28} {:<14} {}\n", s.name, t, s.description);
      }
    }
    exit_code = ok ? 0 : 3;
  });

  std::vector<std::string> validate_paths;
  auto* validate = app.add_subcommand("validate", "Check scenario files without running them");
  validate->add_option("paths", validate_paths, "Scenario files or folders")->required();
  validate->callback([&] {
    std::vector<Scenario> scenarios;
    const bool ok = load_all(validate_paths, {}, scenarios);
    std::cout << scenarios.size() << " scenario(s) valid" << (ok ? "" : "; some are not (see above)") << "\n";
    exit_code = ok ? 0 : 3;
  });

  std::string replay_dir;
  auto* replay = app.add_subcommand("replay", "Re-run the checker on a stored run folder");
  replay->add_option("run_dir", replay_dir, "A run folder (runs/<scenario>-seed<N>)")->required();
  replay->callback([&] {
    std::string error;
    auto result = replay_run(replay_dir, error);
    if (!result) {
      // An incomplete or unreadable run folder cannot be judged: like an infrastructure error, never a pass.
      std::cerr << "rr-harness: replay: " << error << "\n";
      exit_code = 2;
      return;
    }
    SuiteResult suite;
    suite.started_at = iso_now();
    suite.scenarios.push_back(std::move(*result));
    print_console_summary(suite, std::cout, isatty(STDOUT_FILENO) != 0);
    exit_code = suite.exit_code();
  });

  std::string diff_a, diff_b;
  std::size_t diff_max = 50;
  auto* diff = app.add_subcommand(
      "diff", "Compare two run folders request by request (decision, outcome) and check by check; exit 1 when they differ");
  diff->add_option("run_a", diff_a, "A run folder")->required();
  diff->add_option("run_b", diff_b, "Another run folder (e.g. the same scenario and seed, run again)")->required();
  diff->add_option("--max-lines", diff_max, "At most this many differences listed (all are counted)")
      ->capture_default_str();
  diff->callback([&] {
    std::string error;
    const auto d = diff_runs(diff_a, diff_b, error);
    if (!d) {
      std::cerr << "rr-harness: " << error << "\n";
      exit_code = 3;
      return;
    }
    for (std::size_t i = 0; i < d->lines.size() && i < diff_max; ++i) std::cout << d->lines[i] << "\n";
    if (d->lines.size() > diff_max) std::cout << fmt::format("... {} more\n", d->lines.size() - diff_max);
    std::cout << fmt::format(
        "{} request(s) in A, {} in B, {} compared: {} decision(s) differ, {} outcome(s) differ; {} check verdict(s) differ\n",
        d->requests_a, d->requests_b, d->compared, d->decisions_differ, d->outcomes_differ, d->checks_differ);
    exit_code = d->identical() ? 0 : 1;
  });

  std::string up_file;
  FolderAndSeed up_folder;
  auto* up = app.add_subcommand("up", "Bring a scenario's whole stack up (Kafka, simulator with its profile, gateways with "
                                      "daprd) and leave it running for manual requests, until Ctrl-C or `rr-harness down`");
  up->add_option("scenario", up_file, "One scenario file")->required();
  up_folder.add_to(up, "Seed (default: the scenario's own)", "Folder for the run folder (<out>/<name>-up-seed<N>)");
  up->callback([&] {
    std::string error;
    auto sc = load_scenario(resolve_data_path(up_file, self_bin_dir()), error);
    if (!sc) {
      std::cerr << "rr-harness: " << error << "\n";
      exit_code = 3;
      return;
    }
    if (const auto seed = up_folder.seed_given()) sc->seed = *seed;
    SignalWatcher signals("tearing the stack down");
    exit_code = scenario_up(*sc, up_folder.out_dir, signals.received(), std::cerr);
  });
  auto* down = app.add_subcommand("down", "Stop the stack that `rr-harness up` left running");
  down->callback([&] { exit_code = scenario_down(up_state_file(), std::cerr); });

  auto* sut_cmd = app.add_subcommand("sut", "Work with SUT files (the description of a gateway under test)");
  sut_cmd->require_subcommand(1);
  std::string sut_file;
  auto* sut_check = sut_cmd->add_subcommand("check", "Validate a SUT file and print its instance 1, expanded");
  sut_check->add_option("file", sut_file, "A SUT file")->required();
  sut_check->callback([&] {
    const auto load = load_sut(sut_file);
    if (!load.ok()) {
      std::cerr << "rr-harness: " << load.error << "\n";
      exit_code = 3;
      return;
    }
    std::cout << describe_sut(*load.sut, self_bin_dir());
  });

  SetupOptions setup_options;
  auto* setup = app.add_subcommand(
      "setup", "Fetch the stack into the set-up cache: Kafka's jars (Maven) and daprd (built with Go); idempotent, "
               "runs scripts/setup.sh of this install or clone");
  setup->add_option("--cache", setup_options.cache, "The set-up cache (default: $RRKIT_CACHE, else ~/.cache/rrkit)");
  setup->add_flag("--packages", setup_options.packages,
                  "Also install the Debian packages a clone's build needs (apt, as root or through sudo)");
  setup->callback([&] {
    std::string error;
    exit_code = run_setup(setup_options, self_bin_dir(), error);
    if (!error.empty()) std::cerr << "rr-harness: " << error << "\n";
  });

  add_stack_command(app, exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 3;
  } catch (const std::exception& e) {
    std::cerr << "rr-harness: " << e.what() << "\n";
    return 2;
  }
  return exit_code;
}
