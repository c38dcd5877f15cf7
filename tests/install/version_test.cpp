// Every program's --version names rrkit's version, the commit it was built from and the pinned stack,
// all from one struct (common/build_info.h), which the reports carry too.
#include "common/build_info.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/json_limits.h"
#include "harness/report.h"
#include "rrkit/versions.h"
#include "testkit/process.h"

namespace version_test {

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

struct Ran {
  int exit = -1;
  std::string out;
};

Ran run(const std::string& bin, const std::string& flag) {
  const fs::path dir = fs::temp_directory_path() / ("rrkit-version-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  rrkit::proc::SpawnSpec spec;
  spec.name = fs::path(bin).filename().string();
  spec.argv = {bin, flag};
  spec.log_file = dir / (spec.name + ".log");
  std::string error;
  const pid_t pid = rrkit::proc::spawn(spec, error);
  REQUIRE(pid > 0);
  // Generous: the program only prints, but the machine may be loaded.
  REQUIRE(rrkit::proc::wait_gone(pid, 60s));
  Ran r;
  r.exit = rrkit::proc::exit_status(pid);
  std::ifstream in(spec.log_file);
  std::stringstream ss;
  ss << in.rdbuf();
  r.out = ss.str();
  return r;
}

}  // namespace

TEST_CASE("build info: the pinned versions are those of stack/versions.env and the commit is never empty",
          "[unit][version]") {
  const auto& info = rrkit::build_info();
  CHECK(info.rrkit == rrkit::versions::kRrkit);
  CHECK(info.kafka == rrkit::versions::kKafka);
  CHECK(info.daprd == rrkit::versions::kDaprd);
  CHECK_FALSE(info.commit.empty());
  const auto m = rrkit::version_map();
  CHECK(m.at("rrkit") == rrkit::versions::kRrkit);
  CHECK(m.at("commit") == std::string(info.commit));
  CHECK(m.at("kafka") == rrkit::versions::kKafka);
  CHECK(m.at("daprd") == rrkit::versions::kDaprd);
}

TEST_CASE("build info: the version text names the program, the version, the commit and the stack", "[unit][version]") {
  const rrkit::BuildInfo info{"9.8.7", "abc123-dirty", "4.3.1", "1.18.3"};
  const std::string text = rrkit::version_text("rr-thing", info);
  CHECK(text == "rr-thing 9.8.7 (commit abc123-dirty)\npinned stack: Kafka 4.3.1, daprd 1.18.3");
}

TEST_CASE("build info: every program prints the same version text on --version and exits 0", "[unit][version]") {
  const std::vector<std::string> bins = {RR_GATEWAY_BIN, RR_SIMULATOR_BIN, RR_HARNESS_BIN, RR_BENCH_BIN};
  for (const auto& bin : bins) {
    INFO(bin);
    const auto r = run(bin, "--version");
    CHECK(r.exit == 0);
    CHECK(r.out == rrkit::version_text(fs::path(bin).filename().string()) + "\n");
  }
}

TEST_CASE("build info: the JSON and HTML reports carry the version, the commit and the pinned stack", "[unit][version]") {
  rrkit::harness::SuiteResult suite;
  suite.started_at = "2026-01-01T00:00:00Z";
  suite.versions = rrkit::version_map();
  const auto& info = rrkit::build_info();

  const fs::path dir = fs::temp_directory_path() / ("rrkit-version-report-" + std::to_string(::getpid()));
  rrkit::harness::write_json_report(suite, dir / "report.json");
  std::ifstream in(dir / "report.json");
  std::stringstream ss;
  ss << in.rdbuf();
  const auto parsed = rrkit::parse_bounded(ss.str());
  REQUIRE(parsed.ok());
  const auto& v = parsed.value.at("versions");
  CHECK(v.at("rrkit") == std::string(info.rrkit));
  CHECK(v.at("commit") == std::string(info.commit));
  CHECK(v.at("kafka") == std::string(info.kafka));
  CHECK(v.at("daprd") == std::string(info.daprd));

  const std::string html = rrkit::harness::render_html_report(suite);
  for (const auto& [key, value] : rrkit::version_map()) {
    INFO(key);
    CHECK(html.find(value) != std::string::npos);
  }
  fs::remove_all(dir);
}

}  // namespace version_test
