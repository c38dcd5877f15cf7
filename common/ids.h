#pragma once
// Correlation ids: random UUIDv4 strings, unguessable, wrapped in a strong type
// so that an id is never confused with a topic or a payload field.
#include <compare>
#include <string>
#include <string_view>

namespace rrkit {

class CorrelationId {
 public:
  CorrelationId() = default;
  explicit CorrelationId(std::string value) : value_(std::move(value)) {}
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  auto operator<=>(const CorrelationId&) const = default;

 private:
  std::string value_;
};

struct CorrelationIdHash {
  std::size_t operator()(const CorrelationId& id) const noexcept { return std::hash<std::string>{}(id.str()); }
};

// A fresh random (version 4) UUID in canonical lowercase form.
std::string new_uuid_v4();
CorrelationId new_correlation_id();

// True for the canonical 8-4-4-4-12 hex form.
bool looks_like_uuid(std::string_view text);

}  // namespace rrkit
