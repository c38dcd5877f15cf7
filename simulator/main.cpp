#include <CLI/CLI.hpp>

#include "common/build_info.h"
#include "common/exit_codes.h"
#include "simulator/app.h"

int main(int argc, char** argv) {
  CLI::App app{"rr-simulator: the legacy A system (Kafka request/reply) with seeded per-message faults"};
  rrkit::simulator::Config config;
  rrkit::simulator::add_options(app, config);
  app.set_version_flag("--version", rrkit::version_text("rr-simulator"));
  // Parsed here rather than by CLI11_PARSE, whose codes (100 and up) differ from rrkit's usage code.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? rrkit::exit_code::ok : rrkit::exit_code::usage;
  }
  rrkit::simulator::finish_options(app, config);
  return rrkit::simulator::run(config);
}
