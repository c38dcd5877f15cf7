#pragma once
// Child processes for the stack launcher: each child runs in its own process
// group with stdout+stderr captured to a log file, so that one signal stops it
// and everything it started, and nothing is left behind.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace rrkit::proc {

struct SpawnSpec {
  std::string name;
  std::vector<std::string> argv;  // argv[0] is the program (PATH is searched)
  std::vector<std::pair<std::string, std::string>> env;  // added to / overriding the parent's
  std::filesystem::path log_file;  // stdout and stderr, appended
  std::filesystem::path cwd;       // empty: inherit
  // The child gets SIGTERM when the thread that spawned it ends (prctl PR_SET_PDEATHSIG), so a
  // launcher that crashes or is killed leaves no orphan behind. Off for detached stacks. The
  // spawning thread must therefore outlive the child.
  bool die_with_parent = true;
};

// Starts the child; returns its pid (> 0), or -1 with a message in error.
pid_t spawn(const SpawnSpec& spec, std::string& error);

// True while the process exists and is not a zombie.
bool alive(pid_t pid);

// Sends sig to the child's whole process group. Refuses (false) a pid whose child we already
// reaped: the kernel may have given it to an unrelated process. False also when nothing got it.
bool signal_group(pid_t pid, int sig);

// Waits until the process is gone (reaping it when it is our child). False on timeout.
bool wait_gone(pid_t pid, std::chrono::milliseconds timeout);

// SIGTERM to the group, then SIGKILL after grace. True when it exited within grace.
bool stop(pid_t pid, std::chrono::milliseconds grace);

// Exit status of a reaped child of ours, when known (-1 otherwise); a signal death is 128+sig.
// Known until spawn() gives the pid to a new child.
int exit_status(pid_t pid);

// What tells a process apart from a later one with the same pid: its start time (clock ticks after
// boot, /proc/PID/stat field 22) and its executable (/proc/PID/exe; " (deleted)" dropped, so a
// binary replaced on disk while it runs still matches its path).
struct Identity {
  std::uint64_t start_time = 0;
  std::string exe;
  bool operator==(const Identity&) const = default;
};

// The identity of a running process; nullopt when it is gone or cannot be inspected (another user's).
std::optional<Identity> identity(pid_t pid);

namespace testing {
// Pid reuse cannot be arranged in a test: these plant and remove the record reaping leaves behind.
void record_reaped(pid_t pid, int status);
void forget_reaped(pid_t pid);
}  // namespace testing

// Polls pred every `poll` until it holds or the deadline passes.
template <class Pred>
bool wait_until(Pred pred, std::chrono::milliseconds timeout,
                std::chrono::milliseconds poll = std::chrono::milliseconds(50));

}  // namespace rrkit::proc

#include <thread>
template <class Pred>
bool rrkit::proc::wait_until(Pred pred, std::chrono::milliseconds timeout, std::chrono::milliseconds poll) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(poll);
  }
}
