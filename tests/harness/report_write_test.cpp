// How report files reach the disk: whole or not at all, and never through a planted symlink.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "common/ids.h"
#include "harness/report.h"
#include "harness/result.h"

namespace report_write_test {

namespace fs = std::filesystem;
using namespace rrkit::harness;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

SuiteResult small_suite() {
  SuiteResult suite;
  suite.started_at = "2026-01-01T00:00:00Z";
  ScenarioResult s;
  s.name = "tiny";
  s.status = ScenarioStatus::pass;
  suite.scenarios.push_back(s);
  return suite;
}

}  // namespace

TEST_CASE("report files: a symlink planted at the old temporary name is not followed", "[report]") {
  const fs::path dir = fs::temp_directory_path() / ("rrkit-report-write-" + rrkit::new_uuid_v4().substr(0, 8));
  fs::create_directories(dir);
  const fs::path victim = dir / "victim.txt";
  std::ofstream(victim) << "precious";
  const fs::path json_file = dir / "suite.json";
  const fs::path junit_file = dir / "suite.junit.xml";
  const fs::path html_file = dir / "suite.html";
  // The names the writer used to pick: <file>.tmp.<pid>, known to anyone who can list the processes.
  for (const auto& f : {json_file, junit_file, html_file}) {
    fs::create_symlink(victim, fs::path(f.string() + fmt::format(".tmp.{}", static_cast<long>(::getpid()))));
  }
  const SuiteResult suite = small_suite();
  write_json_report(suite, json_file);
  write_junit_report(suite, junit_file);
  write_html_report(suite, html_file);

  CHECK(slurp(victim) == "precious");
  for (const auto& f : {json_file, junit_file, html_file}) {
    INFO(f.string());
    CHECK(fs::is_regular_file(fs::symlink_status(f)));
    CHECK(slurp(f).size() > 20);
    struct stat st {};
    REQUIRE(::stat(f.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
  }
  CHECK(read_json_report(json_file).scenarios.at(0).name == "tiny");
  // Nothing else is left behind: the three reports, the victim and the three planted links.
  int entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  CHECK(entries == 7);
  fs::remove_all(dir);
}

TEST_CASE("report files: a symlink at the report's own name is replaced, not written through", "[report]") {
  const fs::path dir = fs::temp_directory_path() / ("rrkit-report-write-" + rrkit::new_uuid_v4().substr(0, 8));
  fs::create_directories(dir);
  const fs::path victim = dir / "victim.txt";
  std::ofstream(victim) << "precious";
  const fs::path json_file = dir / "suite.json";
  fs::create_symlink(victim, json_file);
  write_json_report(small_suite(), json_file);
  CHECK(slurp(victim) == "precious");
  CHECK(fs::is_regular_file(fs::symlink_status(json_file)));
  fs::remove_all(dir);
}

}  // namespace report_write_test
