#pragma once
// The control API's HTTP listener: rrkit's one small HTTP server (common/small_http_server.h) on its
// own thread, answering with handle_control's pure answers. Owned by the simulator's app; the handler
// runs on the server's thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "common/log.h"
#include "simulator/control_api.h"

namespace rrkit::simulator {

class ControlServer {
 public:
  using Handler = std::function<ControlResponse(const ControlRequest&)>;
  ControlServer(Handler handler, log::Logger logger);
  ~ControlServer();
  // Binds host:port (port 0: any free port) and starts serving. False with a message on error.
  bool start(const std::string& host, std::uint16_t port, std::string& error);
  std::uint16_t port() const;
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rrkit::simulator
