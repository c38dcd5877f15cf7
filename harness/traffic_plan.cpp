// The traffic plan's pure side: request keys, bodies, which requests are abandoned, the open-loop schedule.
// Everything here is a function of the plan (and seed), so a run can be repeated request by request;
// the HTTP client loop that carries it out is harness/traffic.cpp.
#include "harness/traffic_plan.h"

#include <algorithm>
#include <charconv>
#include <functional>
#include <limits>

#include <fmt/format.h>

#include "common/json_limits.h"

namespace rrkit::harness {

namespace {

// Deterministic per-request choice in [0,1) from (seed, index): which requests get abandoned.
double unit_hash(std::uint64_t seed, std::uint64_t index) {
  std::uint64_t z = seed * 0x9E3779B97F4A7C15ull + index + 0x632BE59BD9B4E5ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) / static_cast<double>(1ull << 53);
}

}  // namespace

nlohmann::json render_body(const nlohmann::json& templ, std::uint64_t seq, const std::string& nonce,
                           const std::string& nonce_field) {
  std::function<nlohmann::json(const nlohmann::json&)> fill = [&](const nlohmann::json& node) -> nlohmann::json {
    if (node.is_string()) {
      const auto& s = node.get_ref<const std::string&>();
      if (s == "{{seq}}") return seq;
      if (s == "{{nonce}}") return nonce;
      return node;
    }
    if (node.is_object()) {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [k, v] : node.items()) out[k] = fill(v);
      return out;
    }
    if (node.is_array()) {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& v : node) out.push_back(fill(v));
      return out;
    }
    return node;
  };
  nlohmann::json body = templ.is_object() ? fill(templ) : nlohmann::json::object();
  body[nonce_field] = nonce;
  return body;
}

// Intended send times from the start, in microseconds: the phases one after another (or one phase
// of `rate` for `duration`), capped at `requests` when that is set.
std::vector<std::int64_t> open_loop_offsets(const TrafficPlan& plan) {
  std::vector<TrafficPhase> phases = plan.phases;
  if (phases.empty()) phases.push_back({plan.duration, plan.rate});
  std::vector<std::int64_t> out;
  const std::uint64_t cap = plan.requests > 0 ? plan.requests : std::numeric_limits<std::uint64_t>::max();
  std::int64_t phase_start = 0;
  for (const auto& ph : phases) {
    if (ph.rate > 0) {
      const double interval_us = 1e6 / ph.rate;
      // A phase without a duration (the plain rate + requests form) runs until the cap.
      const auto n = ph.duration.count() > 0 ? static_cast<std::uint64_t>(ph.rate * static_cast<double>(ph.duration.count()) / 1e6)
                     : plan.requests > 0    ? cap
                                            : 1;
      for (std::uint64_t k = 0; k < n && out.size() < cap; ++k) {
        out.push_back(phase_start + static_cast<std::int64_t>(static_cast<double>(k) * interval_us));
      }
    }
    phase_start += ph.duration.count();
    if (out.size() >= cap) break;
  }
  return out;
}

std::uint64_t planned_requests(const TrafficPlan& plan) {
  if (plan.mode == TrafficPlan::Mode::open) return open_loop_offsets(plan).size();
  if (plan.requests == 0 && plan.duration.count() > 0) return kClosedLoopForDuration;
  return std::max<std::uint64_t>(plan.requests, 1);
}

std::string recorded_request_body(const TrafficPlan& plan, std::uint64_t index, std::string_view nonce) {
  return safe_dump(render_body(plan.body_template, index, std::string(nonce), plan.nonce_field));
}

std::string request_key(std::string_view prefix, std::uint64_t seed, std::uint64_t index) {
  return fmt::format("{}-{}-{}", prefix, seed, index);
}

bool is_plan_key(std::string_view key, std::string_view prefix, std::uint64_t seed) {
  const std::string stem = fmt::format("{}-{}-", prefix, seed);
  if (key.size() <= stem.size() || key.substr(0, stem.size()) != stem) return false;
  return std::all_of(key.begin() + static_cast<std::ptrdiff_t>(stem.size()), key.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<std::vector<std::uint64_t>> parse_index_list(std::string_view text, std::string& error,
                                                           std::size_t max_count) {
  std::vector<std::uint64_t> out;
  const auto number = [&](std::string_view s, std::uint64_t& v) {
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
  };
  if (text.empty()) {
    error = "empty index list";
    return std::nullopt;
  }
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const auto comma = text.find(',', pos);
    const auto item = text.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
    std::uint64_t lo = 0, hi = 0;
    const auto dash = item.find('-');
    const bool ok = dash == std::string_view::npos ? number(item, lo) && (hi = lo, true)
                                                   : number(item.substr(0, dash), lo) && number(item.substr(dash + 1), hi);
    if (!ok || hi < lo) {
      error = fmt::format("\"{}\" is not an index or a range LOW-HIGH of request indexes", item);
      return std::nullopt;
    }
    if (hi - lo >= max_count || out.size() + (hi - lo + 1) > max_count) {
      error = fmt::format("more than {} indexes", max_count);
      return std::nullopt;
    }
    for (std::uint64_t i = lo; i <= hi; ++i) out.push_back(i);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

bool abandons(const TrafficPlan& plan, std::uint64_t index) {
  return plan.disconnect_fraction > 0 && unit_hash(plan.seed, index) < plan.disconnect_fraction;
}

}  // namespace rrkit::harness
