#pragma once
// The control API's request handling, free of sockets so tests call it directly:
//   GET /healthz, GET /profile, PUT /profile (YAML or JSON), POST /pause, POST /resume,
//   GET /stats, GET /metrics.
#include <string>

#include <nlohmann/json.hpp>

namespace rrkit::simulator {

struct ControlRequest {
  std::string method;
  std::string target;
  std::string body;
};

struct ControlResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

// What the control API acts on (the running simulator; a fake in tests).
class ControlTarget {
 public:
  virtual ~ControlTarget() = default;
  virtual nlohmann::json health() = 0;
  virtual nlohmann::json profile_json() = 0;
  // Validates and applies; returns an error message (file/line/key) or "" on success.
  virtual std::string put_profile(const std::string& text) = 0;
  virtual void pause() = 0;
  virtual void resume() = 0;
  virtual nlohmann::json stats() = 0;
  virtual std::string metrics_text() = 0;
};

ControlResponse handle_control(ControlTarget& target, const ControlRequest& request);

}  // namespace rrkit::simulator
