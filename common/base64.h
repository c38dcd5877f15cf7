#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace rrkit {
// Standard base64 (RFC 4648, with padding), via OpenSSL. decode ignores white space and returns nullopt on malformed input.
std::string base64_encode(std::string_view bytes);
std::optional<std::string> base64_decode(std::string_view text);
}  // namespace rrkit
