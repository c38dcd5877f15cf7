#pragma once
// An Engine with no Kafka under it, for unit tests: a sink that records what would be produced, a
// decision log in a temporary file, and helpers to send requests and confirm deliveries.
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "simulator/engine.h"
#include "simulator/kafka_io.h"

namespace rrkit::simulator::test {

// Records produced replies; delivery reports are sent back by the test (as librdkafka would).
class RecordingSink : public ReplySink {
 public:
  struct Sent {
    std::string topic, key, body;
    std::uint64_t token;
    Headers headers;
  };
  ProduceResult produce(const std::string& topic, const std::string& key, const std::string& body,
                        const Headers& headers, std::uint64_t token) override {
    std::lock_guard lock(mutex);
    sent.push_back({topic, key, body, token, headers});
    return ProduceResult::ok;
  }
  std::size_t count() {
    std::lock_guard lock(mutex);
    return sent.size();
  }
  std::vector<Sent> snapshot() {
    std::lock_guard lock(mutex);
    return sent;
  }
  std::mutex mutex;
  std::vector<Sent> sent;
};

struct Fixture {
  explicit Fixture(const std::string& yaml, std::uint64_t seed = 5) {
    auto r = parse_profile(yaml, "test");
    if (!r) FAIL(r.error->to_string());
    log_path = std::filesystem::temp_directory_path() / ("rr-sim-engine-" + std::to_string(::getpid()) + "-" + std::to_string(++serial) + ".jsonl");
    std::filesystem::remove(log_path);
    std::string err;
    REQUIRE(decisions.open(log_path.string(), err));
    engine = std::make_unique<Engine>(r.profile, seed, decisions, sink, metrics, rrkit::log::make("simulator-test", "warn"),
                                      [this] { crashed = true; });
    engine->on_assigned({{"req", 0}});
    engine->start();
  }
  ~Fixture() {
    engine->stop();
    std::filesystem::remove(log_path);
  }
  void send(int i, const std::string& kind = "x") {
    nlohmann::json body{{"correlationId", "id-" + std::to_string(i)}, {"data", {{"kind", kind}}}};
    sent_bodies[body["correlationId"]] = body.dump();
    engine->on_message(parse_incoming("req", 0, i, "", body.dump(), {}, IdSource{}, "rep", false));
  }
  void deliver_all() {
    for (const auto& s : sink.snapshot()) {
      if (delivered.insert(s.token).second) engine->on_delivered(s.token, true, "");
    }
  }
  std::vector<nlohmann::json> log_lines(const std::string& type) {
    std::ifstream in(log_path);
    std::vector<nlohmann::json> out;
    std::string line;
    while (std::getline(in, line)) {
      auto j = nlohmann::json::parse(line);
      if (j["type"] == type) out.push_back(j);
    }
    return out;
  }
  // Reply lines by the request they answer (the last copy's line).
  std::map<std::string, nlohmann::json> replies_by_request() {
    std::map<std::string, nlohmann::json> out;
    for (auto& r : log_lines("reply")) out[r["request_id"].get<std::string>()] = r;
    return out;
  }
  static inline int serial = 0;
  std::filesystem::path log_path;
  DecisionLog decisions;
  RecordingSink sink;
  Metrics metrics;
  std::atomic<bool> crashed{false};
  std::set<std::uint64_t> delivered;
  std::map<std::string, std::string> sent_bodies;  // correlation id -> the request bytes as sent
  std::unique_ptr<Engine> engine;
};

}  // namespace rrkit::simulator::test
