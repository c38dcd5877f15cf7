#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include <yaml-cpp/yaml.h>

#include "harness/sut_launch.h"

namespace sut_launch_test {

namespace fs = std::filesystem;
using namespace rrkit::harness;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("rrkit-sut-launch-" + std::to_string(::getpid()));
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

const char* kMinimal = "name: demo\nstart:\n  argv: [\"{{sut_dir}}/demo\", \"{{port}}\"]\n";

}  // namespace

TEST_CASE("the default SUT is searched in an install's share dir, then in the folders above the binaries") {
  const auto c = default_sut_candidates("/opt/rrkit/bin");
  REQUIRE(c.size() >= 3);
  CHECK(c[0] == fs::path("/opt/rrkit/share/rrkit/sut/rr-gateway.yaml"));
  CHECK(c[1] == fs::path("/opt/rrkit/bin/sut/rr-gateway.yaml"));
  CHECK(c[2] == fs::path("/opt/rrkit/sut/rr-gateway.yaml"));
  // A clone's build/bin finds <clone>/sut/rr-gateway.yaml two levels up.
  const auto clone = default_sut_candidates("/src/rrkit/build/bin");
  CHECK(std::find(clone.begin(), clone.end(), fs::path("/src/rrkit/sut/rr-gateway.yaml")) != clone.end());
}

TEST_CASE("choose_sut: --sut, then RRKIT_SUT, then the default file") {
  TempDir t;
  write(t.path / "flag.yaml", kMinimal);
  write(t.path / "env.yaml", std::string(kMinimal) + "description: from env\n");
  write(t.path / "clone" / "sut" / "rr-gateway.yaml", std::string(kMinimal) + "description: default\n");
  const fs::path bin = t.path / "clone" / "build" / "bin";

  auto c = choose_sut((t.path / "flag.yaml").string(), (t.path / "env.yaml").c_str(), bin);
  REQUIRE(c.load.ok());
  CHECK(c.from == "--sut");
  CHECK(c.load.sut->description.empty());

  c = choose_sut("", (t.path / "env.yaml").c_str(), bin);
  REQUIRE(c.load.ok());
  CHECK(c.from == "RRKIT_SUT");
  CHECK(c.load.sut->description == "from env");

  for (const char* env : {static_cast<const char*>(nullptr), ""}) {
    c = choose_sut("", env, bin);
    REQUIRE(c.load.ok());
    CHECK(c.from == "default");
    CHECK(c.load.sut->description == "default");
  }
}

TEST_CASE("choose_sut: a missing or invalid file is an error value naming where it came from") {
  TempDir t;
  auto c = choose_sut("", (t.path / "nope.yaml").c_str(), t.path / "bin");
  CHECK_FALSE(c.load.ok());
  CHECK(c.load.error.find("RRKIT_SUT") != std::string::npos);
  // No default anywhere above an empty folder: the error lists where it looked.
  c = choose_sut("", nullptr, t.path / "bin");
  CHECK_FALSE(c.load.ok());
  CHECK(c.load.error.find("rr-gateway.yaml") != std::string::npos);
  write(t.path / "bad.yaml", "name: demo\nstart: {argv: [x]}\nbogus: 1\n");
  c = choose_sut((t.path / "bad.yaml").string(), nullptr, t.path / "bin");
  CHECK_FALSE(c.load.ok());
  CHECK(c.load.error.find("bogus") != std::string::npos);
}

TEST_CASE("daprd metadata: the reply subscription is found by topic") {
  const std::string meta = R"({"id": "gw-1", "subscriptions": [
      {"pubsubname": "rr-pubsub", "topic": "rr.requests"},
      {"pubsubname": "rr-pubsub", "topic": "rr.replies", "rules": [{"path": "/onresponse"}]}]})";
  CHECK(metadata_has_subscription(meta, "rr.replies"));
  CHECK_FALSE(metadata_has_subscription(meta, "rr.other"));
  CHECK_FALSE(metadata_has_subscription(R"({"id": "gw-1"})", "rr.replies"));
  CHECK_FALSE(metadata_has_subscription(R"({"subscriptions": {"topic": "rr.replies"}})", "rr.replies"));
  CHECK_FALSE(metadata_has_subscription("not json", "rr.replies"));
  CHECK_FALSE(metadata_has_subscription(std::string(5000, '[') + std::string(5000, ']'), "rr.replies"));
}

TEST_CASE("a failing command's error carries the last lines of its log") {
  CHECK(last_lines("a\nb\nc\n", 2) == "b\nc");
  CHECK(last_lines("a\nb\nc", 2) == "b\nc");
  CHECK(last_lines("a\nb\n", 5) == "a\nb");
  CHECK(last_lines("", 3).empty());
  CHECK(last_lines("boom\n", 0).empty());
  TempDir t;
  std::string text;
  for (int i = 1; i <= 100; ++i) text += "line " + std::to_string(i) + "\n";
  write(t.path / "gw-1.log", text);
  const std::string tail = log_tail(t.path / "gw-1.log");
  CHECK(tail.rfind("line 81\n", 0) == 0);
  CHECK(tail.size() == tail.find("line 100") + std::string("line 100").size());
  CHECK(log_tail(t.path / "missing.log").empty());
}

TEST_CASE("sut check describes instance 1 of rr-gateway's SUT file") {
  const auto load = load_sut(fs::path(RRKIT_SOURCE_DIR) / "sut" / "rr-gateway.yaml");
  REQUIRE(load.ok());
  const std::string text = describe_sut(*load.sut, "/opt/rrkit/bin");
  CHECK(text.find("valid SUT \"rr-gateway\"") != std::string::npos);
  CHECK(text.find("/opt/rrkit/bin/rr-gateway") != std::string::npos);
  CHECK(text.find("app id:   gw-1\n") != std::string::npos);
  CHECK(text.find("{{") == std::string::npos);
}

TEST_CASE("the SUT's contract is merged into every simulator profile, a profile's own contract kept") {
  std::string error;
  const std::string contract = "request_id: /correlationId\nrequest_key: /payload/nonce\n";
  auto merged = profile_with_contract("rules:\n  - name: slow\n    delay: 10ms\n", contract, error);
  REQUIRE(merged);
  const YAML::Node m = YAML::Load(*merged);
  CHECK(m["contract"]["request_key"].as<std::string>() == "/payload/nonce");
  CHECK(m["rules"][0]["name"].as<std::string>() == "slow");
  merged = profile_with_contract("", contract, error);
  REQUIRE(merged);
  CHECK(YAML::Load(*merged)["contract"]["request_id"].as<std::string>() == "/correlationId");
  const std::string own = "contract:\n  request_id: /id\n";
  CHECK(profile_with_contract(own, contract, error) == own);
  CHECK(profile_with_contract("rules: []\n", "", error) == "rules: []\n");
  CHECK_FALSE(profile_with_contract("- a\n- b\n", contract, error));
  CHECK(error.find("mapping") != std::string::npos);
  CHECK_FALSE(profile_with_contract("{unclosed", contract, error));
}

}  // namespace sut_launch_test
