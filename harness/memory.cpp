#include "harness/memory.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace rrkit::harness {
namespace {

namespace fs = std::filesystem;

std::string mib(double bytes) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.1f MiB", bytes / (1024.0 * 1024.0));
  return buf;
}

std::string signed_mib(double bytes) { return (bytes >= 0 ? "+" : "") + mib(bytes); }

// VmRSS in bytes from a /proc/<pid>/status text; nullopt when the line is absent (kernel threads, zombies).
std::optional<std::uint64_t> status_kib_of(std::istream& in, const std::string& key) {
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) != 0) continue;
    std::istringstream fields(line.substr(key.size()));
    std::uint64_t kib = 0;
    std::string unit;
    if (!(fields >> kib >> unit) || unit != "kB") return std::nullopt;
    return kib * 1024;
  }
  return std::nullopt;
}

std::optional<std::uint64_t> vmrss_of(std::istream& in) { return status_kib_of(in, "VmRSS:"); }

// Parent id from a /proc/<pid>/stat text: "pid (comm) state ppid ..."; comm may hold spaces and parentheses,
// so the fields start after the last ')'.
std::optional<pid_t> ppid_of(const std::string& stat) {
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string state;
  long ppid = -1;
  if (!(fields >> state >> ppid) || ppid < 0) return std::nullopt;
  return static_cast<pid_t>(ppid);
}

std::optional<pid_t> pid_of_name(const std::string& name) {
  if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  try {
    return static_cast<pid_t>(std::stol(name));
  } catch (const std::exception&) {
    return std::nullopt;  // out of range: not a process folder
  }
}

// Children by parent, from every readable <proc_root>/<pid>/stat. Processes come and go while we read:
// one that vanished is simply not in the tree.
std::multimap<pid_t, pid_t> process_tree(const std::string& proc_root) {
  std::multimap<pid_t, pid_t> children;
  std::error_code ec;
  for (fs::directory_iterator it(proc_root, ec), end; !ec && it != end; it.increment(ec)) {
    const auto pid = pid_of_name(it->path().filename().string());
    if (!pid) continue;
    std::ifstream f(it->path() / "stat");
    std::string stat;
    if (!f || !std::getline(f, stat)) continue;
    if (const auto ppid = ppid_of(stat)) children.emplace(*ppid, *pid);
  }
  return children;
}

double sum_rss(const MemorySample& s) {
  double total = 0;
  for (const auto& r : s.rss) total += static_cast<double>(r.bytes);
  return total;
}

}  // namespace

const char* to_string(ProcErrc e) {
  switch (e) {
    case ProcErrc::none: return "none";
    case ProcErrc::no_such_process: return "no_such_process";
    case ProcErrc::unreadable: return "unreadable";
    case ProcErrc::no_vmrss: return "no_vmrss";
  }
  return "unknown";
}

std::optional<std::uint64_t> own_peak_rss_bytes(const std::string& proc_root) {
  std::ifstream f(fs::path(proc_root) / "self" / "status");
  if (!f) return std::nullopt;
  return status_kib_of(f, "VmHWM:");
}

RssReading rss_bytes(pid_t pid, const std::string& proc_root) {
  RssReading out;
  const fs::path root_status = fs::path(proc_root) / std::to_string(pid) / "status";
  {
    std::ifstream f(root_status);
    if (!f) {
      std::error_code ec;
      const bool exists = fs::exists(root_status.parent_path(), ec);
      out.errc = exists ? ProcErrc::unreadable : ProcErrc::no_such_process;
      out.detail = root_status.string() + (exists ? ": cannot be read" : ": no such process");
      return out;
    }
    const auto own = vmrss_of(f);
    if (!own) {
      out.errc = ProcErrc::no_vmrss;
      out.detail = root_status.string() + ": no VmRSS line (a zombie or a kernel thread)";
      return out;
    }
    out.bytes = *own;
    out.processes = 1;
  }
  const auto children = process_tree(proc_root);
  std::vector<pid_t> todo{pid};
  std::vector<pid_t> seen{pid};  // pid reuse cannot make a cycle in one snapshot, but a made-up tree can
  while (!todo.empty()) {
    const pid_t parent = todo.back();
    todo.pop_back();
    const auto [first, last] = children.equal_range(parent);
    for (auto it = first; it != last; ++it) {
      const pid_t child = it->second;
      if (std::find(seen.begin(), seen.end(), child) != seen.end()) continue;
      seen.push_back(child);
      todo.push_back(child);
      std::ifstream f(fs::path(proc_root) / std::to_string(child) / "status");
      if (!f) continue;  // exited since the tree was read
      if (const auto rss = vmrss_of(f)) {
        out.bytes += *rss;
        ++out.processes;
      }
    }
  }
  return out;
}

