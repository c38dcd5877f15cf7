#include <CLI/CLI.hpp>

#include "simulator/app.h"

int main(int argc, char** argv) {
  CLI::App app{"rr-simulator: the legacy A system (Kafka request/reply) with seeded per-message faults"};
  rrkit::simulator::Config config;
  rrkit::simulator::add_options(app, config);
  CLI11_PARSE(app, argc, argv);
  rrkit::simulator::finish_options(app, config);
  return rrkit::simulator::run(config);
}
