#pragma once
// A small blocking HTTP/1.1 client with a hard deadline, for readiness probes,
// control APIs and tests. Programs on a hot path use their own async clients.
#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace rrkit::http {

struct Request {
  std::string method = "GET";
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;
  std::string target = "/";
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::chrono::milliseconds timeout{2000};
};

struct Response {
  std::error_code ec;  // set when no HTTP answer arrived (refused, timed out, ...)
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  bool ok() const { return !ec && status >= 200 && status < 300; }
  std::string header(std::string_view name) const;
};

Response call(const Request& req);

inline Response get(std::uint16_t port, std::string target, std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
  Request r;
  r.port = port;
  r.target = std::move(target);
  r.timeout = timeout;
  return call(r);
}

inline Response post_json(std::uint16_t port, std::string target, std::string body,
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(2000)) {
  Request r;
  r.method = "POST";
  r.port = port;
  r.target = std::move(target);
  r.body = std::move(body);
  r.timeout = timeout;
  return call(r);
}

}  // namespace rrkit::http
