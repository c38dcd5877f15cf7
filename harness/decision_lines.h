#pragma once
// The simulator's decision log as the checker holds it: one fixed-size record per line with the few
// members a check reads, and every string (ids, nonces, rules, kinds) interned once in a pool. A JSON
// object per line cost kilobytes per request; a million-request run must fit in a few hundred MB, so the
// log is parsed line by line straight into this form and never held as JSON.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/decision_record.h"

namespace rrkit::harness {

// Interned strings: each distinct text is stored once and named by a dense index (0 is the empty string),
// so a check can key its tables by index (a vector) instead of by string (a hash map of copies).
class StringPool {
 public:
  using Handle = std::uint32_t;
  static constexpr Handle kNone = 0xFFFFFFFFu;  // find's answer for a text the pool does not hold

  StringPool() = default;  // empty until the first intern: a moved-from pool is a valid empty one
  StringPool(const StringPool& other);
  StringPool& operator=(const StringPool& other);
  StringPool(StringPool&&) noexcept = default;
  StringPool& operator=(StringPool&&) noexcept = default;

  Handle intern(std::string_view s);
  Handle find(std::string_view s) const;
  std::string_view view(Handle h) const {
    if (h == 0 || h >= spans_.size()) return {};
    const char* p = spans_[h];
    const auto short_size = static_cast<unsigned char>(p[0]);
    if (short_size != kLongText) return {p + 1, short_size};
    std::uint32_t n = 0;
    std::memcpy(&n, p + 1, sizeof n);
    return {p + 1 + sizeof n, n};
  }
  // Handles run from 0 to size() - 1 (0, the empty string, always counts): the size of a table by handle.
  std::size_t size() const { return spans_.empty() ? 1 : spans_.size(); }
  // Bytes the pool holds (texts, index and hash table), for the measurements in bench/RESULTS.md.
  std::size_t bytes() const;

 private:
  void grow();
  const char* store(std::string_view s);

  std::vector<std::unique_ptr<char[]>> chunks_;
  std::size_t chunk_used_ = 0, chunk_size_ = 0, chunk_bytes_ = 0;
  // Each text is stored after its length (one byte, or kLongText and four bytes): one pointer per handle, where
  // a pointer and a length took 16 bytes, and a long run interns two texts per request.
  static constexpr unsigned char kLongText = 0xFF;
  std::vector<const char*> spans_;
  std::vector<Handle> table_;  // open addressing, kNone for a free slot
};

// One line of the log: what run_checks, expected_replies and the assertions read, nothing else.
struct DecisionLine {
  using Handle = StringPool::Handle;
  std::int64_t ts_us = 0;
  std::int64_t delay_us = 0;      // decision
  std::int64_t copies = 1;        // decision
  std::int64_t sent_us = 0;       // reply, reply_failed
  Handle type_name = 0;           // as written (for a type this build does not know)
  Handle id = 0;                  // decision: the request's correlation id
  Handle key = 0;                 // decision: the key a run is compared by (DecisionRecord::request_key)
  Handle nonce = 0;               // decision: the logged nonce field
  Handle rule = 0;                // decision
  Handle kind = 0;                // decision or reply, as written (empty when absent)
  Handle request_id = 0;          // reply, reply_failed
  Handle reply_id = 0;            // reply, reply_failed (empty: the reply carries no readable id)
  DecisionLineType type = DecisionLineType::other;
  bool drop = false;
  bool reorder = false;
  bool timed = false;             // the line had a ts_us (an untimed one merges after its predecessor)
  bool delivered = false;         // reply: Kafka confirmed it (delivered_us > 0)
};

// A run's decision lines in log order, with their strings.
class DecisionLines {
 public:
  DecisionLines() = default;
  // From parsed lines, as tests and older callers hold them; what is no decision line is skipped.
  DecisionLines(const std::vector<nlohmann::json>& lines);  // NOLINT: implicit, a log read as JSON converts
  DecisionLines(std::initializer_list<nlohmann::json> lines);

  void push_back(const nlohmann::json& line);
  void push_back(const DecisionRecord& record);
  // A line of another log (merge_decision_lines): its strings are interned here.
  void push_back(const DecisionLine& line, const StringPool& from);

  const std::vector<DecisionLine>& lines() const { return lines_; }
  std::vector<DecisionLine>::const_iterator begin() const { return lines_.begin(); }
  std::vector<DecisionLine>::const_iterator end() const { return lines_.end(); }
  std::size_t size() const { return lines_.size(); }
  bool empty() const { return lines_.empty(); }
  std::string_view str(DecisionLine::Handle h) const { return pool_.view(h); }
  const StringPool& pool() const { return pool_; }
  // The handle of a text the log holds, or StringPool::kNone.
  DecisionLine::Handle find(std::string_view s) const { return pool_.find(s); }
  std::size_t bytes() const { return pool_.bytes() + lines_.capacity() * sizeof(DecisionLine); }
  void shrink_to_fit() { lines_.shrink_to_fit(); }
  void reserve(std::size_t lines) { lines_.reserve(lines); }

 private:
  std::vector<DecisionLine> lines_;
  StringPool pool_;
};

// The log's handle of a request's id or nonce; kNone when it is empty or the log never names it.
inline DecisionLine::Handle handle_of(const DecisionLines& log, std::string_view s) {
  return s.empty() ? StringPool::kNone : log.find(s);
}

// One log out of several, as merge_decision_logs merges parsed lines: by ts_us, each log's order kept.
DecisionLines merge_decision_lines(std::vector<DecisionLines> logs);

}  // namespace rrkit::harness
