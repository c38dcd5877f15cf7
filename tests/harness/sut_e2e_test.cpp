// A SUT whose command exits, or never gets ready, fails the scenario promptly with the tail of its
// log in the error, on the real stack (Kafka, daprd and the simulator start as in any run).
#include <catch2/catch.hpp>

#include <fstream>

#include "tests/harness/harness_cli.h"

namespace fs = std::filesystem;
using namespace rrkit::harness_test;

namespace {

struct Run {
  int status = -1;
  double seconds = 0;
  std::string log;
};

// happy-path.yaml against a SUT file whose instance is `command` (run by sh) with this ready.timeout.
Run run_with_sut(const TempDir& t, const std::string& name, const std::string& command, const std::string& ready_timeout) {
  const fs::path sut = t.dir / (name + ".yaml");
  std::ofstream(sut) << "name: " << name << "\nstart:\n  argv: [sh, -c, \"" << command << "\"]\nready: {timeout: "
                     << ready_timeout << "}\n";
  const fs::path log = t.dir / (name + ".log");
  const auto run = run_harness({"run", (fs::path(RRKIT_SOURCE_DIR) / "scenarios/happy-path.yaml").string(), "--sut",
                                sut.string(), "--out", (t.dir / name).string()},
                               log);
  return Run{run.status, run.seconds, read_all(log)};
}

}  // namespace

TEST_CASE("a SUT command that exits fails the scenario at once with its last log lines") {
  TempDir t("rrkit-sut-e2e");
  // ready.timeout is long on purpose: the exit must be noticed, not waited out.
  const auto r = run_with_sut(t, "boom", "echo boom; exit 3", "240s");
  INFO(r.log);
  CHECK(r.status == 2);  // the scenario is an infrastructure error, not a failed check
  CHECK(r.log.find("exited") != std::string::npos);
  CHECK(r.log.find("boom") != std::string::npos);
  CHECK(r.log.find("status 3") != std::string::npos);
  CHECK(r.seconds < 200);  // far below ready.timeout
}

TEST_CASE("a SUT command that never answers fails the scenario after ready.timeout") {
  TempDir t("rrkit-sut-e2e");
  const auto r = run_with_sut(t, "silent", "echo started and silent; exec sleep 600", "5s");
  INFO(r.log);
  CHECK(r.status == 2);
  CHECK(r.log.find("did not open its app port") != std::string::npos);
  CHECK(r.log.find("started and silent") != std::string::npos);
}
