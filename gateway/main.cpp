// rr-gateway: parses the configuration, wires the gateway and runs it.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "common/build_info.h"
#include "common/exit_codes.h"
#include "common/ids.h"
#include "common/log.h"
#include "gateway/config.h"
#include "gateway/gateway.h"

namespace {

// Every waiting client holds a socket: allow as many as the hard limit permits.
void raise_fd_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

}  // namespace

int main(int argc, char** argv) {
  rrkit::gateway::Config cfg;
  rrkit::gateway::ConfigText text;
  cfg.instance_id = rrkit::new_uuid_v4().substr(0, 8);
  CLI::App app{"rr-gateway: synchronous HTTP request/reply over Kafka through a Dapr sidecar"};
  rrkit::gateway::add_options(app, cfg, text);
  app.set_version_flag("--version", rrkit::version_text("rr-gateway"));
  // Parsed here rather than by CLI11_PARSE, whose codes (100 and up) differ from rrkit's usage code.
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? rrkit::exit_code::ok : rrkit::exit_code::usage;
  }
  if (auto error = rrkit::gateway::finalize(app, cfg, text)) {
    std::cerr << "rr-gateway: " << *error << "\n";
    return rrkit::exit_code::usage;
  }
  if (text.print_config) {
    std::cout << app.config_to_str(true, false);
    return rrkit::exit_code::ok;
  }
  raise_fd_limit();
  auto logger = rrkit::log::make("gateway", cfg.log_level);
  try {
    rrkit::gateway::Gateway gateway(cfg, logger);
    return gateway.run();
  } catch (const std::exception& e) {
    rrkit::log::error(logger, "fatal", {{"error", e.what()}});
    return rrkit::exit_code::runtime_failure;
  }
}
