#include "simulator/app.h"

#include <signal.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <charconv>
#include <cstdlib>
#include <iostream>
#include <string_view>
#include <thread>

#include "common/build_info.h"
#include "common/duration.h"
#include "common/endpoint.h"
#include "common/log.h"
#include "simulator/control_server.h"
#include "simulator/decision_log.h"
#include "simulator/engine.h"
#include "simulator/kafka_io.h"
#include "simulator/metrics.h"
#include "simulator/profile.h"

namespace rrkit::simulator {

using namespace std::chrono_literals;

void add_options(CLI::App& app, Config& c) {
  app.set_config("--config", "", "Read flags from a TOML/INI config file");
  const auto env = [](const char* name) { return std::string("RR_SIMULATOR_") + name; };
  app.add_option("--brokers", c.brokers, "Kafka bootstrap servers")->envname(env("BROKERS"))->capture_default_str();
  app.add_option("--request-topic", c.request_topic, "Topic the requests arrive on")
      ->envname(env("REQUEST_TOPIC"))
      ->capture_default_str();
  app.add_option("--reply-topic", c.reply_topic, "Topic replies go to")->envname(env("REPLY_TOPIC"))->capture_default_str();
  app.add_option("--group", c.group, "Kafka consumer group")->envname(env("GROUP"))->capture_default_str();
  app.add_option("--profile", c.profile, "YAML fault profile (default: no faults, immediate ok replies)")
      ->envname(env("PROFILE"));
  app.add_option("--seed", c.seed, "Seed of every decision (overrides the profile's seed; default 1)")
      ->envname(env("SEED"));
  app.add_option("--set", c.overrides,
                 "Override a profile key: KEY=VALUE, KEY a dotted path (default.delay, rules.0.fraction), "
                 "VALUE YAML (repeatable)")
      ->take_all();
  app.add_option("--decisions", c.decisions, "Decision log (JSONL); empty string: off")
      ->envname(env("DECISIONS"))
      ->capture_default_str();
  app.add_option("--control-listen", c.control_listen, "Control API HOST:PORT (port 0: any; 'off': none)")
      ->envname(env("CONTROL_LISTEN"))
      ->capture_default_str();
  app.add_option("--id-from", c.id_from, "Where the correlation id is: body:FIELD, header:NAME or key")
      ->envname(env("ID_FROM"))
      ->capture_default_str();
  app.add_flag("--honor-reply-to", c.honor_reply_to, "Reply to the topic in the request's replyTo header when present")
      ->envname(env("HONOR_REPLY_TO"));
  app.add_option("--key-field", c.key_field,
                 "Decide on this request body field (dotted path) when it holds a string, instead of the correlation id: "
                 "a key the client controls makes a seed reproduce the same faults on the same requests")
      ->envname(env("KEY_FIELD"))
      ->capture_default_str();
  app.add_option("--log-field", c.log_fields,
                 "Copy this request body field into each decision line (repeatable; the harness joins on it)")
      ->envname(env("LOG_FIELD"));
  app.add_option("--log-level", c.log_level, "trace|debug|info|warn|error|off")
      ->envname(env("LOG_LEVEL"))
      ->capture_default_str();
  app.add_option("--shutdown-timeout", c.shutdown_timeout, "Bound on flushing replies at shutdown")
      ->envname(env("SHUTDOWN_TIMEOUT"))
      ->capture_default_str();
  app.add_flag("--print-config", c.print_config, "Print the effective configuration and profile as JSON, then exit");
}

void finish_options(CLI::App& app, Config& c) { c.seed_given = app.count("--seed") > 0 || std::getenv("RR_SIMULATOR_SEED"); }

std::optional<int> parse_command_line(int argc, char** argv, Config& config) {
  CLI::App app{"rr-simulator: the legacy A system (Kafka request/reply) with seeded per-message faults"};
  add_options(app, config);
  app.set_version_flag("--version", rrkit::version_text("rr-simulator"));
  // Parsed here rather than by CLI11_PARSE, whose codes (100 and up) differ from rrkit's usage code.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? rrkit::exit_code::ok : rrkit::exit_code::usage;
  }
  finish_options(app, config);
  return std::nullopt;
}

