#pragma once
// HOST:PORT, the one spelling of a TCP endpoint on every command line of rrkit (listen addresses,
// control APIs, gateway URLs). Each caller adds its own policy (an empty host meaning "all
// interfaces", port 0 meaning "any"), so the parser itself accepts both.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rrkit {

struct Endpoint {
  std::string host;  // may be empty; an IPv6 literal is given without its brackets
  std::uint16_t port = 0;
};

// "HOST:PORT", "[V6]:PORT" or ":PORT"; nullopt when there is no colon or the port is not a decimal
// number in 0..65535 (signs, spaces, trailing text and overflow are refused, never wrapped).
std::optional<Endpoint> parse_endpoint(std::string_view text);

}  // namespace rrkit
