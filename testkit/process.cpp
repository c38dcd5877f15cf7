#include "testkit/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>
#include <map>
#include <mutex>

extern char** environ;

namespace rrkit::proc {
namespace {

// Exit statuses of the children we reaped, by pid. A record outlives the reaping on purpose: it is
// what stops a later signal_group() from hitting whoever gets the pid next. It goes when spawn()
// hands the same pid to a new child of ours, whose fate the old record must not describe.
std::mutex g_status_mutex;
std::map<pid_t, int>& reaped() {
  static std::map<pid_t, int> statuses;
  return statuses;
}

bool is_reaped(pid_t pid) {
  std::lock_guard lock(g_status_mutex);
  return reaped().count(pid) > 0;
}

// True when the process is in state Z (zombie) or does not exist.
bool is_zombie_or_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close_paren = content.rfind(')');
  if (close_paren == std::string::npos || close_paren + 2 >= content.size()) return true;
  return content[close_paren + 2] == 'Z';
}

enum class ReapState { reaped, running, not_our_child };

ReapState try_reap(pid_t pid) {
  {
    std::lock_guard lock(g_status_mutex);
    if (reaped().count(pid)) return ReapState::reaped;
  }
  int status = 0;
  const pid_t r = waitpid(pid, &status, WNOHANG);
  if (r == pid) {
    std::lock_guard lock(g_status_mutex);
    reaped()[pid] = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return ReapState::reaped;
  }
  return r == 0 ? ReapState::running : ReapState::not_our_child;
}

}  // namespace

pid_t spawn(const SpawnSpec& spec, std::string& error) {
  // An inherited SIG_IGN for SIGCHLD would make the kernel reap children itself and lose
  // their exit statuses, which the launcher needs to tell a crash from a clean exit.
  ::signal(SIGCHLD, SIG_DFL);
  if (spec.argv.empty()) {
    error = spec.name + ": empty command";
    return -1;
  }
  int log_fd = -1;
  if (!spec.log_file.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(spec.log_file.parent_path(), ec);
    log_fd = ::open(spec.log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log_fd < 0) {
      error = spec.name + ": cannot open log " + spec.log_file.string() + ": " + std::strerror(errno);
      return -1;
    }
  }
  // Everything the child needs is prepared before fork: after fork only async-signal-safe calls.
  std::vector<std::string> env_strings;
  std::map<std::string, std::string> overrides(spec.env.begin(), spec.env.end());
  for (char** e = environ; *e; ++e) {
    std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos && overrides.count(kv.substr(0, eq))) continue;
    env_strings.push_back(std::move(kv));
  }
  for (const auto& [k, v] : overrides) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argvp;
  for (auto& a : args) argvp.push_back(a.data());
  argvp.push_back(nullptr);
  const std::string cwd = spec.cwd.string();
  const pid_t parent = ::getpid();
  const bool die_with_parent = spec.die_with_parent;

  // All signals stay blocked across fork until the child has dropped the parent's handlers (below).
  sigset_t all, parent_mask;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &parent_mask);
  const pid_t pid = ::fork();
  if (pid != 0) ::pthread_sigmask(SIG_SETMASK, &parent_mask, nullptr);
  if (pid < 0) {
    error = spec.name + ": fork failed: " + std::strerror(errno);
    if (log_fd >= 0) ::close(log_fd);
    return -1;
  }
  if (pid == 0) {
    ::setpgid(0, 0);
    if (die_with_parent) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != parent) ::_exit(125);  // the launcher died before prctl took effect
    }
    // Until exec the child would run the parent's signal handlers: a SIGTERM sent now (a stop()
    // right after spawn) would run, say, a test framework's handler in this copy, which then reports
    // a failure as if it were the parent. Signals are blocked since before fork, so none is lost:
    // one already sent is delivered with the default action once the mask is cleared below. exec
    // resets caught signals anyway; ignored ones stay ignored.
    for (int s = 1; s < NSIG; ++s) {
      struct sigaction current {};
      if (::sigaction(s, nullptr, &current) == 0 && current.sa_handler != SIG_IGN && current.sa_handler != SIG_DFL) {
        ::signal(s, SIG_DFL);
      }
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0) ::dup2(devnull, 0);
    if (log_fd >= 0) {
      ::dup2(log_fd, 1);
      ::dup2(log_fd, 2);
    }
    if (!cwd.empty() && ::chdir(cwd.c_str()) != 0) ::_exit(126);
    ::execvpe(argvp[0], argvp.data(), envp.data());
    ::_exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent, so the group exists before we signal it
  {
    // The kernel reuses pids: a record left by an earlier child with this pid would report the new
    // one dead at once. (Nothing can have reaped the new child yet: only its pid leads to waitpid.)
    std::lock_guard lock(g_status_mutex);
    reaped().erase(pid);
  }
  if (log_fd >= 0) ::close(log_fd);
  return pid;
}

