#pragma once
// Attach mode: traffic to gateways the harness did not launch, the scenario's fault profiles applied to a
// running rr-simulator through its control API (--simulator-url), and its decision log read from the file
// it writes (--decisions). Timeline actions that need a launched process cannot be played there: they are
// reported not applicable, never passed and never silently skipped.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/result.h"
#include "harness/scenario.h"

namespace rrkit::harness {

struct RunOptions;

// A running rr-simulator's control API. Every profile sent carries the SUT's `contract:` section, as a
// launched simulator's does: the gateway under test reads no other replies.
class AttachedSimulator {
 public:
  AttachedSimulator(std::string host, std::uint16_t port, std::string contract_yaml)
      : host_(std::move(host)), port_(port), contract_yaml_(std::move(contract_yaml)) {}

  // GET /profile as JSON text, kept so that the run can leave the simulator as it found it.
  bool read_profile(std::string& profile_json, std::string& error) const;
  bool set_profile(const std::string& yaml, std::string& error);
  // Puts a profile read by read_profile back as it was (its contract included).
  bool restore_profile(const std::string& profile_json, std::string& error);
  bool pause(std::string& error);
  bool resume(std::string& error);
  // Nothing left to send (no reply waiting on a delay, a reorder window or a worker); false when unreadable.
  bool idle() const;
  bool paused_by_run() const { return paused_; }
  std::string url() const;

  // After the run: the profile the simulator had before it, and running if the run left it paused. What
  // could not be put back is said in events (and on stderr): the next run on it would meet other faults.
  void leave_as_found(std::vector<std::string>& events);

 private:
  bool put_profile_text(const std::string& body, const std::string& content_type, std::string& error);
  bool post_control(const std::string& target, std::string& error);  // POST {} to /pause or /resume
  std::string host_;
  std::uint16_t port_;
  std::string contract_yaml_;
  bool paused_ = false;
  std::string found_profile_;  // GET /profile before the run (JSON)
  friend std::unique_ptr<AttachedSimulator> attach_to_simulator(const RunOptions&, const Scenario&,
                                                                std::vector<std::string>&, std::string&);
};

// Attach mode's start: without --simulator-url, null (and an event says the scenario's profile is not
// applied); with it, the simulator's current profile kept and the scenario's applied. null with error set
// when the URL is unusable or the simulator refuses.
std::unique_ptr<AttachedSimulator> attach_to_simulator(const RunOptions& options, const Scenario& sc,
                                                       std::vector<std::string>& events, std::string& error);

// What became of a timeline action in attach mode.
enum class AttachedAction { applied, failed, not_applicable };

// Plays one timeline action on the attached simulator (sim may be null: no --simulator-url); actions on a
// launched process (daprd, Kafka, a gateway process, the simulator process) are not_applicable, with why.
AttachedAction apply_attached(const TimelineAction& a, AttachedSimulator* sim, std::string& error);

// The event line of an action reported not applicable; add_not_applicable_actions finds it again, so that
// `rr-harness replay` of an attached run reports the same checks.
std::string not_applicable_event(double at_s, const TimelineAction& a, const std::string& why);
void add_not_applicable_actions(const std::vector<std::string>& events, ScenarioResult& out);

// The command that reproduces a run: every flag it needs (seed, SUT, the attached gateways, simulator and
// decision log, --id-pointer when not the default, --only), each argument quoted for a POSIX shell when needed.
std::string repro_command(const RunOptions& options, const std::string& scenario_path, std::uint64_t seed);

// Quotes a word for a POSIX shell when it holds anything but [A-Za-z0-9_./:=@%+,-].
std::string shell_word(const std::string& word);

// An attached simulator's log goes on after the run (the next run, the profile put back): the run folder keeps
// this run's lines as its own copy, which `rr-harness replay` reads first: the lines after `offset` and before
// `end` (both counted as decision_log_lines counts), i.e. those the checks read, not what came after them.
void keep_attached_decisions(const std::filesystem::path& run_dir, const std::filesystem::path& log, std::size_t offset,
                             std::size_t end);

// Lines in a decision log now (0 when there is no file yet): an attached run reads only what follows.
std::size_t decision_log_lines(const std::string& file);

}  // namespace rrkit::harness
