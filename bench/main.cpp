// rr-bench: the benchmark entry point (bench/run.sh builds and calls it). Figures, not tests.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "bench/bench.h"
#include "common/build_info.h"

int main(int argc, char** argv) {
  CLI::App app{"rr-bench: rrkit against the floors (raw Kafka, daprd alone) and a Node.js peer, on the real stack"};
  rrkit::bench::Config config;
  bool print_config = false;
  std::string render_json;
  rrkit::bench::add_options(app, config);
  app.set_version_flag("--version", rrkit::version_text("rr-bench"));
  app.set_config("--config", "", "TOML/INI file with any of the options above");
  app.add_flag("--print-config", print_config, "Print the effective configuration, then exit");
  app.add_option("--render", render_json, "Only rewrite --markdown from an earlier results JSON, then exit")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  if (!render_json.empty()) {
    const auto results = nlohmann::json::parse(std::ifstream(render_json), nullptr, false);
    if (results.is_discarded() || config.markdown_out.empty()) {
      std::cerr << "rr-bench: --render needs a results JSON and --markdown FILE\n";
      return 3;
    }
    rrkit::bench::write_markdown(config.markdown_out, results);
    return 0;
  }
  if (print_config) {
    std::cout << app.config_to_str(true, true);
    return 0;
  }
  return rrkit::bench::run(config);
}
