#include "harness/attach.h"

#include <fstream>
#include <iostream>

#include <fmt/format.h>

#include "common/json_limits.h"
#include "harness/jsonl_file.h"
#include "harness/run_folder.h"
#include "harness/runner.h"
#include "harness/sut_launch.h"
#include "harness/timeline_action.h"
#include "testkit/http_client.h"

namespace rrkit::harness {

using namespace std::chrono_literals;

namespace {

std::string failure_text(const http::Response& r) {
  return r.ec ? r.ec.message() : fmt::format("HTTP {} {}", r.status, r.body);
}

// The marker add_not_applicable_actions looks for in an event line.
constexpr const char* kNotApplicable = " NOT APPLICABLE: ";

// One call to the simulator's control API.
http::Response control_call(const std::string& host, std::uint16_t port, const char* method, const std::string& target,
                            std::string body, std::chrono::milliseconds timeout, const std::string& content_type = "") {
  http::Request req;
  req.method = method;
  req.host = host;
  req.port = port;
  req.target = target;
  req.body = std::move(body);
  req.timeout = timeout;
  if (!content_type.empty()) req.content_type = content_type;
  return http::call(req);
}

}  // namespace

std::string AttachedSimulator::url() const { return fmt::format("http://{}:{}", host_, port_); }

bool AttachedSimulator::read_profile(std::string& profile_json, std::string& error) const {
  const auto r = control_call(host_, port_, "GET", "/profile", "", 5s);
  if (!r.ok()) {
    error = fmt::format("simulator {}: GET /profile failed: {}", url(), failure_text(r));
    return false;
  }
  profile_json = r.body;
  return true;
}

bool AttachedSimulator::put_profile_text(const std::string& body, const std::string& content_type, std::string& error) {
  const auto r = control_call(host_, port_, "PUT", "/profile", body, 5s, content_type);
  if (!r.ok()) {
    error = fmt::format("simulator {} rejected the profile: {}", url(), failure_text(r));
    return false;
  }
  return true;
}

bool AttachedSimulator::set_profile(const std::string& yaml, std::string& error) {
  const auto merged = profile_with_contract(yaml, contract_yaml_, error);
  if (!merged) return false;
  return put_profile_text(merged->empty() ? "{}\n" : *merged, "application/yaml", error);
}

bool AttachedSimulator::restore_profile(const std::string& profile_json, std::string& error) {
  return put_profile_text(profile_json, "application/json", error);
}

bool AttachedSimulator::post_control(const std::string& target, std::string& error) {
  const auto r = control_call(host_, port_, "POST", target, "{}", 5s);
  if (!r.ok()) {
    error = fmt::format("simulator {}: POST {} failed: {}", url(), target, failure_text(r));
    return false;
  }
  return true;
}

bool AttachedSimulator::pause(std::string& error) {
  if (!post_control("/pause", error)) return false;
  paused_ = true;
  return true;
}

bool AttachedSimulator::resume(std::string& error) {
  if (!post_control("/resume", error)) return false;
  paused_ = false;
  return true;
}

bool AttachedSimulator::idle() const {
  const auto r = control_call(host_, port_, "GET", "/stats", "", 1s);
  if (!r.ok()) return false;
  const auto j = parse_bounded(r.body);
  return j.value.is_object() && j.value.value("in_flight", 0) == 0 && j.value.value("queued", 0) == 0;
}

void AttachedSimulator::leave_as_found(std::vector<std::string>& events) {
  std::string error;
  if (paused_ && !resume(error)) {
    events.push_back("attach: could not resume the simulator the run paused: " + error);
    std::cerr << "rr-harness: " << events.back() << "\n";
  }
  if (!found_profile_.empty() && !restore_profile(found_profile_, error)) {
    events.push_back("attach: could not put the simulator's own profile back: " + error);
    std::cerr << "rr-harness: " << events.back() << "\n";
  }
}

std::unique_ptr<AttachedSimulator> attach_to_simulator(const RunOptions& options, const Scenario& sc,
                                                       std::vector<std::string>& events, std::string& error) {
  if (options.simulator_url.empty()) {
    if (!sc.profile_yaml.empty()) {
      events.push_back("attach: no --simulator-url, so the scenario's fault profile was not applied");
    }
    return nullptr;
  }
  std::string host;
  std::uint16_t port = 0;
  if (!parse_gateway_url(options.simulator_url, host, port, error)) {
    error = "--simulator-url: " + error;
    return nullptr;
  }
  auto sim = std::make_unique<AttachedSimulator>(host, port, options.sut ? options.sut->contract_yaml : std::string());
  if (!sim->read_profile(sim->found_profile_, error)) return nullptr;
  if (!sim->set_profile(sc.profile_yaml, error)) {
    sim->found_profile_.clear();
    return nullptr;
  }
  events.push_back("attach: the scenario's profile was applied to the simulator at " + sim->url());
  return sim;
}

AttachedAction apply_attached(const TimelineAction& a, AttachedSimulator* sim, std::string& error) {
  const bool through_control_api =
      a.action == ActionKind::set_profile || a.action == ActionKind::pause_simulator ||
      a.action == ActionKind::resume_simulator;
  if (!through_control_api) {
    error = "attach mode: the harness did not launch the process this action acts on";
    return AttachedAction::not_applicable;
  }
  if (!sim) {
    error = "attach mode without --simulator-url: no simulator control API to act through";
    return AttachedAction::not_applicable;
  }
  bool ok = false;
  if (a.action == ActionKind::set_profile) ok = sim->set_profile(a.profile_yaml, error);
  if (a.action == ActionKind::pause_simulator) ok = sim->pause(error);
  if (a.action == ActionKind::resume_simulator) ok = sim->resume(error);
  return ok ? AttachedAction::applied : AttachedAction::failed;
}

std::string not_applicable_event(double at_s, const TimelineAction& a, const std::string& why) {
  return fmt::format("t={:.2f}s {}{}{}{}", at_s, to_string(a.action),
                     info(a.action).uses_target ? fmt::format(" gateway {}", a.target) : "", kNotApplicable, why);
}

void add_not_applicable_actions(const std::vector<std::string>& events, ScenarioResult& out) {
  for (const auto& e : events) {
    const auto mark = e.find(kNotApplicable);
    if (mark == std::string::npos) continue;
    CheckResult c;
    c.name = "timeline: " + e.substr(0, mark);
    c.state = CheckState::not_applicable;
    c.message = e.substr(mark + std::char_traits<char>::length(kNotApplicable));
    out.checks.push_back(std::move(c));
  }
}

std::string shell_word(const std::string& word) {
  const bool plain = !word.empty() && word.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                            "0123456789_./:=@%+,-") == std::string::npos;
  if (plain) return word;
  std::string quoted = "'";
  for (const char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string repro_command(const RunOptions& options, const std::string& scenario_path, std::uint64_t seed) {
  std::string line = fmt::format("{} run {} --seed {}", options.self_command, shell_word(scenario_path), seed);
  auto flag = [&](const char* name, const std::string& value) { line += fmt::format(" {} {}", name, shell_word(value)); };
  if (!options.sut_arg.empty()) flag("--sut", options.sut_arg);
  for (const auto& url : options.gateway_urls) flag("--gateway-url", url);
  if (!options.simulator_url.empty()) flag("--simulator-url", options.simulator_url);
  if (!options.attach_decisions.empty()) flag("--decisions", options.attach_decisions);
  if (!options.gateway_urls.empty() && options.attach_id_pointer != RunOptions{}.attach_id_pointer) {
    flag("--id-pointer", options.attach_id_pointer);
  }
  if (!options.only.empty()) flag("--only", options.only_text);
  return line;
}

void keep_attached_decisions(const std::filesystem::path& run_dir, const std::filesystem::path& log, std::size_t offset,
                             std::size_t end) {
  std::ofstream out(run_dir / run_files::kDecisions);
  std::size_t seen = 0;
  std::string ignored;
  // Copied line by line as read_decisions reads them (lines that parse, after the offset): never held whole.
  for_each_jsonl_line(
      log,
      [&](std::string& line) {
        if (line.empty() || !parse_bounded(line).ok() || seen++ < offset || seen > end) return;
        out << line << "\n";
      },
      ignored);
}

std::size_t decision_log_lines(const std::string& file) {
  // Counted as read_decisions counts (lines that parse), so that the offset skips exactly what was there.
  return count_jsonl(file);
}

}  // namespace rrkit::harness
