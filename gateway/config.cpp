#include "gateway/config.h"

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdlib>
#include <iostream>

#include "common/build_info.h"
#include "common/duration.h"
#include "common/exit_codes.h"
#include "common/ids.h"
#include "common/log.h"

namespace rrkit::gateway {

std::optional<Endpoint> parse_endpoint(const std::string& text) {
  auto ep = rrkit::parse_endpoint(text);
  if (ep && ep->host.empty()) ep->host = "0.0.0.0";
  return ep;
}

namespace {

// Checks a duration flag at parse time so that a typo is reported next to its flag.
std::string check_duration(const std::string& text) {
  return parse_duration(text) ? std::string() : "not a duration (e.g. 250ms, 5s, 1m): " + text;
}

std::string check_endpoint(const std::string& text) {
  return parse_endpoint(text) ? std::string() : "expected HOST:PORT, got: " + text;
}

}  // namespace

void add_options(CLI::App& app, Config& cfg, ConfigText& text) {
  app.option_defaults()->always_capture_default();
  app.set_config("--config", "", "TOML/INI config file with the same keys as the long flags");
  auto env = [](const char* name) { return std::string("RR_GATEWAY_") + name; };
  app.add_option("--listen", cfg.listen, "client API HOST:PORT")->envname(env("LISTEN"))->check(check_endpoint);
  app.add_option("--callback-listen", cfg.callback_listen,
                 "Dapr callback HOST:PORT (daprd --app-port); equal to --listen to share one listener")
      ->envname(env("CALLBACK_LISTEN"))
      ->check(check_endpoint);
  app.add_option("--dapr-host", cfg.dapr_host, "daprd address")->envname(env("DAPR_HOST"));
  app.add_option("--dapr-http-port", cfg.dapr_http_port, "daprd HTTP port (env DAPR_HTTP_PORT also honoured)")
      ->envname(env("DAPR_HTTP_PORT"));
  app.add_option("--pubsub", cfg.pubsub, "Dapr pub/sub component name")->envname(env("PUBSUB"));
  app.add_option("--request-topic", cfg.request_topic, "topic requests are published to")->envname(env("REQUEST_TOPIC"));
  app.add_option("--reply-topic", cfg.reply_topic, "topic replies arrive on")->envname(env("REPLY_TOPIC"));
  app.add_option("--timeout", text.timeout, "default reply timeout")->envname(env("TIMEOUT"))->check(check_duration);
  app.add_option("--max-timeout", text.max_timeout, "cap for X-Request-Timeout-Ms")
      ->envname(env("MAX_TIMEOUT"))
      ->check(check_duration);
  app.add_option("--max-pending", cfg.max_pending, "requests waiting at once before 503")
      ->envname(env("MAX_PENDING"))
      ->check(CLI::PositiveNumber);
  app.add_option("--max-body", cfg.max_body, "largest accepted request body in bytes (413 above)")
      ->envname(env("MAX_BODY"))
      ->check(CLI::PositiveNumber);
  app.add_option("--max-reply-body", cfg.max_reply_body,
                 "largest accepted delivery body in bytes on the reply route (DROP above, never a retried status)")
      ->envname(env("MAX_REPLY_BODY"))
      ->check(CLI::PositiveNumber);
  app.add_option("--max-client-connections", cfg.max_client_connections,
                 "open connections on the client listener at most (503 and close above); 0: all descriptors "
                 "left after the daprd pool, the callback listener and a reserve")
      ->envname(env("MAX_CLIENT_CONNECTIONS"))
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-callback-connections", cfg.max_callback_connections,
                 "open connections on the Dapr callback listener at most")
      ->envname(env("MAX_CALLBACK_CONNECTIONS"))
      ->check(CLI::PositiveNumber);
  app.add_option("--header-timeout", text.header_timeout,
                 "a request header must be complete this long after its first byte (and a new connection's first byte must come)")
      ->envname(env("HEADER_TIMEOUT"))
      ->check(check_duration);
  app.add_option("--idle-timeout", text.idle_timeout, "idle keep-alive connections are closed after this (Keep-Alive: timeout=)")
      ->envname(env("IDLE_TIMEOUT"))
      ->check(check_duration);
  app.add_option("--dapr-acquire-timeout", text.dapr_acquire_timeout,
                 "longest wait for a free daprd connection before 503 dapr_busy")
      ->envname(env("DAPR_ACQUIRE_TIMEOUT"))
      ->check(check_duration);
  app.add_option("--late-window", text.late_window, "how long finished ids are remembered to classify replies")
      ->envname(env("LATE_WINDOW"))
      ->check(check_duration);
  app.add_option("--late-window-max", cfg.late_window_max, "how many finished ids are remembered at most")
      ->envname(env("LATE_WINDOW_MAX"));
  app.add_option("--instance-id", cfg.instance_id, "this instance's id (reply-to topic suffix, probe ids)")
      ->envname(env("INSTANCE_ID"));
  app.add_option("--reply-mode", text.reply_mode, "broadcast | reply-to")
      ->envname(env("REPLY_MODE"))
      ->check(CLI::IsMember({"broadcast", "reply-to"}));
  app.add_flag("--reply-bulk-subscribe", cfg.reply_bulk_subscribe,
               "subscribe to replies with Dapr's bulk subscribe (batches of replies per callback)")
      ->envname(env("REPLY_BULK_SUBSCRIBE"));
  app.add_option("--reply-bulk-max-messages", cfg.reply_bulk_max_messages,
                 "bulk subscribe: replies per batch at most (maxMessagesCount)")
      ->envname(env("REPLY_BULK_MAX_MESSAGES"))
      ->check(CLI::Range(1u, 10000u));
  app.add_option("--reply-bulk-max-await", text.reply_bulk_max_await,
                 "bulk subscribe: longest wait for a batch to fill (maxAwaitDurationMs, at least 1ms)")
      ->envname(env("REPLY_BULK_MAX_AWAIT"))
      ->check(check_duration);
  app.add_option("--publish-bulk-max", cfg.publish_bulk_max,
                 "publish requests queued behind a publish together with daprd's bulk publish, up to this many per call "
                 "(0: off; needs --threads 1, and is off by default with more)")
      ->envname(env("PUBLISH_BULK_MAX"))
      ->check(CLI::Range(0u, 10000u));
  app.add_option("--publish-bulk-calls", cfg.publish_bulk_calls,
                 "bulk publish: calls in flight at once; requests arriving meanwhile queue for the next call")
      ->envname(env("PUBLISH_BULK_CALLS"))
      ->check(CLI::Range(1u, 64u));
  app.add_option("--id-field", cfg.id_field, "body field that carries the correlation id")->envname(env("ID_FIELD"));
  app.add_option("--threads", cfg.threads, "io threads")->envname(env("THREADS"))->check(CLI::Range(1u, 64u));
  app.add_option("--dapr-connections", cfg.dapr_connections, "keep-alive connections to daprd at most")
      ->envname(env("DAPR_CONNECTIONS"))
      ->check(CLI::Range(std::size_t{1}, std::size_t{4096}));
  app.add_option("--log-level", cfg.log_level, "trace|debug|info|warn|error|off")
      ->envname(env("LOG_LEVEL"))
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.add_flag("--print-config", text.print_config, "print the effective configuration and exit")
      ->configurable(false);
}

