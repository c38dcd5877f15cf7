// Reading an attached run's --gateway-url (declared in harness/runner.h).
#include "common/endpoint.h"
#include "harness/runner.h"
#include "harness/traffic.h"

namespace rrkit::harness {

bool parse_gateway_url(const std::string& url, std::string& host, std::uint16_t& port, std::string& error) {
  const std::string prefix = "http://";
  error = "cannot read gateway URL \"" + url + "\" (expected http://HOST:PORT)";
  if (url.rfind(prefix, 0) != 0) return false;
  std::string rest = url.substr(prefix.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto ep = parse_endpoint(rest);
  if (!ep || ep->host.empty() || ep->port == 0) return false;
  host = ep->host;
  port = ep->port;
  std::string why;
  if (!resolve_host(host, why)) {
    error = "gateway URL \"" + url + "\": " + why;
    return false;
  }
  error.clear();
  return true;
}

}  // namespace rrkit::harness
