#include "simulator/control_server.h"

#include "common/small_http_server.h"

namespace rrkit::simulator {

using namespace std::chrono_literals;

struct ControlServer::Impl {
  Handler handler;
  log::Logger logger;
  std::unique_ptr<small_http::Server> server;
};

ControlServer::ControlServer(Handler handler, log::Logger logger) : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->logger = std::move(logger);
}

ControlServer::~ControlServer() { stop(); }

bool ControlServer::start(const std::string& host, std::uint16_t port, std::string& error) {
  small_http::Options options;
  options.host = host;
  options.port = port;
  options.body_limit = 1 << 20;  // profiles are small; refuse anything bigger
  options.read_timeout = 30s;
  options.write_timeout = 30s;
  options.server_header = "rr-simulator";
  options.on_handler_error = [logger = impl_->logger](const small_http::Request& req, const std::string& what) {
    log::error(logger, "control request failed", {{"target", req.target}, {"error", what}});
  };
  auto serve = [handler = impl_->handler](const small_http::Request& req) {
    ControlResponse out = handler(ControlRequest{req.method, req.target, req.body});
    return small_http::reply(out.status, std::move(out.content_type), std::move(out.body));
  };
  impl_->server = std::make_unique<small_http::Server>(std::move(serve), std::move(options));
  if (!impl_->server->start(error)) {
    error = "control " + error;
    impl_->server.reset();
    return false;
  }
  return true;
}

std::uint16_t ControlServer::port() const { return impl_->server ? impl_->server->port() : 0; }

void ControlServer::stop() {
  if (impl_ && impl_->server) impl_->server->stop();
}

}  // namespace rrkit::simulator
