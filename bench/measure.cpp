#include "bench/measure.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <sstream>
#include <thread>

namespace rrkit::bench {

namespace fs = std::filesystem;

nlohmann::json Percentiles::to_json() const {
  return {{"count", count}, {"p50_ms", p50}, {"p90_ms", p90}, {"p99_ms", p99}, {"p999_ms", p999},
          {"min_ms", min},   {"max_ms", max}, {"mean_ms", mean}};
}

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  auto at = [&](double q) {
    // Nearest rank: the smallest value with at least q of the sample at or below it.
    const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
  };
  p.count = v.size();
  p.p50 = at(0.5);
  p.p90 = at(0.9);
  p.p99 = at(0.99);
  p.p999 = at(0.999);
  p.min = v.front();
  p.max = v.back();
  p.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  return p;
}

Percentiles ok_latency(const std::vector<harness::RequestRecord>& records) {
  return percentiles(ok_latencies_ms(records));
}

std::vector<double> ok_latencies_ms(const std::vector<harness::RequestRecord>& records) {
  std::vector<double> ms;
  ms.reserve(records.size());
  for (const auto& r : records) {
    if (r.http_status == 200) ms.push_back(r.latency_ms());
  }
  return ms;
}

namespace {

// Fields of /proc/<pid>/stat after the command name (which may contain spaces and parentheses).
std::vector<std::string> stat_fields(const fs::path& stat_file) {
  std::ifstream in(stat_file);
  std::string line;
  std::getline(in, line);
  const auto close = line.rfind(')');
  std::vector<std::string> out;
  if (close == std::string::npos) return out;
  std::istringstream rest(line.substr(close + 2));
  for (std::string f; rest >> f;) out.push_back(f);
  return out;  // out[0] = state (field 3), out[2] = pgrp (field 5), out[11] = utime (14), out[12] = stime (15)
}

template <typename F>
void for_each_in_group(pid_t pgid, F&& f) {
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const auto name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; })) continue;
    const auto fields = stat_fields(entry.path() / "stat");
    if (fields.size() < 13) continue;
    if (std::stol(fields[2]) != pgid) continue;
    f(static_cast<pid_t>(std::stol(name)), fields);
  }
}

}  // namespace

double group_cpu_seconds(pid_t pgid) {
  if (pgid <= 0) return 0;
  const double tick = static_cast<double>(::sysconf(_SC_CLK_TCK));
  double total = 0;
  for_each_in_group(pgid, [&](pid_t, const std::vector<std::string>& f) {
    total += static_cast<double>(std::stoull(f[11]) + std::stoull(f[12])) / tick;
  });
  return total;
}

long rss_kb(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return -1;
}

namespace {

// "Key:   123 kB" lines of a /proc file, as numbers under their keys (only the wanted ones).
void read_kb_fields(const std::string& path, const std::vector<std::string>& keys, nlohmann::json& out) {
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon);
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) continue;
    std::istringstream value(line.substr(colon + 1));
    long kb = -1;
    value >> kb;
    out[key] = kb;
  }
}

}  // namespace

nlohmann::json memory_sample(pid_t pid) {
  nlohmann::json out = nlohmann::json::object();
  const std::string proc = "/proc/" + std::to_string(pid);
  out["rss_kb"] = rss_kb(pid);
  nlohmann::json smaps = nlohmann::json::object();
  read_kb_fields(proc + "/smaps_rollup", {"Rss", "Pss", "Anonymous", "Private_Dirty"}, smaps);
  out["smaps_rollup_kb"] = smaps;
  std::error_code ec;
  long fds = 0;
  for (fs::directory_iterator it(proc + "/fd", ec), end; !ec && it != end; it.increment(ec)) ++fds;
  out["open_fds"] = ec ? -1 : fds;
  // "TCP: inuse 19042 orphan 0 tw 12 alloc 19060 mem 3": every field as a number.
  std::ifstream sockstat("/proc/net/sockstat");
  nlohmann::json tcp = nlohmann::json::object();
  for (std::string line; std::getline(sockstat, line);) {
    if (line.rfind("TCP:", 0) != 0) continue;
    std::istringstream fields(line.substr(4));
    std::string name;
    long value = 0;
    while (fields >> name >> value) tcp[name] = value;
  }
  tcp["page_bytes"] = ::sysconf(_SC_PAGESIZE);
  out["sockstat_tcp"] = tcp;
  return out;
}

long group_rss_kb(pid_t pgid) {
  long total = 0;
  for_each_in_group(pgid, [&](pid_t pid, const std::vector<std::string>&) {
    const long r = rss_kb(pid);
    if (r > 0) total += r;
  });
  return total;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

std::string machine_description() {
  std::string cpu = "unknown CPU";
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  long mem_kb = 0;
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);) {
    if (line.rfind("MemTotal:", 0) == 0) mem_kb = std::stol(line.substr(9));
  }
  utsname u{};
  ::uname(&u);
  std::ostringstream out;
  out << std::thread::hardware_concurrency() << " cores (" << cpu << "), " << (mem_kb + 512 * 1024) / (1024 * 1024)
      << " GiB, " << u.sysname << " " << u.release;
  return out.str();
}

std::string utc_now_iso() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace rrkit::bench
