// The programs agree on their exit codes (common/exit_codes.h): a bad flag or configuration exits
// with the usage code whether CLI11 or rrkit's own checks refuse it, before anything is started.
#include "common/exit_codes.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "testkit/process.h"

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

int exit_of(std::vector<std::string> argv) {
  const fs::path dir = fs::temp_directory_path() / ("rrkit-exit-codes-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  rrkit::proc::SpawnSpec spec;
  spec.name = fs::path(argv.front()).filename().string();
  spec.argv = std::move(argv);
  spec.log_file = dir / (spec.name + ".log");
  std::string error;
  const pid_t pid = rrkit::proc::spawn(spec, error);
  REQUIRE(pid > 0);
  // Generous: the program only parses its flags, but the machine may be loaded.
  REQUIRE(rrkit::proc::wait_gone(pid, 60s));
  return rrkit::proc::exit_status(pid);
}

}  // namespace

TEST_CASE("exit codes: rr-gateway refuses bad flags and configuration with the usage code", "[unit][exit_codes]") {
  CHECK(exit_of({RR_GATEWAY_BIN, "--listen", "no-port-here"}) == rrkit::exit_code::usage);
  CHECK(exit_of({RR_GATEWAY_BIN, "--timeout", "10s", "--max-timeout", "5s"}) == rrkit::exit_code::usage);
  CHECK(exit_of({RR_GATEWAY_BIN, "--no-such-flag"}) == rrkit::exit_code::usage);
  CHECK(exit_of({RR_GATEWAY_BIN, "--help"}) == rrkit::exit_code::ok);
}

TEST_CASE("exit codes: rr-simulator refuses bad flags and configuration with the usage code", "[unit][exit_codes]") {
  CHECK(exit_of({RR_SIMULATOR_BIN, "--no-such-flag"}) == rrkit::exit_code::usage);
  CHECK(exit_of({RR_SIMULATOR_BIN, "--control-listen", "no-port-here"}) == rrkit::exit_code::usage);
  CHECK(exit_of({RR_SIMULATOR_BIN, "--help"}) == rrkit::exit_code::ok);
}
