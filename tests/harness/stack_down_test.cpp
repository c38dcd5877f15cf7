// `rr-harness stack down` on recorded pids: only a process whose start time and executable still match
// the state file is signalled.
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "testkit/process.h"
#include "testkit/stack.h"
#include "harness/stack_cli.h"

namespace fs = std::filesystem;
namespace proc = rrkit::proc;
namespace stack = rrkit::stack;
using namespace std::chrono_literals;

extern char** environ;

namespace {

// A process nothing in rrkit::proc knows about: it stands in for whatever got a recorded pid later.
struct UnrelatedSleep {
  pid_t pid = -1;
  UnrelatedSleep() {
    char arg0[] = "sleep";
    char arg1[] = "60";
    char* argv[] = {arg0, arg1, nullptr};
    REQUIRE(::posix_spawnp(&pid, "sleep", nullptr, nullptr, argv, environ) == 0);
    // posix_spawn returns once the child exists, possibly before it runs sleep: wait for the exec.
    REQUIRE(proc::wait_until(
        [&] {
          const auto id = proc::identity(pid);
          return id && fs::path(id->exe).filename() == "sleep";
        },
        10s, 5ms));
  }
  bool running() const {
    int status = 0;
    return ::waitpid(pid, &status, WNOHANG) == 0;
  }
  ~UnrelatedSleep() {
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
};

proc::SpawnSpec sleeper() {
  proc::SpawnSpec spec;
  spec.name = "stack-member";
  spec.argv = {"sleep", "60"};
  return spec;
}

nlohmann::json entry(const std::string& name, pid_t pid, std::uint64_t start_time, const std::string& exe) {
  return {{"name", name}, {"pid", pid}, {"start_time", start_time}, {"exe", exe}};
}

}  // namespace

TEST_CASE("stack down: the identity of a running process is its start time and executable", "[stack]") {
  UnrelatedSleep other;
  const auto id = proc::identity(other.pid);
  REQUIRE(id);
  CHECK(id->start_time > 0);
  CHECK(fs::path(id->exe).filename() == "sleep");
  CHECK(proc::identity(other.pid) == id);
  const auto self = proc::identity(::getpid());
  REQUIRE(self);
  CHECK(self->start_time <= id->start_time);
  CHECK_FALSE(proc::identity(-1));
}

TEST_CASE("stack down: a recorded process is stopped only while its pid still names it", "[stack]") {
  std::string error;
  const pid_t member = proc::spawn(sleeper(), error);
  REQUIRE(member > 0);
  REQUIRE(proc::wait_until(
      [&] {
        const auto id = proc::identity(member);
        return id && fs::path(id->exe).filename() == "sleep";
      },
      10s, 5ms));
  const auto member_id = proc::identity(member);
  REQUIRE(member_id);
  UnrelatedSleep other;
  const auto other_id = proc::identity(other.pid);
  REQUIRE(other_id);

  SECTION("stop_recorded") {
    std::string why;
    // The unrelated process under a recorded pid, with the start time of the process that had it before.
    CHECK(stack::stop_recorded({"kafka", other.pid, proc::Identity{other_id->start_time + 1, other_id->exe}}, 1s,
                               why) == stack::RecordedStop::mismatch);
    CHECK(why.find("another process") != std::string::npos);
    CHECK(stack::stop_recorded({"kafka", other.pid, proc::Identity{other_id->start_time, "/usr/bin/java"}}, 1s, why) ==
          stack::RecordedStop::mismatch);
    CHECK(why.find("/usr/bin/java") != std::string::npos);
    CHECK(stack::stop_recorded({"kafka", other.pid, std::nullopt}, 1s, why) == stack::RecordedStop::mismatch);
    CHECK(other.running());

    CHECK(stack::stop_recorded({"daprd", member, member_id}, 10s, why) == stack::RecordedStop::stopped);
    CHECK_FALSE(proc::alive(member));
    CHECK(proc::exit_status(member) == 128 + SIGTERM);
    CHECK(other.running());
  }

  SECTION("a forged state file") {
    const fs::path file = fs::temp_directory_path() / ("rrkit-stack-state-" + rrkit::new_uuid_v4() + ".json");
    nlohmann::json state{{"brokers", "127.0.0.1:1"},
                         {"processes",
                          {entry("kafka", other.pid, other_id->start_time + 100, other_id->exe),
                           entry("daprd-rr-app-1", member, member_id->start_time, member_id->exe)}}};
    std::ofstream(file) << state.dump(2);
    std::ostringstream out;
    CHECK(rrkit::harness::stop_detached_stack(file, out) == 0);
    INFO(out.str());
    CHECK(out.str().find("kafka (pid " + std::to_string(other.pid) + "): not signalled") != std::string::npos);
    CHECK(out.str().find("daprd-rr-app-1 (pid " + std::to_string(member) + "): stopped") != std::string::npos);
    CHECK(other.running());
    CHECK_FALSE(proc::alive(member));
    CHECK_FALSE(fs::exists(file));
  }
  proc::stop(member, 5s);
}

TEST_CASE("stack down: a state file that is not JSON is refused, nothing signalled", "[stack]") {
  UnrelatedSleep other;
  const fs::path file = fs::temp_directory_path() / ("rrkit-stack-state-" + rrkit::new_uuid_v4() + ".json");
  std::ofstream(file) << std::string(100000, '[');
  std::ostringstream out;
  CHECK(rrkit::harness::stop_detached_stack(file, out) == 2);
  CHECK(out.str().find("nested too deeply") != std::string::npos);
  CHECK(other.running());
  fs::remove(file);
}
