#include "testkit/tiny_http_server.h"

#include <stdexcept>

#include "common/small_http_server.h"

namespace rrkit::test {

struct TinyHttpServer::Impl {
  explicit Impl(Handler h) : server(serve(std::move(h)), options()) {}
  static small_http::Options options() {
    small_http::Options o;
    o.read_timeout = std::chrono::seconds(60);
    return o;
  }
  static small_http::Server::Handler serve(Handler handler) {
    return [handler = std::move(handler)](const small_http::Request& req) {
      TinyResponse out = handler(TinyRequest{req.method, req.target, req.body});
      return small_http::reply(out.status, std::move(out.content_type), std::move(out.body));
    };
  }
  small_http::Server server;
};

TinyHttpServer::TinyHttpServer(Handler handler) : impl_(std::make_unique<Impl>(std::move(handler))) {
  // A test server that cannot listen leaves nothing to test: the test fails here, at its set-up.
  std::string error;
  if (!impl_->server.start(error)) throw std::runtime_error("tiny HTTP server: " + error);
}

TinyHttpServer::~TinyHttpServer() { impl_->server.stop(); }

std::uint16_t TinyHttpServer::port() const { return impl_->server.port(); }

}  // namespace rrkit::test
