// A SUT whose command exits, or never gets ready, fails the scenario promptly with the tail of its
// log in the error, on the real stack (Kafka, daprd and the simulator start as in any run).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "testkit/process.h"

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Temp {
  fs::path dir = fs::temp_directory_path() / ("rrkit-sut-e2e-" + std::to_string(::getpid()));
  Temp() { fs::create_directories(dir); }
  ~Temp() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
};

struct Run {
  int status = -1;
  double seconds = 0;
  std::string log;
};

Run run_with_sut(const Temp& t, const std::string& name, const std::string& sut_text) {
  const fs::path sut = t.dir / (name + ".yaml");
  std::ofstream(sut) << sut_text;
  const fs::path log = t.dir / (name + ".log");
  const std::vector<std::string> argv{RR_HARNESS_BIN, "run", (fs::path(RRKIT_SOURCE_DIR) / "scenarios/happy-path.yaml").string(),
                                      "--sut", sut.string(), "--out", (t.dir / name).string()};
  Run r;
  const auto t0 = std::chrono::steady_clock::now();
  std::string error;
  const pid_t pid = rrkit::proc::spawn(rrkit::proc::SpawnSpec{"rr-harness", argv, {}, log, {}}, error);
  if (pid <= 0) {
    std::cerr << error << "\n";
    return r;
  }
  if (!rrkit::proc::wait_gone(pid, 300s)) {
    rrkit::proc::stop(pid, 5s);
    r.log = read_all(log);
    return r;
  }
  r.status = rrkit::proc::exit_status(pid);
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.log = read_all(log);
  return r;
}

}  // namespace

TEST_CASE("a SUT command that exits fails the scenario at once with its last log lines") {
  Temp t;
  // ready.timeout is long on purpose: the exit must be noticed, not waited out.
  const auto r = run_with_sut(t, "boom", R"(name: boom
start:
  argv: [sh, -c, "echo boom; exit 3"]
ready: {timeout: 240s}
)");
  INFO(r.log);
  CHECK(r.status == 2);  // the scenario is an infrastructure error, not a failed check
  CHECK(r.log.find("exited") != std::string::npos);
  CHECK(r.log.find("boom") != std::string::npos);
  CHECK(r.log.find("status 3") != std::string::npos);
  CHECK(r.seconds < 200);  // far below ready.timeout
}

TEST_CASE("a SUT command that never answers fails the scenario after ready.timeout") {
  Temp t;
  const auto r = run_with_sut(t, "silent", R"(name: silent
start:
  argv: [sh, -c, "echo started and silent; exec sleep 600"]
ready: {timeout: 5s}
)");
  INFO(r.log);
  CHECK(r.status == 2);
  CHECK(r.log.find("did not open its app port") != std::string::npos);
  CHECK(r.log.find("started and silent") != std::string::npos);
}
