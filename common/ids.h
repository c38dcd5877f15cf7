#pragma once
// Correlation ids: random UUIDv4 strings, unguessable, wrapped in a strong type
// so that an id is never confused with a topic or a payload field.
#include <compare>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace rrkit {

class CorrelationId {
 public:
  // A UUID's text (36 characters) is kept inside the object: the gateway copies an id into its
  // tables, its publish and its waiter, and a copy of an inline id allocates nothing. A longer id
  // (a reply may name anything) is kept on the heap.
  static constexpr std::size_t kInline = 36;

  CorrelationId() : CorrelationId(std::string_view()) {}
  explicit CorrelationId(std::string_view value);
  CorrelationId(const CorrelationId& other) : CorrelationId(other.str(), other.hash_) {}
  CorrelationId(CorrelationId&& other) noexcept;
  CorrelationId& operator=(const CorrelationId& other);
  CorrelationId& operator=(CorrelationId&& other) noexcept;
  ~CorrelationId() { release(); }

  std::string_view str() const { return {size_ <= kInline ? text_.inline_ : text_.heap_, size_}; }
  bool empty() const { return size_ == 0; }
  // The hash of the text, computed once: the gateway's tables look an id up several times, and a
  // table walking a bucket then compares hashes before it reads the text.
  std::size_t hash() const { return hash_; }
  bool operator==(const CorrelationId& other) const { return hash_ == other.hash_ && str() == other.str(); }
  std::strong_ordering operator<=>(const CorrelationId& other) const { return str() <=> other.str(); }

 private:
  CorrelationId(std::string_view value, std::size_t hash);
  void release() noexcept;

  std::size_t hash_ = 0;
  std::uint32_t size_ = 0;
  union {
    char inline_[kInline];
    char* heap_;
  } text_{};
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
