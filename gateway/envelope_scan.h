#pragma once
// A few members of a JSON object, read with Boost.JSON's validating parser and no document built:
// data_base64 from the CloudEvent that daprd delivers to a rawPayload subscription (the reply's bytes),
// then the correlation id and the probe flag from the reply itself. Everything else in the text is
// validated and skipped.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rrkit::gateway {

struct ScannedMember {
  enum class Kind { string, boolean, other };
  Kind kind = Kind::other;
  std::string text;    // a string's value, unescaped
  bool truth = false;  // a boolean's value
};

struct ScannedObject {
  bool object = false;  // the text is an object (else members is all empty)
  std::vector<std::optional<ScannedMember>> members;  // per key asked for: its last top-level member
};

// nullopt unless Boost.JSON's strict parser accepts text whole, no deeper than kMaxJsonDepth. The
// caller then reads text with parse_bounded, whose verdict counts (it also takes a byte-order mark).
std::optional<ScannedObject> scan_members(std::string_view text, std::span<const std::string_view> keys);

}  // namespace rrkit::gateway