bool alive(pid_t pid) {
  if (pid <= 0) return false;
  switch (try_reap(pid)) {
    case ReapState::reaped:
      return false;
    case ReapState::running:
      // Our child: only waitpid is authoritative. /proc shows a multi-threaded process (a JVM)
      // as a zombie while its other threads are still exiting and before it can be reaped.
      return true;
    case ReapState::not_our_child:
      break;
  }
  return ::kill(pid, 0) == 0 && !is_zombie_or_gone(pid);
}

bool signal_group(pid_t pid, int sig) {
  // A reaped child's pid may belong to anyone by now.
  if (pid <= 0 || is_reaped(pid)) return false;
  if (::kill(-pid, sig) == 0) return true;
  return ::kill(pid, sig) == 0;
}

bool wait_gone(pid_t pid, std::chrono::milliseconds timeout) {
  return wait_until([pid] { return !alive(pid); }, timeout, std::chrono::milliseconds(20));
}

bool stop(pid_t pid, std::chrono::milliseconds grace) {
  if (!alive(pid)) return true;
  signal_group(pid, SIGCONT);  // a paused (SIGSTOP) process cannot act on SIGTERM
  signal_group(pid, SIGTERM);
  if (wait_gone(pid, grace)) {
    signal_group(pid, SIGKILL);  // stragglers in the group
    return true;
  }
  signal_group(pid, SIGKILL);
  wait_gone(pid, std::chrono::milliseconds(5000));
  return false;
}

std::optional<Identity> identity(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  const std::string dir = "/proc/" + std::to_string(pid);
  std::ifstream stat(dir + "/stat");
  if (!stat) return std::nullopt;
  const std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // The command name (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const auto close_paren = content.rfind(')');
  if (close_paren == std::string::npos) return std::nullopt;
  std::istringstream fields(content.substr(close_paren + 1));
  std::string field;
  for (int n = 3; n <= 22; ++n) {
    if (!(fields >> field)) return std::nullopt;
  }
  Identity id;
  const auto [end, ec] = std::from_chars(field.data(), field.data() + field.size(), id.start_time);
  if (ec != std::errc() || end != field.data() + field.size()) return std::nullopt;
  std::error_code fs_ec;
  id.exe = std::filesystem::read_symlink(dir + "/exe", fs_ec).string();
  if (fs_ec) return std::nullopt;
  constexpr std::string_view kDeleted = " (deleted)";
  if (id.exe.size() > kDeleted.size() && id.exe.ends_with(kDeleted)) id.exe.resize(id.exe.size() - kDeleted.size());
  return id;
}

int exit_status(pid_t pid) {
  try_reap(pid);
  std::lock_guard lock(g_status_mutex);
  const auto it = reaped().find(pid);
  return it == reaped().end() ? -1 : it->second;
}

namespace testing {
void record_reaped(pid_t pid, int status) {
  std::lock_guard lock(g_status_mutex);
  reaped()[pid] = status;
}
void forget_reaped(pid_t pid) {
  std::lock_guard lock(g_status_mutex);
  reaped().erase(pid);
}
}  // namespace testing

}  // namespace rrkit::proc
