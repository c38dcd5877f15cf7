#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>

#include "testkit/process.h"

extern char** environ;

namespace process_test {

namespace proc = rrkit::proc;
using namespace std::chrono_literals;

namespace {

proc::SpawnSpec sleeper() {
  proc::SpawnSpec spec;
  spec.name = "sleeper";
  spec.argv = {"sleep", "60"};
  return spec;
}

// The pid the kernel hands out next (pids are allocated upwards from the last one).
pid_t next_pid() {
  std::ifstream in("/proc/sys/kernel/ns_last_pid");
  long last = -1;
  in >> last;
  return static_cast<pid_t>(last + 1);
}

// A process that is ours to wait for but unknown to rrkit::proc, standing in for "whoever got the pid".
pid_t start_unrelated_sleep() {
  pid_t pid = -1;
  char arg0[] = "sleep";
  char arg1[] = "60";
  char* argv[] = {arg0, arg1, nullptr};
  REQUIRE(::posix_spawnp(&pid, "sleep", nullptr, nullptr, argv, environ) == 0);
  return pid;
}

bool still_running(pid_t pid) {
  int status = 0;
  return ::waitpid(pid, &status, WNOHANG) == 0;
}

}  // namespace

TEST_CASE("process: exit statuses of reaped children, and no signal after the reaping", "[process]") {
  std::string error;
  auto spec = sleeper();
  spec.argv = {"sh", "-c", "exit 3"};
  const pid_t quick = proc::spawn(spec, error);
  REQUIRE(quick > 0);
  REQUIRE(proc::wait_gone(quick, 10s));
  CHECK(proc::exit_status(quick) == 3);
  CHECK_FALSE(proc::alive(quick));
  CHECK_FALSE(proc::signal_group(quick, SIGTERM));

  const pid_t slow = proc::spawn(sleeper(), error);
  REQUIRE(slow > 0);
  CHECK(proc::alive(slow));
  CHECK(proc::exit_status(slow) == -1);
  CHECK(proc::stop(slow, 10s));
  CHECK(proc::exit_status(slow) == 128 + SIGTERM);
  CHECK_FALSE(proc::signal_group(slow, SIGKILL));
}

TEST_CASE("process: a new child on the pid of an earlier, reaped child is not reported dead", "[process]") {
  // The earlier child's record is planted just before the spawn that will most likely reuse its pid;
  // another process on the machine can take that pid first, hence the retries.
  std::string error;
  bool reused = false;
  for (int attempt = 0; attempt < 200 && !reused; ++attempt) {
    const pid_t expected = next_pid();
    proc::testing::record_reaped(expected, 128 + SIGKILL);
    const pid_t pid = proc::spawn(sleeper(), error);
    REQUIRE(pid > 0);
    if (pid == expected) {
      reused = true;
      CHECK(proc::alive(pid));
      CHECK(proc::exit_status(pid) == -1);
    } else {
      proc::testing::forget_reaped(expected);
    }
    CHECK(proc::stop(pid, 10s));
    CHECK(proc::exit_status(pid) == 128 + SIGTERM);
  }
  REQUIRE(reused);
}

TEST_CASE("process: a pid reaped earlier and now held by another process is never signalled", "[process]") {
  const pid_t other = start_unrelated_sleep();
  // As if an earlier child of ours had this pid and was reaped, and the kernel then reused the pid.
  proc::testing::record_reaped(other, 0);
  CHECK_FALSE(proc::signal_group(other, SIGKILL));
  CHECK_FALSE(proc::alive(other));
  CHECK(proc::stop(other, 1s));
  CHECK(proc::wait_gone(other, 1s));
  CHECK(still_running(other));
  proc::testing::forget_reaped(other);
  ::kill(other, SIGKILL);
  int status = 0;
  ::waitpid(other, &status, 0);
}

}  // namespace process_test
