#pragma once
// Text members of a RequestRecord. A long run holds one record per request (a million of them for a 1M soak,
// twice while the live run settles), and a std::string costs 32 bytes even when empty plus a heap block for
// anything over 15 characters (every 36-character correlation id). These two types hold the same text in
// fewer bytes and read like a std::string_view, so the code that uses the records reads as before.
//
// InlineText<N>: N bytes, up to N - 1 characters inline (a correlation id in 40, a nonce in 24), longer on
// the heap. HeapText: 8 bytes, nothing for an empty text (most client errors and answer bodies), the text on
// the heap otherwise. Both are plain values: copyable, movable, compared and printed as their text. AnswerText
// (below) is a HeapText that may instead share one text among answers that differ only by the correlation id.
#include <atomic>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

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

// An answer body in 8 bytes: the text itself (as a HeapText), or a pattern shared by every answer that differs
// from it only by the request's correlation id: a gateway's 504 body names the id and nothing else of the request,
// and a run of a million timeouts would otherwise hold a million copies of it. view() is the text held: all of it
// for an own text, nothing for a shared one, whose text is text(id) with the id of the record that holds it.
class AnswerText : public text_detail::TextApi<AnswerText> {
  // The shared pattern: the text with the id cut out at `cut`, counted by its holders (records move between
  // threads, so the count is atomic).
  struct Pattern {
    std::atomic<std::size_t> holders{1};
    std::size_t cut = 0;
    std::string rest;
  };

 public:
  AnswerText() noexcept = default;
  AnswerText(std::string_view s) : bits_(s.empty() ? 0 : reinterpret_cast<std::uintptr_t>(text_detail::make_block(s))) {}  // NOLINT
  AnswerText(const std::string& s) : AnswerText(std::string_view(s)) {}  // NOLINT
  AnswerText(const char* s) : AnswerText(std::string_view(s)) {}         // NOLINT
  AnswerText(const AnswerText& o) : bits_(o.bits_) {
    if (shared()) pattern()->holders.fetch_add(1, std::memory_order_relaxed);
    else if (bits_ != 0) bits_ = reinterpret_cast<std::uintptr_t>(text_detail::make_block(o.view()));
  }
  AnswerText(AnswerText&& o) noexcept : bits_(std::exchange(o.bits_, 0)) {}
  AnswerText& operator=(const AnswerText& o) {
    if (this != &o) *this = AnswerText(o);
    return *this;
  }
  AnswerText& operator=(AnswerText&& o) noexcept {
    if (this != &o) {
      release();
      bits_ = std::exchange(o.bits_, 0);
    }
    return *this;
  }
  AnswerText& operator=(std::string_view s) { return assign(s); }
  AnswerText& operator=(const std::string& s) { return assign(s); }
  AnswerText& operator=(const char* s) { return assign(std::string_view(s)); }
  ~AnswerText() { release(); }

  AnswerText& assign(std::string_view s) {
    AnswerText fresh(s);  // before the old text goes: s may be a view of it
    return *this = std::move(fresh);
  }
  void clear() {
    release();
    bits_ = 0;
  }
  // The text held (empty for a shared pattern: see text()).
  std::string_view view() const { return shared() ? std::string_view() : text_detail::block_view(block()); }
  bool shared() const { return (bits_ & 1U) != 0; }
  // The whole answer: the own text, or the pattern with `id` put back where it was cut out.
  std::string text(std::string_view id) const {
    if (!shared()) return std::string(view());
    const Pattern* p = pattern();
    std::string out;
    out.reserve(p->rest.size() + id.size());
    out.append(p->rest, 0, p->cut).append(id).append(p->rest, p->cut);
    return out;
  }

 private:
  friend class AnswerPatterns;

  const char* block() const { return reinterpret_cast<const char*>(bits_); }
  Pattern* pattern() const { return reinterpret_cast<Pattern*>(bits_ & ~std::uintptr_t{1}); }
  void release() {
    if (shared()) {
      Pattern* p = pattern();
      if (p->holders.fetch_sub(1, std::memory_order_acq_rel) == 1) delete p;
    } else if (bits_ != 0) {
      delete[] block();
    }
    bits_ = 0;
  }

  std::uintptr_t bits_ = 0;  // 0: no text; low bit 0: an own text block (make_block); low bit 1: a Pattern
};

// Interns the answers of one traffic run: an answer that names `id` once and is otherwise the same as the one
// before it shares that one's pattern. The first answer of a shape keeps its own text (so a run of answers that
// are all different costs no more than before); the second makes the pattern that the later ones share.
class AnswerPatterns {
 public:
  AnswerText keep(std::string text, std::string_view id) {
    const std::size_t at = id.empty() ? std::string::npos : text.find(id);
    if (at == std::string::npos || text.find(id, at + id.size()) != std::string::npos) return AnswerText(text);
    text.erase(at, id.size());
    if (!last_.shared() || last_.pattern()->cut != at || last_.pattern()->rest != text) {
      if (candidate_cut_ != at || candidate_ != text) {
        candidate_cut_ = at;
        candidate_ = text;
        text.insert(at, id);
        return AnswerText(text);
      }
      last_.release();
      auto* p = new AnswerText::Pattern;
      p->cut = at;
      p->rest = std::move(text);
      last_.bits_ = reinterpret_cast<std::uintptr_t>(p) | 1U;
    }
    return last_;
  }

 private:
  AnswerText last_;  // the pattern made last (shared), or nothing
  std::string candidate_;
  std::size_t candidate_cut_ = std::string::npos;
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
template <>
struct fmt::formatter<rrkit::harness::AnswerText> : fmt::formatter<std::string_view> {
  template <typename Ctx>
  auto format(const rrkit::harness::AnswerText& t, Ctx& ctx) const {
    return fmt::formatter<std::string_view>::format(t.view(), ctx);
  }
};
