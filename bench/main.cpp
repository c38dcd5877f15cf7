// rr-bench: the benchmark entry point (bench/run.sh builds and calls it). Figures, not tests.
#include <CLI/CLI.hpp>
#include <iostream>

#include "bench/bench.h"

int main(int argc, char** argv) {
  CLI::App app{"rr-bench: rrkit against the floors (raw Kafka, daprd alone) and a Node.js peer, on the real stack"};
  rrkit::bench::Config config;
  bool print_config = false;
  rrkit::bench::add_options(app, config);
  app.set_config("--config", "", "TOML/INI file with any of the options above");
  app.add_flag("--print-config", print_config, "Print the effective configuration, then exit");
  CLI11_PARSE(app, argc, argv);
  if (print_config) {
    std::cout << app.config_to_str(true, true);
    return 0;
  }
  return rrkit::bench::run(config);
}
