#include "simulator/control_api.h"

#include "common/json_limits.h"

namespace rrkit::simulator {

namespace {
// Request paths and profile texts come from outside and may hold any bytes (an error echoes them):
// a strict dump() would throw on the first byte that is not UTF-8.
ControlResponse json_response(int status, const nlohmann::json& body) {
  return ControlResponse{status, "application/json", safe_dump(body) + "\n"};
}
ControlResponse error(int status, const std::string& message) {
  return json_response(status, {{"error", message}});
}
}  // namespace

ControlResponse handle_control(ControlTarget& target, const ControlRequest& request) {
  std::string path = request.target.substr(0, request.target.find('?'));
  const std::string& m = request.method;
  const auto only = [&](const char* method) { return m == method; };
  if (path == "/healthz") {
    if (!only("GET")) return error(405, "use GET");
    return json_response(200, target.health());
  }
  if (path == "/profile") {
    if (m == "GET") return json_response(200, target.profile_json());
    if (m == "PUT") {
      if (request.body.empty()) return error(400, "empty profile body (send YAML or JSON)");
      const std::string err = target.put_profile(request.body);
      if (!err.empty()) return error(400, err);
      return json_response(200, target.profile_json());
    }
    return error(405, "use GET or PUT");
  }
  if (path == "/pause" || path == "/resume") {
    if (!only("POST")) return error(405, "use POST");
    if (path == "/pause") target.pause();
    else target.resume();
    return json_response(200, {{"paused", path == "/pause"}});
  }
  if (path == "/stats") {
    if (!only("GET")) return error(405, "use GET");
    return json_response(200, target.stats());
  }
  if (path == "/metrics") {
    if (!only("GET")) return error(405, "use GET");
    return ControlResponse{200, "text/plain; version=0.0.4", target.metrics_text()};
  }
  return error(404, "unknown path " + path + " (healthz, profile, pause, resume, stats, metrics)");
}

}  // namespace rrkit::simulator
