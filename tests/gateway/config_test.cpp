#include <catch2/catch.hpp>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "gateway/config.h"

namespace config_test {

using namespace rrkit::gateway;
using namespace std::chrono_literals;

namespace {

struct Parsed {
  Config cfg;
  ConfigText text;
  std::optional<std::string> error;
};

Parsed parse(std::vector<std::string> args) {
  Parsed p;
  CLI::App app;
  add_options(app, p.cfg, p.text);
  std::vector<const char*> argv = {"rr-gateway"};
  for (const auto& a : args) argv.push_back(a.c_str());
  app.parse(static_cast<int>(argv.size()), argv.data());
  p.error = finalize(app, p.cfg, p.text);
  return p;
}

}  // namespace

TEST_CASE("config: defaults are the documented ones") {
  auto p = parse({});
  REQUIRE_FALSE(p.error);
  CHECK(p.cfg.listen == "127.0.0.1:8080");
  CHECK(p.cfg.callback_listen == "127.0.0.1:8081");
  CHECK(p.cfg.dapr_http_port == 3500);
  CHECK(p.cfg.timeout == 5s);
  CHECK(p.cfg.max_timeout == 60s);
  CHECK(p.cfg.max_pending == 10000);
  CHECK(p.cfg.max_body == 1048576);
  CHECK(p.cfg.reply_mode == ReplyMode::broadcast);
  CHECK(p.cfg.subscribed_reply_topic() == "rr.replies");
  CHECK(p.cfg.instance_id.size() == 8);
}

TEST_CASE("config: flags, environment and config file") {
  auto p = parse({"--timeout", "250ms", "--reply-mode", "reply-to", "--instance-id", "i1", "--threads", "2"});
  REQUIRE_FALSE(p.error);
  CHECK(p.cfg.timeout == 250ms);
  CHECK(p.cfg.subscribed_reply_topic() == "rr.replies.i1");
  CHECK(p.cfg.threads == 2);

  ::setenv("RR_GATEWAY_MAX_PENDING", "7", 1);
  ::setenv("DAPR_HTTP_PORT", "3999", 1);
  p = parse({});
  CHECK(p.cfg.max_pending == 7);
  CHECK(p.cfg.dapr_http_port == 3999);
  p = parse({"--dapr-http-port", "4001"});
  CHECK(p.cfg.dapr_http_port == 4001);  // the flag wins over Dapr's variable
  ::unsetenv("RR_GATEWAY_MAX_PENDING");
  ::unsetenv("DAPR_HTTP_PORT");

  const auto file = std::filesystem::temp_directory_path() / "rr-gateway-config-test.toml";
  std::ofstream(file) << "listen = \"127.0.0.1:9100\"\nlate-window = \"2m\"\n";
  p = parse({"--config", file.string()});
  std::filesystem::remove(file);
  REQUIRE_FALSE(p.error);
  CHECK(p.cfg.listen == "127.0.0.1:9100");
  CHECK(p.cfg.late_window == 120s);
}

TEST_CASE("config: bad values are reported") {
  CHECK_THROWS_AS(parse({"--timeout", "soon"}), CLI::ValidationError);
  CHECK_THROWS_AS(parse({"--listen", "nowhere"}), CLI::ValidationError);
  CHECK_THROWS_AS(parse({"--reply-mode", "multicast"}), CLI::ValidationError);
  CHECK(parse({"--timeout", "10s", "--max-timeout", "1s"}).error);
}

TEST_CASE("config: limits and deadlines of the hardened server") {
  auto p = parse({});
  REQUIRE_FALSE(p.error);
  CHECK(p.cfg.max_reply_body == 4u * 1048576u);
  CHECK(p.cfg.header_timeout == 10s);
  CHECK(p.cfg.idle_timeout == 120s);
  CHECK(p.cfg.dapr_acquire_timeout == 100ms);
  CHECK(p.cfg.max_client_connections == 0);  // all descriptors left
  CHECK(p.cfg.max_callback_connections == 256);
  p = parse({"--max-reply-body", "65536", "--header-timeout", "2s", "--idle-timeout", "30s",
             "--dapr-acquire-timeout", "20ms", "--max-client-connections", "10", "--max-callback-connections", "5"});
  REQUIRE_FALSE(p.error);
  CHECK(p.cfg.max_reply_body == 65536);
  CHECK(p.cfg.header_timeout == 2s);
  CHECK(p.cfg.idle_timeout == 30s);
  CHECK(p.cfg.dapr_acquire_timeout == 20ms);
  CHECK(p.cfg.max_client_connections == 10);
  CHECK(p.cfg.max_callback_connections == 5);
  CHECK_THROWS_AS(parse({"--max-callback-connections", "0"}), CLI::ValidationError);
  CHECK_THROWS_AS(parse({"--header-timeout", "soon"}), CLI::ValidationError);
  CHECK(parse({"--idle-timeout", "0s"}).error);
}

TEST_CASE("config: bulk subscribe on the reply subscription is off by default and set by its flags") {
  auto p = parse({});
  REQUIRE_FALSE(p.error);
  CHECK_FALSE(p.cfg.reply_bulk_subscribe);
  CHECK(p.cfg.reply_bulk_max_messages == 100);
  CHECK(p.cfg.reply_bulk_max_await == 5ms);
  p = parse({"--reply-bulk-subscribe", "--reply-bulk-max-messages", "50", "--reply-bulk-max-await", "20ms"});
  REQUIRE_FALSE(p.error);
  CHECK(p.cfg.reply_bulk_subscribe);
  CHECK(p.cfg.reply_bulk_max_messages == 50);
  CHECK(p.cfg.reply_bulk_max_await == 20ms);
  // daprd would silently wait 10 s for a batch with a zero await.
  p = parse({"--reply-bulk-subscribe", "--reply-bulk-max-await", "0ms"});
  REQUIRE(p.error);
  CHECK(p.error->find("--reply-bulk-max-await") != std::string::npos);
  CHECK_THROWS(parse({"--reply-bulk-max-messages", "0"}));
}

TEST_CASE("config: bulk publish is on by default with one I/O thread, and needs one") {
  auto p = parse({});
  REQUIRE_FALSE(p.error);
  CHECK(p.cfg.publish_bulk_max == 100);
  CHECK(p.cfg.publish_bulk_calls == 1);
  p = parse({"--publish-bulk-max", "0"});
  REQUIRE_FALSE(p.error);
  CHECK(p.cfg.publish_bulk_max == 0);
  // Several threads turn the default off; asking for it with them is an error.
  p = parse({"--threads", "2"});
  REQUIRE_FALSE(p.error);
  CHECK(p.cfg.publish_bulk_max == 0);
  p = parse({"--threads", "2", "--publish-bulk-max", "0"});
  REQUIRE_FALSE(p.error);
  p = parse({"--publish-bulk-max", "50", "--publish-bulk-calls", "2"});
  REQUIRE_FALSE(p.error);
  CHECK(p.cfg.publish_bulk_max == 50);
  CHECK(p.cfg.publish_bulk_calls == 2);
  p = parse({"--publish-bulk-max", "50", "--threads", "2"});
  REQUIRE(p.error);
  CHECK(p.error->find("--threads 1") != std::string::npos);
  p = parse({"--publish-bulk-max", "100", "--threads", "2"});
  REQUIRE(p.error);
  CHECK(p.error->find("--threads 1") != std::string::npos);
  // From the environment as from the flag.
  ::setenv("RR_GATEWAY_PUBLISH_BULK_MAX", "20", 1);
  p = parse({"--threads", "2"});
  ::unsetenv("RR_GATEWAY_PUBLISH_BULK_MAX");
  REQUIRE(p.error);
  CHECK(p.error->find("--threads 1") != std::string::npos);
  CHECK_THROWS(parse({"--publish-bulk-calls", "0"}));
  CHECK_THROWS(parse({"--publish-bulk-max", "10001"}));
}

}  // namespace config_test
