// rr-harness finds rrkit's files from an install (<prefix>/share/rrkit) and from a clone (build/bin
// looks upwards), with the path as given winning over both.
#include "harness/data_dirs.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "harness/setup_cmd.h"
#include "harness/sut_launch.h"

namespace data_dirs_test {

namespace {

namespace fs = std::filesystem;
using namespace rrkit::harness;

// A fresh folder per test case, removed at the end.
struct TempRoot {
  fs::path dir;
  explicit TempRoot(const std::string& name)
      : dir(fs::temp_directory_path() / ("rrkit-data-dirs-" + name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  ~TempRoot() {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }
  fs::path touch(const fs::path& rel) const {
    fs::create_directories((dir / rel).parent_path());
    std::ofstream(dir / rel) << "x\n";
    return dir / rel;
  }
};

// Runs body with the working directory set to dir, restoring it afterwards.
template <class F>
void in_dir(const fs::path& dir, F body) {
  const fs::path old = fs::current_path();
  fs::current_path(dir);
  try {
    body();
  } catch (...) {
    fs::current_path(old);
    throw;
  }
  fs::current_path(old);
}

}  // namespace

TEST_CASE("data dirs: an install's share/rrkit comes first, then the binary's folder and those above it",
          "[unit][data_dirs]") {
  const auto c = data_candidates("scenarios", "/opt/x/bin");
  REQUIRE(c.size() >= 3);
  CHECK(c[0] == fs::path("/opt/x/share/rrkit/scenarios"));
  CHECK(c[1] == fs::path("/opt/x/bin/scenarios"));
  CHECK(c[2] == fs::path("/opt/x/scenarios"));
  // The SUT default is the same search for sut/rr-gateway.yaml.
  CHECK(default_sut_candidates("/opt/x/bin") == data_candidates(fs::path("sut") / "rr-gateway.yaml", "/opt/x/bin"));
}

TEST_CASE("data dirs: a relative path missing from the working folder is found in an install", "[unit][data_dirs]") {
  TempRoot prefix("install");
  const auto installed = prefix.touch("share/rrkit/scenarios/happy-path.yaml");
  fs::create_directories(prefix.dir / "bin");
  TempRoot elsewhere("cwd");
  in_dir(elsewhere.dir, [&] {
    CHECK(resolve_data_path("scenarios", prefix.dir / "bin") == prefix.dir / "share/rrkit/scenarios");
    CHECK(resolve_data_path("scenarios/happy-path.yaml", prefix.dir / "bin") == installed);
    // Not anywhere: the path as typed, so the error names it.
    CHECK(resolve_data_path("scenarios/nope.yaml", prefix.dir / "bin") == fs::path("scenarios/nope.yaml"));
  });
}

TEST_CASE("data dirs: a clone's build/bin finds the clone's folders", "[unit][data_dirs]") {
  TempRoot clone("clone");
  clone.touch("scenarios/happy-path.yaml");
  clone.touch("scripts/setup.sh");
  fs::create_directories(clone.dir / "build/bin");
  CHECK(find_data_path("scripts/setup.sh", clone.dir / "build/bin") == clone.dir / "scripts/setup.sh");
  TempRoot elsewhere("cwd2");
  in_dir(elsewhere.dir, [&] {
    CHECK(resolve_data_path("scenarios", clone.dir / "build/bin") == clone.dir / "scenarios");
  });
}

TEST_CASE("data dirs: a path that exists where it was given wins over an install", "[unit][data_dirs]") {
  TempRoot prefix("install2");
  prefix.touch("share/rrkit/scenarios/a.yaml");
  TempRoot cwd("cwd3");
  cwd.touch("scenarios/a.yaml");
  in_dir(cwd.dir, [&] {
    CHECK(resolve_data_path("scenarios/a.yaml", prefix.dir / "bin") == fs::path("scenarios/a.yaml"));
  });
  CHECK(resolve_data_path("/abs/missing.yaml", prefix.dir / "bin") == fs::path("/abs/missing.yaml"));
}

TEST_CASE("setup: runs the found script for the stack only unless the packages are asked for", "[unit][data_dirs]") {
  SetupOptions o;
  CHECK(setup_argv("/p/share/rrkit/scripts/setup.sh", o) ==
        std::vector<std::string>{"bash", "/p/share/rrkit/scripts/setup.sh", "--stack-only"});
  o.packages = true;
  CHECK(setup_argv("/p/setup.sh", o) == std::vector<std::string>{"bash", "/p/setup.sh"});
}

TEST_CASE("setup: without a script anywhere it fails with code 2 and names where it looked", "[unit][data_dirs]") {
  TempRoot prefix("noscript");
  fs::create_directories(prefix.dir / "bin");
  std::string err;
  // /tmp/... has no scripts/setup.sh above it.
  CHECK(run_setup({}, prefix.dir / "bin", err) == 2);
  CHECK(err.find((prefix.dir / "share/rrkit/scripts/setup.sh").string()) != std::string::npos);
}

}  // namespace data_dirs_test