nlohmann::json to_json(const Config& c) {
  return {{"brokers", c.brokers},
          {"request_topic", c.request_topic},
          {"reply_topic", c.reply_topic},
          {"group", c.group},
          {"profile", c.profile},
          {"seed", c.seed},
          {"seed_given", c.seed_given},
          {"set", c.overrides},
          {"decisions", c.decisions},
          {"control_listen", c.control_listen},
          {"id_from", c.id_from},
          {"honor_reply_to", c.honor_reply_to},
          {"key_field", c.key_field},
          {"log_fields", c.log_fields},
          {"log_level", c.log_level},
          {"shutdown_timeout", c.shutdown_timeout}};
}

namespace {

// The running simulator as the control API sees it.
class Control final : public ControlTarget {
 public:
  Control(Engine& engine, KafkaConsumerLoop& consumer, Metrics& metrics, log::Logger logger)
      : engine_(engine), consumer_(consumer), metrics_(metrics), logger_(std::move(logger)) {}
  nlohmann::json health() override {
    return {{"status", "ok"}, {"assigned_partitions", engine_.assigned_partitions()}, {"seed", engine_.seed()}};
  }
  nlohmann::json profile_json() override { return to_json(*engine_.profile()); }
  std::string put_profile(const std::string& text) override {
    auto r = parse_profile(text, "PUT /profile");
    if (!r) return r.error->to_string();
    engine_.set_profile(r.profile, "PUT /profile");
    return "";
  }
  // Answered once the consumer has applied the change: a client that sends a request after
  // POST /pause returned must find it unconsumed until POST /resume.
  void pause() override {
    engine_.pause();
    if (!consumer_.wait_applied(2s)) log::warn(logger_, "pause not yet applied by the consumer after 2s");
  }
  void resume() override {
    engine_.resume();
    if (!consumer_.wait_applied(2s)) log::warn(logger_, "resume not yet applied by the consumer after 2s");
  }
  nlohmann::json stats() override { return engine_.stats(); }
  std::string metrics_text() override { return metrics_.text(); }

 private:
  Engine& engine_;
  KafkaConsumerLoop& consumer_;
  Metrics& metrics_;
  log::Logger logger_;
};

bool split_host_port(const std::string& text, std::string& host, std::uint16_t& port) {
  const auto ep = parse_endpoint(text);
  if (!ep || ep->host.empty()) return false;
  host = ep->host;
  port = ep->port;
  return true;
}

}  // namespace

