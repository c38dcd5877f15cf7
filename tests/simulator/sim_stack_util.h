#pragma once
// Set-up shared by the simulator's end-to-end tests: a scratch folder, services of the real stack
// that must come up, and rr-simulator started with a decision log and a control port. Catch2 code:
// a service that does not start fails the test with its error and log.
#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/json_limits.h"
#include "testkit/http_client.h"
#include "testkit/net.h"
#include "testkit/stack.h"

namespace rrkit::simulator::testing {

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A fresh folder per run so parallel runs (and leftovers of an earlier one) never share logs.
inline std::filesystem::path scratch_dir(const std::string& prefix) {
  const auto dir = std::filesystem::temp_directory_path() / (prefix + rrkit::new_uuid_v4().substr(0, 8));
  std::filesystem::create_directories(dir);
  return dir;
}

// Starts a stack service (Kafka, daprd, a process); its start error is in the failure message.
template <class Service>
void require_started(Service& service) {
  std::string error;
  const bool started = service.start(error);
  INFO(error);
  REQUIRE(started);
}

// A scratch folder and a real broker with `topics` (name, partitions), started; stopped when it goes.
struct KafkaStack {
  KafkaStack(const std::string& prefix, std::vector<kafka::TopicSpec> topics)
      : paths(stack::Paths::discover()), dir(scratch_dir(prefix)), kafka(paths, dir, config(std::move(topics))) {
    require_started(kafka);
  }

  stack::Paths paths;
  std::filesystem::path dir;
  stack::Kafka kafka;

 private:
  static stack::KafkaConfig config(std::vector<kafka::TopicSpec> topics) {
    stack::KafkaConfig kc;
    kc.topics = std::move(topics);
    return kc;
  }
};

struct Sim {
  stack::Process process;
  std::filesystem::path decisions;
  std::uint16_t control_port = 0;
};

// rr-simulator named `name` in `dir`, with its decision log and control API; `extra` adds its other flags.
inline Sim start_simulator(const stack::Paths& paths, const std::filesystem::path& dir, const std::string& name,
                           const std::vector<std::string>& extra) {
  Sim s;
  s.decisions = dir / (name + ".decisions.jsonl");
  s.control_port = rrkit::net::free_port();
  rrkit::proc::SpawnSpec spec;
  spec.name = name;
  spec.argv = {(paths.bin_dir / "rr-simulator").string(), "--decisions", s.decisions.string(), "--control-listen",
               "127.0.0.1:" + std::to_string(s.control_port)};
  spec.argv.insert(spec.argv.end(), extra.begin(), extra.end());
  spec.log_file = dir / (name + ".log");
  s.process = stack::Process(spec);
  require_started(s.process);
  return s;
}

// Waits until the simulator's consumer owns `partitions` partitions: requests sent before that may be
// read by nobody until the group settles, which a test would mistake for a lost request.
inline void wait_assigned(const Sim& s, int partitions) {
  const bool ok = rrkit::proc::wait_until(
      [&] {
        const auto r = rrkit::http::get(s.control_port, "/healthz");
        if (!r.ok()) return false;
        const auto j = rrkit::parse_bounded(r.body).value;
        return j.is_object() && j.value("assigned_partitions", 0) == partitions;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(100));
  INFO(read_file(s.process.log_file()));
  REQUIRE(ok);
}

}  // namespace rrkit::simulator::testing
