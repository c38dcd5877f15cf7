#include "harness/decision_lines.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <limits>

namespace rrkit::harness {

namespace {

// Texts are copied into chunks of this size (a longer text gets a chunk of its own), so that interning
// never moves a stored text: the views handed out stay valid.
constexpr std::size_t kChunkBytes = 1 << 20;

std::size_t hash_of(std::string_view s) { return std::hash<std::string_view>{}(s); }

}  // namespace

StringPool::StringPool(const StringPool& other) {
  // Interned in the same order, every text gets the handle it had: lines copied with the pool stay valid.
  for (Handle h = 1; h < other.spans_.size(); ++h) intern(other.view(h));
}

StringPool& StringPool::operator=(const StringPool& other) {
  if (this != &other) *this = StringPool(other);
  return *this;
}

const char* StringPool::store(std::string_view s) {
  // Four billion bytes in one text are far beyond any line of a log (a line is read whole first).
  const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(s.size(), UINT32_MAX));
  const std::size_t head = n < kLongText ? 1 : 1 + sizeof n;
  const std::size_t need = head + n;
  char* p = nullptr;
  if (need > kChunkBytes / 4) {
    // A long text would waste most of a shared chunk: it gets its own, inserted before the current one.
    auto own = std::make_unique<char[]>(need);
    p = own.get();
    chunk_bytes_ += need;
    chunks_.insert(chunks_.end() - (chunks_.empty() ? 0 : 1), std::move(own));
  } else {
    if (chunks_.empty() || chunk_used_ + need > chunk_size_) {
      chunks_.push_back(std::make_unique<char[]>(kChunkBytes));
      chunk_bytes_ += kChunkBytes;
      chunk_used_ = 0;
      chunk_size_ = kChunkBytes;
    }
    p = chunks_.back().get() + chunk_used_;
    chunk_used_ += need;
  }
  if (n < kLongText) {
    p[0] = static_cast<char>(n);
  } else {
    p[0] = static_cast<char>(kLongText);
    std::memcpy(p + 1, &n, sizeof n);
  }
  if (n > 0) std::memcpy(p + head, s.data(), n);
  return p;
}

void StringPool::grow() {
  std::vector<Handle> bigger(table_.size() * 2, kNone);
  const std::size_t mask = bigger.size() - 1;
  for (Handle h = 1; h < spans_.size(); ++h) {
    std::size_t i = hash_of(view(h)) & mask;
    while (bigger[i] != kNone) i = (i + 1) & mask;
    bigger[i] = h;
  }
  table_ = std::move(bigger);
}

StringPool::Handle StringPool::find(std::string_view s) const {
  if (s.empty()) return 0;
  if (table_.empty()) return kNone;
  const std::size_t mask = table_.size() - 1;
  for (std::size_t i = hash_of(s) & mask;; i = (i + 1) & mask) {
    const Handle h = table_[i];
    if (h == kNone) return kNone;
    if (view(h) == s) return h;
  }
}

StringPool::Handle StringPool::intern(std::string_view s) {
  if (s.empty()) return 0;
  if (spans_.empty()) {
    spans_.push_back(nullptr);  // handle 0, never in the table: find and intern answer it first
    table_.assign(64, kNone);
  }
  const std::size_t mask = table_.size() - 1;
  std::size_t i = hash_of(s) & mask;
  for (; table_[i] != kNone; i = (i + 1) & mask) {
    if (view(table_[i]) == s) return table_[i];
  }
  // Four billion distinct texts are far beyond any run (their bytes alone would not fit in memory).
  const auto h = static_cast<Handle>(spans_.size());
  spans_.push_back(store(s));
  table_[i] = h;
  // Kept at most half full, so that a probe stays short.
  if (spans_.size() * 2 > table_.size()) grow();
  return h;
}

std::size_t StringPool::bytes() const {
  return chunk_bytes_ + spans_.capacity() * sizeof(spans_[0]) + table_.capacity() * sizeof(Handle);
}

DecisionLines::DecisionLines(const std::vector<nlohmann::json>& lines) {
  lines_.reserve(lines.size());
  for (const auto& l : lines) push_back(l);
}

DecisionLines::DecisionLines(std::initializer_list<nlohmann::json> lines) {
  for (const auto& l : lines) push_back(l);
}

void DecisionLines::push_back(const nlohmann::json& line) {
  const auto parsed = parse_decision_record(line);
  if (!parsed.ok()) return;
  push_back(parsed.record);
  const auto ts = line.find("ts_us");
  lines_.back().timed = ts != line.end() && ts->is_number_integer();
}

void DecisionLines::push_back(const DecisionRecord& d) {
  DecisionLine l;
  l.type = d.type;
  l.type_name = pool_.intern(d.type_name);
  l.ts_us = d.ts_us;
  l.timed = true;
  switch (d.type) {
    case DecisionLineType::decision:
      l.id = pool_.intern(d.id);
      l.key = pool_.intern(d.request_key());
      l.nonce = pool_.intern(d.field_string("nonce"));
      l.rule = pool_.intern(d.rule);
      l.kind = pool_.intern(d.kind);
      l.drop = d.drop;
      l.reorder = d.reorder;
      l.delay_us = d.delay_us;
      l.copies = d.copies;
      break;
    case DecisionLineType::reply:
    case DecisionLineType::reply_failed:
      l.kind = pool_.intern(d.kind);
      l.request_id = pool_.intern(d.request_id);
      l.reply_id = pool_.intern(d.reply_id);
      l.sent_us = d.sent_us;
      l.delivered = d.delivered_us > 0;
      break;
    default:
      break;
  }
  lines_.push_back(l);
}

void DecisionLines::push_back(const DecisionLine& line, const StringPool& from) {
  DecisionLine l = line;
  for (DecisionLine::Handle* h : {&l.type_name, &l.id, &l.key, &l.nonce, &l.rule, &l.kind, &l.request_id, &l.reply_id}) {
    *h = pool_.intern(from.view(*h));
  }
  lines_.push_back(l);
}

DecisionLines merge_decision_lines(std::vector<DecisionLines> logs) {
  if (logs.empty()) return {};
  if (logs.size() == 1) return std::move(logs.front());
  DecisionLines out;
  std::size_t total = 0;
  for (const auto& l : logs) total += l.size();
  out.reserve(total);
  std::vector<std::size_t> next(logs.size(), 0);
  std::vector<std::int64_t> last(logs.size(), INT64_MIN);  // the head's time, inherited by untimed lines
  for (std::size_t done = 0; done < total; ++done) {
    std::size_t pick = logs.size();
    std::int64_t best = INT64_MAX;
    for (std::size_t k = 0; k < logs.size(); ++k) {
      if (next[k] >= logs[k].size()) continue;
      const DecisionLine& head = logs[k].lines()[next[k]];
      const std::int64_t ts = head.timed ? head.ts_us : last[k];
      if (pick == logs.size() || ts < best) {
        pick = k;
        best = ts;
      }
    }
    last[pick] = best;
    out.push_back(logs[pick].lines()[next[pick]++], logs[pick].pool());
  }
  return out;
}

}  // namespace rrkit::harness
