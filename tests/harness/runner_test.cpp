#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "harness/runner.h"
#include "testkit/tiny_http_server.h"

namespace runner_test {

namespace fs = std::filesystem;
using namespace rrkit::harness;

namespace {

struct TempDir {
  fs::path path = fs::temp_directory_path() / ("rrkit-runner-" + rrkit::new_uuid_v4());
  TempDir() { fs::create_directories(path); }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

Scenario attach_scenario(const fs::path& dir) {
  Scenario sc;
  sc.path = (dir / "attach.yaml").string();
  std::ofstream(sc.path) << "name: attach\n";
  sc.name = "attach";
  sc.traffic.mode = TrafficPlan::Mode::closed;
  sc.traffic.concurrency = 1;
  sc.traffic.requests = 3;
  sc.settle = std::chrono::seconds(2);
  return sc;
}

}  // namespace

TEST_CASE("attach mode: an answer that is not UTF-8 is kept in the history, not fatal") {
  // A proxy's Latin-1 error page: the strict UTF-8 dump used to throw while the timeline thread was
  // joinable, which ended the process (std::terminate) without any report.
  rrkit::test::TinyHttpServer server([](const rrkit::test::TinyRequest&) {
    return rrkit::test::TinyResponse{200, "Erreur: d\xe9lai d\xe9pass\xe9", "text/html; charset=iso-8859-1"};
  });
  TempDir dir;
  RunOptions options;
  options.out_dir = dir.path / "out";
  options.gateway_urls = {"http://127.0.0.1:" + std::to_string(server.port())};
  const auto result = run_scenario(attach_scenario(dir.path), options);
  INFO(result.error);
  CHECK(result.status == ScenarioStatus::fail);  // the answers are not the requests' own payloads
  REQUIRE(result.requests.size() == 3);
  std::ifstream hist(fs::path(result.run_dir) / "history.jsonl");
  std::string line;
  int lines = 0;
  while (std::getline(hist, line)) {
    const auto j = nlohmann::json::parse(line, nullptr, false);
    REQUIRE(j.is_object());
    CHECK(j["response_body"].get<std::string>().find("Erreur: d") == 0);
    ++lines;
  }
  CHECK(lines == 3);
}

TEST_CASE("attach mode: a gateway URL with a host name works") {
  rrkit::test::TinyHttpServer server([](const rrkit::test::TinyRequest&) {
    return rrkit::test::TinyResponse{200, R"({"correlationId":"x"})"};
  });
  TempDir dir;
  RunOptions options;
  options.out_dir = dir.path / "out";
  options.gateway_urls = {"http://localhost:" + std::to_string(server.port())};
  const auto result = run_scenario(attach_scenario(dir.path), options);
  REQUIRE(result.requests.size() == 3);
  for (const auto& r : result.requests) {
    INFO(r.client_error);
    CHECK(r.http_status == 200);
  }
}

TEST_CASE("gateway URLs are checked, and names resolved, before a run starts") {
  std::string host, error;
  std::uint16_t port = 0;
  CHECK(parse_gateway_url("http://localhost:8080", host, port, error));
  CHECK(host == "localhost");
  CHECK(port == 8080);
  CHECK(parse_gateway_url("http://127.0.0.1:9/", host, port, error));
  CHECK(port == 9);
  CHECK_FALSE(parse_gateway_url("https://127.0.0.1:8080", host, port, error));
  CHECK_FALSE(parse_gateway_url("http://127.0.0.1", host, port, error));
  CHECK_FALSE(parse_gateway_url("http://127.0.0.1:99999", host, port, error));
  CHECK_FALSE(parse_gateway_url("http://127.0.0.1:80x", host, port, error));
  CHECK_FALSE(parse_gateway_url("http://no-such-host.invalid:80", host, port, error));
  CHECK(error.find("resolve") != std::string::npos);
}

TEST_CASE("a scenario whose name would leave --out is refused before anything is deleted") {
  TempDir dir;
  const fs::path victim = dir.path / "victim-seed1";
  fs::create_directories(victim);
  std::ofstream(victim / "keep") << "x";
  Scenario sc = attach_scenario(dir.path);
  sc.name = "../victim";
  sc.seed = 1;
  RunOptions options;
  options.out_dir = dir.path / "out";
  options.gateway_urls = {"http://127.0.0.1:9"};
  const auto result = run_scenario(sc, options);
  CHECK(result.status == ScenarioStatus::error);
  CHECK(fs::exists(victim / "keep"));
}

}  // namespace runner_test
