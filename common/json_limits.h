#pragma once
// Parsing JSON that comes from outside (HTTP bodies, Kafka messages, Dapr deliveries, files).
// nlohmann parses nesting iteratively but serialises (dump) and compares recursively, once per
// level: 100,000 nested arrays in a 200 KB body overflow the stack of whoever dumps them. Every
// parser of outside input therefore goes through parse_bounded, which refuses such documents
// before nlohmann sees them, so later dumps and comparisons are safe on any thread.
#include <cstddef>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace rrkit {

// Deep enough for any real message (serde_json's default is 128), shallow enough that every
// recursive nlohmann operation stays well inside a 1 MiB thread stack.
inline constexpr std::size_t kMaxJsonDepth = 128;

enum class JsonErrc { none, invalid, too_deep };

struct BoundedJson {
  nlohmann::json value;        // discarded() unless errc == none
  JsonErrc errc = JsonErrc::none;
  bool ok() const { return errc == JsonErrc::none; }
};

// Nesting depth of the arrays and objects in text (strings and escapes skipped), stopping as soon
// as it passes limit; returns a value > limit in that case. Works on invalid JSON too.
std::size_t json_depth(std::string_view text, std::size_t limit = kMaxJsonDepth);

// Parses text without exceptions: too_deep when nesting exceeds max_depth, invalid when it is not
// JSON (trailing garbage included).
BoundedJson parse_bounded(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

// The nesting depth of an already-built value, without recursion (explicit stack), stopping past
// limit. For values assembled in code from parts that were each bounded.
std::size_t json_value_depth(const nlohmann::json& value, std::size_t limit = kMaxJsonDepth);

// Strict UTF-8 (no overlong forms, no surrogates, nothing above U+10FFFF): what a string must be for
// nlohmann's strict dump() to serialise it unchanged. Bytes from Kafka keys, headers or bodies are
// checked with it before they go into a reply.
bool valid_utf8(std::string_view s);

// Appends s as a JSON string: quoted as it is when it is printable ASCII without a quote or a
// backslash (ids, field names), else as safe_dump writes it.
void append_json_string(std::string& out, std::string_view s);

// dump() that never throws on invalid UTF-8 (bytes are replaced by U+FFFD) and never recurses
// past the limit: a value deeper than limit is written as the string "<too deep>".
std::string safe_dump(const nlohmann::json& value, int indent = -1, std::size_t limit = kMaxJsonDepth);

}  // namespace rrkit
