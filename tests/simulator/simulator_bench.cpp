// Throughput of rr-simulator on the real broker with zero delay, and the cost of the
// decision log: the same pre-produced requests are answered with the log to a file,
// to /dev/null, and off. Usage: simulator_bench [REQUESTS]  (not a ctest; prints a table)
#include <iostream>

#include <nlohmann/json.hpp>

#include "testkit/http_client.h"
#include "common/ids.h"
#include "testkit/kafka.h"
#include "testkit/net.h"
#include "testkit/stack.h"
#include "tests/simulator/kafka_test_util.h"

using namespace std::chrono_literals;
namespace stack = rrkit::stack;
namespace fs = std::filesystem;

int main(int argc, char** argv) {
  const int n = argc > 1 ? std::atoi(argv[1]) : 20000;
  const auto paths = stack::Paths::discover();
  const fs::path dir = fs::temp_directory_path() / ("rrkit-sim-bench-" + rrkit::new_uuid_v4().substr(0, 8));
  fs::create_directories(dir);
  stack::KafkaConfig kc;
  kc.topics = {{"bench.requests", 4}};
  stack::Kafka kafka(paths, dir, kc);
  std::string error;
  if (!kafka.start(error)) {
    std::cerr << error << "\n";
    return 2;
  }
  const std::string brokers = kafka.brokers();
  {
    rrkit::simulator::testing::Producer producer(brokers);
    for (int i = 0; i < n; ++i) {
      const std::string id = rrkit::new_uuid_v4();
      producer.send("bench.requests", id,
                    nlohmann::json{{"correlationId", id}, {"action", "bench"}, {"data", {{"n", i}}}}.dump());
    }
    producer.flush();
  }
  std::cout << "requests: " << n << " (4 partitions), replies on 1 partition, zero delay\n";
  int run = 0;
  for (const std::string mode : {"file", "/dev/null", "off", "file"}) {
    ++run;
    const std::string reply_topic = "bench.replies." + std::to_string(run);
    if (!rrkit::kafka::ensure_topics(brokers, {{reply_topic, 1}}, 10s, error)) {
      std::cerr << error << "\n";
      return 2;
    }
    const std::string decisions = mode == "file" ? (dir / ("decisions-" + std::to_string(run) + ".jsonl")).string()
                                  : mode == "off" ? std::string() : mode;
    const auto port = rrkit::net::free_port();
    rrkit::proc::SpawnSpec spec;
    spec.name = "sim-" + std::to_string(run);
    spec.argv = {(paths.bin_dir / "rr-simulator").string(), "--brokers", brokers, "--request-topic", "bench.requests",
                 "--reply-topic", reply_topic, "--group", "bench-" + std::to_string(run), "--decisions", decisions,
                 "--control-listen", "127.0.0.1:" + std::to_string(port), "--log-level", "warn"};
    spec.log_file = dir / (spec.name + ".log");
    stack::Process sim(spec);
    if (!sim.start(error)) {
      std::cerr << error << "\n";
      return 2;
    }
    // Measured on the simulator's side: from its first consumed request to its n-th delivered reply.
    std::chrono::steady_clock::time_point first{};
    const bool ok = rrkit::proc::wait_until(
        [&] {
          const auto r = rrkit::http::get(port, "/stats", 1000ms);
          if (!r.ok()) return false;
          const auto j = nlohmann::json::parse(r.body, nullptr, false);
          if (j.is_discarded()) return false;
          if (first == std::chrono::steady_clock::time_point{} && j.value("requests", 0) > 0)
            first = std::chrono::steady_clock::now();
          return j.value("delivered", 0) >= n;
        },
        300s, 5ms);
    const auto last = std::chrono::steady_clock::now();
    const double secs = std::chrono::duration<double>(last - first).count();
    std::cout << "decision log " << (mode == "off" ? "off" : mode) << ": " << (ok ? "" : "INCOMPLETE ") << n
              << " replies delivered in " << secs << " s = " << static_cast<int>(n / secs) << " replies/s\n";
    sim.stop(20s);
  }
  kafka.stop();
  fs::remove_all(dir);
  return 0;
}