int run(const Config& config) {
  spdlog::level::level_enum level{};
  if (!log::parse_level(config.log_level, level)) {
    std::cerr << "rr-simulator: --log-level must be trace|debug|info|warn|error|off, got '" << config.log_level << "'\n";
    return kExitConfig;
  }
  auto logger = log::make("simulator", config.log_level);

  std::vector<Override> overrides;
  for (const auto& s : config.overrides) {
    std::string err;
    auto o = parse_override(s, err);
    if (!o) {
      std::cerr << "rr-simulator: " << err << "\n";
      return kExitConfig;
    }
    overrides.push_back(*o);
  }
  ProfileResult loaded = config.profile.empty() ? parse_profile("", "--set", overrides)
                                                : load_profile_file(config.profile, overrides);
  if (!loaded) {
    std::cerr << "rr-simulator: bad profile: " << loaded.error->to_string() << "\n";
    log::error(logger, "bad profile", {{"error", loaded.error->to_string()}});
    return kExitConfig;
  }
  const std::uint64_t seed = config.seed_given ? config.seed : loaded.profile->seed.value_or(config.seed);
  std::string error;
  const auto id_source = IdSource::parse(config.id_from, error);
  if (!id_source) {
    std::cerr << "rr-simulator: " << error << "\n";
    return kExitConfig;
  }
  const auto shutdown_timeout = parse_duration(config.shutdown_timeout);
  if (!shutdown_timeout) {
    std::cerr << "rr-simulator: --shutdown-timeout: invalid duration '" << config.shutdown_timeout << "'\n";
    return kExitConfig;
  }
  std::string control_host;
  std::uint16_t control_port = 0;
  const bool control_on = config.control_listen != "off" && !config.control_listen.empty();
  if (control_on && !split_host_port(config.control_listen, control_host, control_port)) {
    std::cerr << "rr-simulator: --control-listen expects HOST:PORT or off, got '" << config.control_listen << "'\n";
    return kExitConfig;
  }
  if (config.print_config) {
    nlohmann::json out = to_json(config);
    out["effective_seed"] = seed;
    out["effective_profile"] = to_json(*loaded.profile);
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }

  DecisionLog decisions;
  if (!decisions.open(config.decisions, error)) {
    std::cerr << "rr-simulator: " << error << "\n";
    return kExitConfig;
  }

  // Signals are taken synchronously by this thread; every thread started below inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Metrics metrics;
  KafkaReplySink sink(logger);
  if (!sink.init(config.brokers, error)) {
    std::cerr << "rr-simulator: kafka: " << error << "\n";
    return kExitRuntime;
  }
  Engine engine(loaded.profile, seed, decisions, sink, metrics, logger, [logger] {
    logger->flush();
    std::_Exit(kExitCrash);
  });
  engine.set_logged_fields(config.log_fields);
  engine.set_key_field(config.key_field);
  sink.attach(&engine);
  DecisionRecord first;
  first.type = DecisionLineType::profile;
  first.ts_us = now_us();
  first.source = config.profile.empty() ? "default" : config.profile;
  first.seed = seed;
  first.profile = to_json(*loaded.profile);
  decisions.write(first);
  engine.start();

  ConsumerOptions copts{config.brokers, config.request_topic, config.reply_topic, config.group, *id_source,
                        config.honor_reply_to};
  KafkaConsumerLoop consumer(copts, engine, logger);
  if (!consumer.init(error)) {
    std::cerr << "rr-simulator: kafka: " << error << "\n";
    return kExitRuntime;
  }

  Control control(engine, consumer, metrics, logger);
  ControlServer server([&control](const ControlRequest& r) { return handle_control(control, r); }, logger);
  if (control_on && !server.start(control_host, control_port, error)) {
    std::cerr << "rr-simulator: " << error << "\n";
    return kExitConfig;
  }
  log::info(logger, "rr-simulator started",
            {{"brokers", config.brokers},
             {"request_topic", config.request_topic},
             {"reply_topic", config.reply_topic},
             {"group", config.group},
             {"seed", seed},
             {"profile", config.profile},
             {"decisions", config.decisions},
             {"control_port", control_on ? server.port() : 0}});

  std::thread consumer_thread([&consumer] { consumer.run(); });
  int exit_code = kExitOk;
  for (;;) {
    timespec ts{0, 100'000'000};
    const int sig = sigtimedwait(&signals, nullptr, &ts);
    if (sig > 0) {
      log::info(logger, "shutting down", {{"signal", sig}});
      break;
    }
    if (consumer.fatal() || sink.fatal()) {
      log::error(logger, "kafka fatal error, exiting");
      exit_code = kExitRuntime;
      break;
    }
  }
  // Stop consuming, stop emitting, wait for what was produced, commit what is handled, leave the group.
  consumer.stop();
  consumer_thread.join();
  engine.stop();
  if (!sink.flush(std::chrono::duration_cast<std::chrono::milliseconds>(*shutdown_timeout))) {
    log::warn(logger, "some replies were not delivered before the shutdown timeout");
  }
  consumer.close();
  sink.stop_polling();
  server.stop();
  log::info(logger, "rr-simulator stopped", {{"abandoned_requests", engine.in_flight()}, {"exit_code", exit_code}});
  sink.attach(nullptr);
  return exit_code;
}

}  // namespace rrkit::simulator
