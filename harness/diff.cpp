#include "harness/diff.h"

#include <fstream>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/decision_record.h"
#include "common/json_limits.h"
#include "harness/run_folder.h"
#include "harness/runner.h"

namespace rrkit::harness {

namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

struct RunView {
  std::optional<ScenarioResult> result;       // the checker's verdicts, replayed
  std::map<std::string, DecisionRecord> decision_by_key; // this run's decision lines by request key
};

std::optional<RunView> load(const fs::path& dir, std::string& error) {
  RunView v;
  v.result = replay_run(dir, error);
  if (!v.result) return std::nullopt;
  // The decision lines of the run itself (after the warm-up's), as replay reads them.
  const auto stored = load_run(dir, error);
  if (!stored) return std::nullopt;
  // Read from the files again, whole: the checker keeps only the members it judges by.
  const bool read = for_each_stored_decision(
      dir, stored->record,
      [&](const DecisionRecord& d) {
        if (d.type != DecisionLineType::decision) return;
        const auto key = d.request_key();
        // A request consumed twice (redelivery) keeps its first decision: both are the same function of its key.
        if (!key.empty()) v.decision_by_key.emplace(key, d);
      },
      error);
  if (!read) return std::nullopt;
  return v;
}

std::string describe(const DecisionRecord* d) {
  if (d == nullptr) return "no decision";
  std::string out;
  for (const auto& [name, value] : d->identity()) out += (out.empty() ? "" : " ") + name + "=" + safe_dump(value);
  return out;
}

bool same_decision(const DecisionRecord* a, const DecisionRecord* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return a->identity() == b->identity();
}

const DecisionRecord* find_decision(const RunView& v, const std::string& key) {
  const auto it = v.decision_by_key.find(key);
  return it == v.decision_by_key.end() ? nullptr : &it->second;
}

}  // namespace

std::optional<RunDiff> diff_runs(const fs::path& a, const fs::path& b, std::string& error) {
  std::string err;
  auto va = load(a, err);
  if (!va) {
    error = a.string() + ": " + err;
    return std::nullopt;
  }
  auto vb = load(b, err);
  if (!vb) {
    error = b.string() + ": " + err;
    return std::nullopt;
  }
  RunDiff d;
  d.requests_a = va->result->requests.size();
  d.requests_b = vb->result->requests.size();
  std::map<std::uint64_t, const RequestRecord*> by_index_b;
  for (const auto& r : vb->result->requests) by_index_b[r.index] = &r;
  std::map<std::uint64_t, const RequestRecord*> by_index_a;
  for (const auto& r : va->result->requests) by_index_a[r.index] = &r;
  for (const auto& [index, ra] : by_index_a) {
    const auto it = by_index_b.find(index);
    if (it == by_index_b.end()) {
      d.lines.push_back(fmt::format("#{}: sent in A only", index));
      ++d.outcomes_differ;
      continue;
    }
    const RequestRecord* rb = it->second;
    ++d.compared;
    if (ra->nonce != rb->nonce) {
      // Different keys: different requests (another seed, or a run from before keys were derived).
      d.lines.push_back(fmt::format("#{}: key {} vs {}", index, ra->nonce, rb->nonce));
    }
    const DecisionRecord* da = find_decision(*va, ra->nonce);
    const DecisionRecord* db = find_decision(*vb, rb->nonce);
    if (!same_decision(da, db)) {
      ++d.decisions_differ;
      d.lines.push_back(fmt::format("#{}: decision: {} | {}", index, describe(da), describe(db)));
    }
    if (ra->outcome != rb->outcome || ra->classification_text() != rb->classification_text()) {
      ++d.outcomes_differ;
      d.lines.push_back(fmt::format("#{}: outcome: {} ({}) | {} ({})", index, to_string(ra->outcome),
                                    ra->classification_text(), to_string(rb->outcome), rb->classification_text()));
    }
  }
  for (const auto& [index, rb] : by_index_b) {
    if (!by_index_a.count(index)) {
      d.lines.push_back(fmt::format("#{}: sent in B only", index));
      ++d.outcomes_differ;
    }
  }
  std::map<std::string, const CheckResult*> checks_b;
  for (const auto& c : vb->result->checks) checks_b[c.name] = &c;
  std::map<std::string, bool> seen;
  for (const auto& c : va->result->checks) {
    seen[c.name] = true;
    const auto it = checks_b.find(c.name);
    if (it == checks_b.end()) {
      ++d.checks_differ;
      d.lines.push_back(fmt::format("check \"{}\": {} | absent", c.name, to_string(c.state)));
    } else if (it->second->state != c.state) {
      ++d.checks_differ;
      d.lines.push_back(fmt::format("check \"{}\": {} | {} ({})", c.name, to_string(c.state),
                                    to_string(it->second->state),
                                    c.passed() ? it->second->message : c.message));
    }
  }
  for (const auto& c : vb->result->checks) {
    if (!seen.count(c.name)) {
      ++d.checks_differ;
      d.lines.push_back(fmt::format("check \"{}\": absent | {}", c.name, to_string(c.state)));
    }
  }
  return d;
}

}  // namespace rrkit::harness
