// rr-gateway: parses the configuration, wires the gateway and runs it.
#include <sys/resource.h>

#ifdef RRKIT_MIMALLOC
#include <mimalloc.h>
#endif

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
  if (auto done = rrkit::gateway::parse_command_line(argc, argv, cfg, text)) return *done;
  raise_fd_limit();
  auto logger = rrkit::log::make("gateway", cfg.log_level);
#ifdef RRKIT_MIMALLOC
  // Linked in place of glibc's malloc for the whole process (gateway/CMakeLists.txt).
  rrkit::log::info(logger, "allocator", {{"allocator", "mimalloc"}, {"version", mi_version()}});
#endif
  try {
    rrkit::gateway::Gateway gateway(cfg, logger);
    return gateway.run();
  } catch (const std::exception& e) {
    rrkit::log::error(logger, "fatal", {{"error", e.what()}});
    return rrkit::exit_code::runtime_failure;
  }
}
