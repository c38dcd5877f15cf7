#pragma once
// Correlation ids: random UUIDv4 strings, unguessable, wrapped in a strong type
// so that an id is never confused with a topic or a payload field.
#include <compare>
#include <string>
#include <string_view>

namespace rrkit {

class CorrelationId {
 public:
  CorrelationId() : CorrelationId(std::string()) {}
  explicit CorrelationId(std::string value) : value_(std::move(value)), hash_(std::hash<std::string>{}(value_)) {}
  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }
  // The hash of the text, computed once: the gateway's tables look an id up several times, and a
  // table walking a bucket then compares hashes before it reads the text (kept apart, on the heap).
  std::size_t hash() const { return hash_; }
  bool operator==(const CorrelationId& other) const { return hash_ == other.hash_ && value_ == other.value_; }
  std::strong_ordering operator<=>(const CorrelationId& other) const { return value_ <=> other.value_; }

 private:
  std::string value_;
  std::size_t hash_;
};

struct CorrelationIdHash {
  std::size_t operator()(const CorrelationId& id) const noexcept { return id.hash(); }
};

// A fresh random (version 4) UUID in canonical lowercase form.
std::string new_uuid_v4();
CorrelationId new_correlation_id();

// True for the canonical 8-4-4-4-12 hex form.
bool looks_like_uuid(std::string_view text);

}  // namespace rrkit