MemoryVerdict judge_memory(const std::vector<MemorySample>& samples, const MemoryJudgeConfig& config) {
  MemoryVerdict v;

  std::vector<const MemorySample*> traffic;  // rounds 1..N in order
  const MemorySample* baseline = nullptr;
  for (const auto& s : samples) {
    if (s.round == 0) baseline = &s;
    else traffic.push_back(&s);
  }
  std::sort(traffic.begin(), traffic.end(), [](auto* a, auto* b) { return a->round < b->round; });

  // The pending gauge needs no trend: after a settle, every waiter must be gone.
  std::string pending_failure;
  for (const auto* s : traffic) {
    if (!s->pending_error.empty()) {
      pending_failure = "round " + std::to_string(s->round) + ": pending gauge unreadable: " + s->pending_error;
      break;
    }
    if (s->pending && *s->pending != 0) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "round %d: pending gauge %.0f after the settle wait, expected 0", s->round,
                    *s->pending);
      pending_failure = buf;
      break;
    }
  }
  auto finish = [&](CheckState rss_state, std::string rss_detail) {
    if (!pending_failure.empty()) {
      v.state = CheckState::fail;
      v.detail = pending_failure + "; " + rss_detail;
    } else {
      v.state = rss_state;
      v.detail = std::move(rss_detail);
    }
    return v;
  };

  v.figures.rounds = static_cast<int>(traffic.size());
  const int warmup = std::max(1, config.warmup_rounds);
  v.figures.warmup_rounds = warmup;
  if (traffic.size() < static_cast<std::size_t>(warmup) + 1) {
    return finish(CheckState::not_applicable,
                  "RSS trend needs at least two traffic rounds after the warm-up's last (traffic.rounds of " +
                      std::to_string(warmup + 1) + " or more with " + std::to_string(warmup) +
                      " warm-up round" + (warmup == 1 ? "" : "s") + "), this run had " +
                      std::to_string(traffic.size()));
  }
  for (const auto* s : traffic) {
    if (s->rss.empty()) {
      return finish(CheckState::not_applicable, "no gateway process was sampled (the harness did not launch it)");
    }
    for (std::size_t i = 0; i < s->rss.size(); ++i) {
      if (!s->rss[i].ok()) {
        return finish(CheckState::not_applicable, "round " + std::to_string(s->round) + ": gateway " +
                                                      std::to_string(i) + " RSS unreadable: " + s->rss[i].detail);
      }
    }
    if (s->rss.size() != traffic.front()->rss.size()) {
      return finish(CheckState::not_applicable, "round " + std::to_string(s->round) +
                                                    ": a different number of gateway processes was sampled");
    }
  }
  // Every round was checked above; the trend starts at the sample after the warm-up's last round.
  traffic.erase(traffic.begin(), traffic.begin() + (warmup - 1));
  const auto& first = *traffic.front();
  const auto& last = *traffic.back();
  if (last.timed_out_so_far <= first.timed_out_so_far) {
    return finish(CheckState::not_applicable, "no request timed out after the warm-up (round " +
                                                  std::to_string(first.round) + ")");
  }

  MemoryFigures& f = v.figures;
  f.timed_out = last.timed_out_so_far - first.timed_out_so_far;
  f.warmup_growth_bytes = baseline && baseline->rss.size() == first.rss.size() &&
                                  std::all_of(baseline->rss.begin(), baseline->rss.end(),
                                              [](const RssReading& r) { return r.ok(); })
                              ? sum_rss(first) - sum_rss(*baseline)
                              : 0;
  f.growth_bytes = sum_rss(last) - sum_rss(first);
  f.grew_every_round = true;
  for (std::size_t i = 1; i < traffic.size(); ++i) {
    const double g = sum_rss(*traffic[i]) - sum_rss(*traffic[i - 1]);
    f.round_growth_bytes.push_back(g);
    if (g <= 0) f.grew_every_round = false;
  }
  // Least squares over rounds W..N: one noisy sample in the middle moves the slope less than it moves a
  // difference of two samples.
  double mx = 0, my = 0;
  for (const auto* s : traffic) {
    mx += static_cast<double>(s->timed_out_so_far);
    my += sum_rss(*s);
  }
  const auto n = static_cast<double>(traffic.size());
  mx /= n;
  my /= n;
  double sxx = 0, sxy = 0;
  for (const auto* s : traffic) {
    const double dx = static_cast<double>(s->timed_out_so_far) - mx;
    sxx += dx * dx;
    sxy += dx * (sum_rss(*s) - my);
  }
  f.bytes_per_timed_out = sxx > 0 ? sxy / sxx : 0;

  // Grew round after round, or rose to stay: a leaking gateway on a garbage-collected runtime may give
  // pages back in one round (the seed gateway: 213, 257, 334, 322 MiB) without giving back what it keeps.
  const std::size_t n_traffic = traffic.size();
  double earlier_max = sum_rss(*traffic.front());
  for (std::size_t i = 1; i < n_traffic / 2; ++i) earlier_max = std::max(earlier_max, sum_rss(*traffic[i]));
  double later_min = sum_rss(*traffic.back());
  for (std::size_t i = (n_traffic + 1) / 2; i + 1 < n_traffic; ++i) later_min = std::min(later_min, sum_rss(*traffic[i]));
  // The requests that timed out between the last sample of the earlier half and the first of the later.
  const std::uint64_t before = traffic[n_traffic / 2 - 1]->timed_out_so_far;
  const std::uint64_t after = traffic[(n_traffic + 1) / 2]->timed_out_so_far;
  const std::uint64_t between = after > before ? after - before : 0;
  f.level_rise_bytes = later_min - earlier_max;
  f.level_rise_per_timed_out = between > 0 ? f.level_rise_bytes / static_cast<double>(between) : 0;
  f.rose_to_stay = f.level_rise_per_timed_out > config.max_bytes_per_timed_out;
  std::string growths;
  for (double g : f.round_growth_bytes) growths += (growths.empty() ? "" : ", ") + signed_mib(g);
  char rate[200];
  std::snprintf(rate, sizeof rate, "%.0f B per timed-out request over %llu (limit %.0f B)", f.bytes_per_timed_out,
                static_cast<unsigned long long>(f.timed_out), config.max_bytes_per_timed_out);
  std::string detail = "RSS " + mib(sum_rss(first)) + " after round " + std::to_string(first.round) +
                       " (end of the warm-up), " + mib(sum_rss(last)) +
                       " after round " + std::to_string(last.round) + "; growth per later round: " + growths +
                       "; " + rate + "; " + signed_mib(f.growth_bytes) + " in all (noise floor " +
                       mib(config.noise_floor_bytes) + "); the later rounds' lowest less the earlier rounds' highest: " +
                       signed_mib(f.level_rise_bytes);
  const bool leak = (f.grew_every_round || f.rose_to_stay) && f.bytes_per_timed_out > config.max_bytes_per_timed_out &&
                    f.growth_bytes > config.noise_floor_bytes;
  if (leak) {
    return finish(CheckState::fail,
                  std::string("memory is not returned: RSS ") +
                      (f.grew_every_round ? "grew in every round"
                                          : "rose to stay (its later rounds all above its earlier ones)") +
                      " in proportion to the timed-out requests; " + detail);
  }
  return finish(CheckState::pass, detail);
}