std::optional<std::string> finalize(CLI::App& app, Config& cfg, const ConfigText& text) {
  cfg.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*parse_duration(text.timeout));
  cfg.max_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*parse_duration(text.max_timeout));
  cfg.late_window = std::chrono::duration_cast<std::chrono::milliseconds>(*parse_duration(text.late_window));
  cfg.header_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*parse_duration(text.header_timeout));
  cfg.idle_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(*parse_duration(text.idle_timeout));
  cfg.dapr_acquire_timeout =
      std::chrono::duration_cast<std::chrono::milliseconds>(*parse_duration(text.dapr_acquire_timeout));
  cfg.reply_bulk_max_await =
      std::chrono::duration_cast<std::chrono::milliseconds>(*parse_duration(text.reply_bulk_max_await));
  cfg.reply_mode = text.reply_mode == "reply-to" ? ReplyMode::reply_to : ReplyMode::broadcast;
  // Dapr's own variable, as set by `dapr run`; the RR_GATEWAY_ one or the flag wins.
  if (app.count("--dapr-http-port") == 0) {
    if (const char* p = std::getenv("DAPR_HTTP_PORT"); p && *p) {
      unsigned value = 0;
      const std::string s = p;
      const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
      if (ec != std::errc() || ptr != s.data() + s.size() || value == 0 || value > 65535) {
        return "DAPR_HTTP_PORT is not a port: " + s;
      }
      cfg.dapr_http_port = static_cast<std::uint16_t>(value);
      // So that --print-config shows the port in effect.
      app.get_option("--dapr-http-port")->default_str(std::to_string(value));
    }
  }
  if (const char* t = std::getenv("APP_API_TOKEN")) cfg.app_api_token = t;
  if (const char* t = std::getenv("DAPR_API_TOKEN")) cfg.dapr_api_token = t;
  if (cfg.timeout.count() <= 0) return std::string("--timeout must be positive");
  if (cfg.max_timeout < cfg.timeout) return std::string("--max-timeout must be at least --timeout");
  if (cfg.header_timeout.count() <= 0) return std::string("--header-timeout must be positive");
  if (cfg.idle_timeout.count() <= 0) return std::string("--idle-timeout must be positive");
  if (cfg.dapr_acquire_timeout.count() <= 0) return std::string("--dapr-acquire-timeout must be positive");
  // daprd's Kafka component ignores a bulk subscription whose await is 0 and takes 10 s instead.
  if (cfg.reply_bulk_max_await.count() < 1 || cfg.reply_bulk_max_await.count() > 600000) {
    return std::string("--reply-bulk-max-await must be between 1ms and 10m");
  }
  if (cfg.publish_bulk_max > 0 && !cfg.single_thread()) {
    if (app.count("--publish-bulk-max") > 0) return std::string("--publish-bulk-max needs --threads 1");
    // On by default only where it can run: with several I/O threads every request is its own publish.
    cfg.publish_bulk_max = 0;
    app.get_option("--publish-bulk-max")->default_str("0");
  }
  if (cfg.instance_id.empty()) cfg.instance_id = new_uuid_v4().substr(0, 8);
  if (cfg.id_field.empty()) return std::string("--id-field must not be empty");
  return std::nullopt;
}

std::optional<int> parse_command_line(int argc, char** argv, Config& cfg, ConfigText& text) {
  CLI::App app{"rr-gateway: synchronous HTTP request/reply over Kafka through a Dapr sidecar"};
  add_options(app, cfg, text);
  app.set_version_flag("--version", rrkit::version_text("rr-gateway"));
  // Parsed here rather than by CLI11_PARSE, whose codes (100 and up) differ from rrkit's usage code.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? rrkit::exit_code::ok : rrkit::exit_code::usage;
  }
  if (auto error = finalize(app, cfg, text)) {
    std::cerr << "rr-gateway: " << *error << "\n";
    return rrkit::exit_code::usage;
  }
  if (text.print_config) {
    std::cout << app.config_to_str(true, false);
    return rrkit::exit_code::ok;
  }
  return std::nullopt;
}

}  // namespace rrkit::gateway
