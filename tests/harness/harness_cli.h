#pragma once
// End-to-end helpers for tests that run the rr-harness binary as a user would (a child process
// with its output in a log file): a temporary folder per test, the run's exit status, file reads.
// The including test target defines RR_HARNESS_BIN.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "common/ids.h"
#include "testkit/process.h"

namespace rrkit::harness_test {

namespace fs = std::filesystem;

inline std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A folder of its own under the system's temporary folder, removed with everything in it.
struct TempDir {
  explicit TempDir(const std::string& prefix) : dir(fs::temp_directory_path() / (prefix + "-" + new_uuid_v4())) {
    fs::create_directories(dir);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  fs::path dir;
};

struct HarnessRun {
  int status = -1;  // the exit status; -1 when it could not start or overran (then it was stopped)
  double seconds = 0;
};

// Runs `rr-harness ARGS...` to completion, its output in `log`.
inline HarnessRun run_harness(const std::vector<std::string>& args, const fs::path& log,
                              std::chrono::seconds limit = std::chrono::seconds(300)) {
  std::vector<std::string> argv{RR_HARNESS_BIN};
  argv.insert(argv.end(), args.begin(), args.end());
  HarnessRun run;
  const auto t0 = std::chrono::steady_clock::now();
  std::string error;
  const pid_t pid = proc::spawn(proc::SpawnSpec{"rr-harness", argv, {}, log, {}}, error);
  if (pid <= 0) {
    std::cerr << error << "\n";
    return run;
  }
  if (!proc::wait_gone(pid, limit)) {
    proc::stop(pid, std::chrono::seconds(5));
    return run;
  }
  run.status = proc::exit_status(pid);
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return run;
}

}  // namespace rrkit::harness_test