nlohmann::json to_json(const MemorySample& s) {
  nlohmann::json rss = nlohmann::json::array();
  for (const auto& r : s.rss) {
    if (r.ok()) rss.push_back({{"bytes", r.bytes}, {"processes", r.processes}});
    else rss.push_back({{"error", to_string(r.errc)}, {"detail", r.detail}});
  }
  nlohmann::json j{{"round", s.round},
                   {"requests_so_far", s.requests_so_far},
                   {"timed_out_so_far", s.timed_out_so_far},
                   {"rss", std::move(rss)}};
  if (s.pending) j["pending"] = *s.pending;
  if (!s.pending_error.empty()) j["pending_error"] = s.pending_error;
  return j;
}

std::optional<MemorySample> memory_sample_from_json(const nlohmann::json& j) {
  if (!j.is_object()) return std::nullopt;
  MemorySample s;
  const auto round = j.find("round");
  const auto requests = j.find("requests_so_far");
  const auto timed_out = j.find("timed_out_so_far");
  const auto rss = j.find("rss");
  if (round == j.end() || !round->is_number_integer() || requests == j.end() || !requests->is_number_unsigned() ||
      timed_out == j.end() || !timed_out->is_number_unsigned() || rss == j.end() || !rss->is_array()) {
    return std::nullopt;
  }
  const auto p = round->get<std::int64_t>();
  if (p < 0 || p > 1'000'000) return std::nullopt;
  s.round = static_cast<int>(p);
  s.requests_so_far = requests->get<std::uint64_t>();
  s.timed_out_so_far = timed_out->get<std::uint64_t>();
  for (const auto& r : *rss) {
    if (!r.is_object()) return std::nullopt;
    RssReading reading;
    if (const auto b = r.find("bytes"); b != r.end()) {
      if (!b->is_number_unsigned()) return std::nullopt;
      reading.bytes = b->get<std::uint64_t>();
      const auto procs = r.find("processes");
      if (procs != r.end() && procs->is_number_integer()) {
        reading.processes = static_cast<int>(std::clamp<std::int64_t>(procs->get<std::int64_t>(), 0, 1 << 20));
      }
    } else {
      const auto e = r.find("error");
      const auto d = r.find("detail");
      if (e == r.end() || !e->is_string()) return std::nullopt;
      const std::string errc = e->get<std::string>();
      reading.errc = errc == "no_such_process" ? ProcErrc::no_such_process
                     : errc == "no_vmrss"      ? ProcErrc::no_vmrss
                                               : ProcErrc::unreadable;
      reading.detail = d != r.end() && d->is_string() ? d->get<std::string>() : errc;
    }
    s.rss.push_back(std::move(reading));
  }
  if (const auto pending = j.find("pending"); pending != j.end()) {
    if (!pending->is_number()) return std::nullopt;
    s.pending = pending->get<double>();
  }
  if (const auto e = j.find("pending_error"); e != j.end()) {
    if (!e->is_string()) return std::nullopt;
    s.pending_error = e->get<std::string>();
  }
  return s;
}

}  // namespace rrkit::harness
