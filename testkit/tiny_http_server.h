#pragma once
// A minimal threaded HTTP/1.1 server for end-to-end tests: stands in for an app behind daprd
// (it is the app, not a fake of Kafka or daprd). The handler runs on the server's own thread.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace rrkit::test {

struct TinyRequest {
  std::string method;
  std::string target;
  std::string body;
};
struct TinyResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
};

class TinyHttpServer {
 public:
  using Handler = std::function<TinyResponse(const TinyRequest&)>;
  explicit TinyHttpServer(Handler handler);  // listens on 127.0.0.1, a free port
  ~TinyHttpServer();
  std::uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rrkit::test
