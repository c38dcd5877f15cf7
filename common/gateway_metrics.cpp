#include "common/gateway_metrics.h"

namespace rrkit::gateway_metrics {

std::string_view to_string(Outcome o) {
  switch (o) {
    case Outcome::ok: return "ok";
    case Outcome::timeout: return "timeout";
    case Outcome::bad_request: return "bad_request";
    case Outcome::too_large: return "too_large";
    case Outcome::unsupported_media: return "unsupported_media";
    case Outcome::overloaded: return "overloaded";
    case Outcome::publish_failed: return "publish_failed";
    case Outcome::client_gone: return "client_gone";
    case Outcome::shutdown: return "shutdown";
  }
  return "?";
}

std::string_view to_string(ReplyClass c) {
  switch (c) {
    case ReplyClass::matched: return "matched";
    case ReplyClass::late: return "late";
    case ReplyClass::duplicate: return "duplicate";
    case ReplyClass::unknown: return "unknown";
    case ReplyClass::malformed: return "malformed";
    case ReplyClass::forged: return "forged";
    case ReplyClass::probe: return "probe";
  }
  return "?";
}

std::string series(std::string_view name, std::string_view label, std::string_view value) {
  std::string s(name);
  if (label.empty()) return s;
  s.append("{").append(label).append("=\"").append(value).append("\"}");
  return s;
}

}  // namespace rrkit::gateway_metrics
