#include "harness/setup_cmd.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "harness/data_dirs.h"

namespace rrkit::harness {

namespace fs = std::filesystem;

std::vector<std::string> setup_argv(const fs::path& script, const SetupOptions& options) {
  std::vector<std::string> argv = {"bash", script.string()};
  if (!options.packages) argv.push_back("--stack-only");
  return argv;
}

int run_setup(const SetupOptions& options, const fs::path& bin_dir, std::string& err) {
  const auto script = find_data_path(fs::path("scripts") / "setup.sh", bin_dir);
  if (!script) {
    err = "setup: scripts/setup.sh not found; looked at:";
    for (const auto& p : data_candidates(fs::path("scripts") / "setup.sh", bin_dir)) err += "\n  " + p.string();
    return 2;
  }
  const auto args = setup_argv(*script, options);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid < 0) {
    err = std::string("setup: fork: ") + std::strerror(errno);
    return 2;
  }
  if (pid == 0) {
    // rr-harness blocks these signals for its own watcher; the script must get Ctrl-C as usual.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (!options.cache.empty()) setenv("RRKIT_CACHE", options.cache.c_str(), 1);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) {
      err = std::string("setup: waitpid: ") + std::strerror(errno);
      return 2;
    }
  }
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 127) err = "setup: could not run bash " + script->string();
    return WEXITSTATUS(status);
  }
  err = "setup: " + script->string() + " was stopped by signal " + std::to_string(WTERMSIG(status));
  return 128 + WTERMSIG(status);
}

}  // namespace rrkit::harness
