#include "harness/decision_logs.h"

#include <cstdint>
#include <string>

#include "harness/jsonl_file.h"
#include "harness/run_folder.h"

namespace rrkit::harness {

namespace fs = std::filesystem;
using Json = nlohmann::json;

fs::path decision_log(const fs::path& dir, std::size_t instance) {
  return instance == 0 ? dir / "decisions.jsonl" : dir / ("decisions-" + std::to_string(instance) + ".jsonl");
}

std::vector<fs::path> further_decision_logs(const fs::path& dir) {
  std::vector<fs::path> out;
  // Bounded like the instance count a scenario may ask for plus every add_simulator: a folder is outside input.
  for (std::size_t k = 1; k < 64; ++k) {
    fs::path p = decision_log(dir, k);
    if (!jsonl_exists(p)) break;
    out.push_back(std::move(p));
  }
  return out;
}

namespace {

// A line's time, or none: a line from an older writer or a damaged one sorts with its predecessor.
bool time_of(const Json& line, std::int64_t& ts) {
  const auto it = line.find("ts_us");
  if (it == line.end() || !it->is_number_integer()) return false;
  ts = it->get<std::int64_t>();
  return true;
}

}  // namespace

std::vector<Json> merge_decision_logs(std::vector<std::vector<Json>> logs) {
  if (logs.size() == 1) return std::move(logs.front());
  std::vector<Json> out;
  std::size_t total = 0;
  for (const auto& l : logs) total += l.size();
  out.reserve(total);
  std::vector<std::size_t> next(logs.size(), 0);
  std::vector<std::int64_t> last(logs.size(), INT64_MIN);  // the head's time, inherited by untimed lines
  while (out.size() < total) {
    std::size_t pick = logs.size();
    std::int64_t best = INT64_MAX;
    for (std::size_t k = 0; k < logs.size(); ++k) {
      if (next[k] >= logs[k].size()) continue;
      std::int64_t ts = last[k];
      time_of(logs[k][next[k]], ts);
      if (pick == logs.size() || ts < best) {
        pick = k;
        best = ts;
      }
    }
    last[pick] = best;
    out.push_back(std::move(logs[pick][next[pick]++]));
  }
  return out;
}

std::vector<std::size_t> further_decision_offsets(const fs::path& dir) {
  std::vector<std::size_t> out;
  for (const auto& log : further_decision_logs(dir)) out.push_back(count_jsonl(log));
  return out;
}

DecisionLines read_run_decisions(const fs::path& main_log, std::size_t main_offset, const fs::path& dir,
                                 const std::vector<std::size_t>& further_offsets, std::size_t* main_lines) {
  std::vector<DecisionLines> logs;
  logs.push_back(read_decisions(main_log, main_offset, main_lines));
  if (!dir.empty()) {
    const auto further = further_decision_logs(dir);
    for (std::size_t k = 0; k < further.size(); ++k) {
      logs.push_back(read_decisions(further[k], k < further_offsets.size() ? further_offsets[k] : 0));
    }
  }
  return merge_decision_lines(std::move(logs));
}

}  // namespace rrkit::harness
