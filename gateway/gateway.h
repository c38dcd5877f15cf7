#pragma once
// rr-gateway: the HTTP server (client API and Dapr callbacks), the correlation core and
// the daprd client wired together on one io_context.
// Ownership: main() owns the Gateway; run() blocks on the calling thread (plus
// config.threads - 1 more) until SIGTERM/SIGINT, then answers every waiting client.
#include <memory>

#include "common/log.h"
#include "gateway/config.h"

namespace rrkit::gateway {

class Gateway {
 public:
  Gateway(Config config, log::Logger logger);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Binds the listeners, serves until a termination signal and returns the exit code
  // (0 after a graceful shutdown, 2 when a listener cannot be bound).
  int run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rrkit::gateway
