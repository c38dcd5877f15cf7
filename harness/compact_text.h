#pragma once
// Text members of a RequestRecord. A long run holds one record per request (a million of them for a 1M soak,
// twice while the live run settles), and a std::string costs 32 bytes even when empty plus a heap block for
// anything over 15 characters (every 36-character correlation id). These two types hold the same text in
// fewer bytes and read like a std::string_view, so the code that uses the records reads as before.
//
// InlineText<N>: N bytes, up to N - 1 characters inline (a correlation id in 40, a nonce in 24), longer on
// the heap. HeapText: 8 bytes, nothing for an empty text (most client errors and answer bodies), the text on
// the heap otherwise. Both are plain values: copyable, movable, compared and printed as their text.
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace rrkit::harness {

namespace text_detail {

// A heap block: the size, then the characters. One allocation per long text, freed with delete[].
inline char* make_block(std::string_view s) {
  auto* block = new char[sizeof(std::size_t) + s.size()];
  const std::size_t n = s.size();
  std::memcpy(block, &n, sizeof n);
  if (n > 0) std::memcpy(block + sizeof n, s.data(), n);
  return block;
}
inline std::string_view block_view(const char* block) {
  if (block == nullptr) return {};
  std::size_t n = 0;
  std::memcpy(&n, block, sizeof n);
  return {block + sizeof n, n};
}

// What both types offer besides storage: a std::string's reading side.
template <typename D>
class TextApi {
 public:
  static constexpr std::size_t npos = std::string_view::npos;

  bool empty() const { return view().empty(); }
  std::size_t size() const { return view().size(); }
  std::size_t length() const { return view().size(); }
  const char* data() const { return view().data(); }
  std::size_t find(std::string_view s, std::size_t pos = 0) const { return view().find(s, pos); }
  std::string str() const { return std::string(view()); }
  std::string substr(std::size_t pos, std::size_t n = npos) const { return std::string(view().substr(pos, n)); }
  operator std::string_view() const { return view(); }  // NOLINT: reads like the string it replaces
  operator std::string() const { return str(); }        // NOLINT: likewise
  void shrink_to_fit() {}                               // always as small as it gets
  // A range of characters, so nlohmann::json::parse reads it as it reads a std::string.
  const char* begin() const { return view().data(); }
  const char* end() const { return view().data() + view().size(); }

  // One overload per kind of operand: a string literal or a std::string would otherwise convert both to a
  // string_view and to a D, and the comparison would be ambiguous.
  friend bool operator==(const D& a, const D& b) { return a.view() == b.view(); }
  friend bool operator==(const D& a, std::string_view b) { return a.view() == b; }
  friend bool operator==(const D& a, const std::string& b) { return a.view() == std::string_view(b); }
  friend bool operator==(const D& a, const char* b) { return a.view() == std::string_view(b); }
  // A JSON value converts to anything: equal when it is this text as a JSON string.
  friend bool operator==(const D& a, const nlohmann::json& b) {
    return b.is_string() && b.get_ref<const std::string&>() == a.view();
  }
  friend std::strong_ordering operator<=>(const D& a, const D& b) { return a.view() <=> b.view(); }
  friend std::strong_ordering operator<=>(const D& a, std::string_view b) { return a.view() <=> b; }
  friend std::strong_ordering operator<=>(const D& a, const std::string& b) { return a.view() <=> std::string_view(b); }
  friend std::strong_ordering operator<=>(const D& a, const char* b) { return a.view() <=> std::string_view(b); }
  friend std::string operator+(std::string a, const D& b) { return a.append(b.view()); }
  friend std::string operator+(const char* a, const D& b) { return std::string(a).append(b.view()); }
  friend std::string operator+(const D& a, std::string_view b) { return std::string(a.view()).append(b); }
  friend std::string operator+(const D& a, const char* b) { return std::string(a.view()).append(b); }
  friend std::ostream& operator<<(std::ostream& out, const D& t) { return out << t.view(); }
  friend void to_json(nlohmann::json& j, const D& t) { j = std::string(t.view()); }

 private:
  std::string_view view() const { return static_cast<const D&>(*this).view(); }
};

}  // namespace text_detail

template <std::size_t N>
class InlineText : public text_detail::TextApi<InlineText<N>> {
  static_assert(N >= 16 && N <= 128, "room for a pointer and a size, and a size that fits the tag byte");
  static constexpr unsigned char kHeap = 0xFF;  // the tag byte of a text on the heap; otherwise its inline size

 public:
  InlineText() noexcept { bytes_[N - 1] = 0; }
  InlineText(std::string_view s) { set(s); }        // NOLINT: assigned from strings everywhere
  InlineText(const std::string& s) { set(s); }      // NOLINT
  InlineText(const char* s) { set(std::string_view(s)); }  // NOLINT
  InlineText(const InlineText& o) { set(o.view()); }
  InlineText(InlineText&& o) noexcept {
    std::memcpy(bytes_, o.bytes_, N);
    o.bytes_[N - 1] = 0;
  }
  InlineText& operator=(const InlineText& o) {
    if (this != &o) assign(o.view());
    return *this;
  }
  InlineText& operator=(InlineText&& o) noexcept {
    if (this != &o) {
      release();
      std::memcpy(bytes_, o.bytes_, N);
      o.bytes_[N - 1] = 0;
    }
    return *this;
  }
  InlineText& operator=(std::string_view s) { return assign(s); }
  InlineText& operator=(const std::string& s) { return assign(s); }
  InlineText& operator=(const char* s) { return assign(std::string_view(s)); }
  ~InlineText() { release(); }

  InlineText& assign(std::string_view s) {
    // The new text may be a view of this one: copied before the old one is released.
    InlineText fresh(s);
    *this = std::move(fresh);
    return *this;
  }
  void clear() {
    release();
    bytes_[N - 1] = 0;
  }

  std::string_view view() const {
    if (bytes_[N - 1] == kHeap) return text_detail::block_view(heap());
    return {reinterpret_cast<const char*>(bytes_), bytes_[N - 1]};
  }

 private:
  void set(std::string_view s) {
    if (s.size() < N) {
      if (!s.empty()) std::memcpy(bytes_, s.data(), s.size());
      bytes_[N - 1] = static_cast<unsigned char>(s.size());
    } else {
      char* block = text_detail::make_block(s);
      std::memcpy(bytes_, &block, sizeof block);
      bytes_[N - 1] = kHeap;
    }
  }
  const char* heap() const {
    const char* block = nullptr;
    std::memcpy(&block, bytes_, sizeof block);
    return block;
  }
  void release() {
    if (bytes_[N - 1] == kHeap) delete[] heap();
  }

  alignas(8) unsigned char bytes_[N];
};

class HeapText : public text_detail::TextApi<HeapText> {
 public:
  HeapText() noexcept = default;
  HeapText(std::string_view s) : block_(s.empty() ? nullptr : text_detail::make_block(s)) {}  // NOLINT
  HeapText(const std::string& s) : HeapText(std::string_view(s)) {}                            // NOLINT
  HeapText(const char* s) : HeapText(std::string_view(s)) {}                                   // NOLINT
  HeapText(const HeapText& o) : HeapText(o.view()) {}
  HeapText(HeapText&& o) noexcept : block_(std::move(o.block_)) {}
  HeapText& operator=(const HeapText& o) {
    if (this != &o) assign(o.view());
    return *this;
  }
  HeapText& operator=(HeapText&& o) noexcept = default;
  HeapText& operator=(std::string_view s) { return assign(s); }
  HeapText& operator=(const std::string& s) { return assign(s); }
  HeapText& operator=(const char* s) { return assign(std::string_view(s)); }
  ~HeapText() = default;

  HeapText& assign(std::string_view s) {
    HeapText fresh(s);  // before the old block goes: s may be a view of it
    block_ = std::move(fresh.block_);
    return *this;
  }
  void clear() { block_.reset(); }
  std::string_view view() const { return text_detail::block_view(block_.get()); }

 private:
  std::unique_ptr<char[]> block_;
};

}  // namespace rrkit::harness

template <std::size_t N>
struct fmt::formatter<rrkit::harness::InlineText<N>> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(const rrkit::harness::InlineText<N>& t, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(t.view(), ctx);
  }
};
template <>
struct fmt::formatter<rrkit::harness::HeapText> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(const rrkit::harness::HeapText& t, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(t.view(), ctx);
  }
};
