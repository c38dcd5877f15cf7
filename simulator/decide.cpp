#include "simulator/decide.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <numbers>

#include "common/decision_record.h"

namespace rrkit::simulator {

std::uint64_t Rng::next() {
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

double Rng::uniform01() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

double Rng::normal() {
  // 1 - u keeps the logarithm finite.
  const double u1 = 1.0 - uniform01();
  const double u2 = uniform01();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
}

Rng stream(std::uint64_t seed, std::string_view id, std::string_view rule, std::string_view purpose) {
  // FNV-1a over the fields with separators, then splitmix64 finalisation inside Rng.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  const auto mix = [&h](std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 0x100000001b3ULL;
    }
    h ^= 0xff;
    h *= 0x100000001b3ULL;
  };
  for (int i = 0; i < 8; ++i) {
    h ^= (seed >> (8 * i)) & 0xff;
    h *= 0x100000001b3ULL;
  }
  mix(id);
  mix(rule);
  mix(purpose);
  Rng r(h);
  r.next();
  return r;
}

std::chrono::microseconds sample(const DelaySpec& spec, Rng& rng, std::chrono::microseconds timeout) {
  const double a = static_cast<double>(spec.a.count());
  const double b = static_cast<double>(spec.b.count());
  double us = 0;
  switch (spec.kind) {
    case DelaySpec::Kind::constant: us = a; break;
    case DelaySpec::Kind::uniform: us = a + rng.uniform01() * (b - a); break;
    case DelaySpec::Kind::normal: us = a + b * rng.normal(); break;
    case DelaySpec::Kind::lognormal: us = a * std::exp(spec.shape * rng.normal()); break;
    case DelaySpec::Kind::exponential: us = -a * std::log(1.0 - rng.uniform01()); break;
    case DelaySpec::Kind::pareto: us = a / std::pow(1.0 - rng.uniform01(), 1.0 / spec.shape); break;
    case DelaySpec::Kind::timeout_plus: us = static_cast<double>(timeout.count()) + a; break;
  }
  const auto max_us = static_cast<double>(kMaxDelay.count());
  if (!std::isfinite(us) || us > max_us) us = max_us;
  us = std::max(0.0, us);
  auto d = std::chrono::microseconds(static_cast<long long>(std::llround(us)));
  if (spec.cap) d = std::min(d, *spec.cap);
  return d;
}

const nlohmann::json* find_path(const nlohmann::json& body, std::string_view path) {
  const nlohmann::json* cur = &body;
  while (!path.empty()) {
    const auto dot = path.find('.');
    const std::string part(path.substr(0, dot));
    path = dot == std::string_view::npos ? std::string_view{} : path.substr(dot + 1);
    if (cur->is_object()) {
      const auto it = cur->find(part);
      if (it == cur->end()) return nullptr;
      cur = &*it;
    } else if (cur->is_array() && !part.empty() && part.find_first_not_of("0123456789") == std::string::npos) {
      std::size_t idx = 0;
      const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), idx);
      // An index too large for size_t names no element either (and must not throw on the consumer thread).
      if (ec != std::errc() || end != part.data() + part.size() || idx >= cur->size()) return nullptr;
      cur = &(*cur)[idx];
    } else {
      return nullptr;
    }
  }
  return cur;
}

namespace {

// YAML gives scalars as text; a JSON string compares as text, anything else by its JSON form
// (so `equals: 5` matches 5 and "5", `equals: true` matches true).
bool value_equals(const nlohmann::json& v, const std::string& want) {
  if (v.is_string()) return v.get_ref<const std::string&>() == want;
  if (v.is_number_float()) {
    char* end = nullptr;
    const double w = std::strtod(want.c_str(), &end);
    return end && *end == '\0' && !want.empty() && w == v.get<double>();
  }
  return v.dump() == want;
}

bool match_one(const Match& m, const RequestView& req) {
  std::optional<nlohmann::json> header_value;
  const nlohmann::json* v = nullptr;
  if (!m.header.empty()) {
    if (req.headers) {
      for (const auto& [k, val] : *req.headers) {
        if (k == m.header) {
          header_value = val;
          v = &*header_value;
          break;
        }
      }
    }
  } else if (req.body) {
    v = find_path(*req.body, m.field);
  }
  switch (m.op) {
    case Match::Op::exists: return (v != nullptr) == m.exists;
    case Match::Op::equals: return v && value_equals(*v, m.values.at(0));
    case Match::Op::in:
      return v && std::any_of(m.values.begin(), m.values.end(), [&](const auto& w) { return value_equals(*v, w); });
  }
  return false;
}

std::string uuid_from(Rng& rng) {
  const std::uint64_t hi = rng.next();
  const std::uint64_t lo = rng.next();
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(hi >> 32),
                static_cast<unsigned>((hi >> 16) & 0xffff), static_cast<unsigned>(hi & 0x0fff),
                static_cast<unsigned>(0x8000 | ((lo >> 48) & 0x3fff)),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

bool happens(double p, std::uint64_t seed, const std::string& id, const std::string& rule, std::string_view what) {
  if (p <= 0) return false;
  if (p >= 1) return true;
  return stream(seed, id, rule, what).uniform01() < p;
}

}  // namespace

bool matches(const Rule& rule, const RequestView& request) {
  return std::all_of(rule.match.begin(), rule.match.end(), [&](const Match& m) { return match_one(m, request); });
}

std::string Decision::kind() const {
  if (corrupt) return std::string(to_string(DecisionKind::corrupt));
  if (missing_id) return std::string(to_string(DecisionKind::missing_id));
  if (wrong_id != WrongId::none) return std::string(to_string(DecisionKind::wrong_id));
  if (error) return std::string(to_string(DecisionKind::error));
  return std::string(to_string(DecisionKind::ok));
}

Decision decide(const Profile& profile, std::uint64_t seed, const std::string& id, const RequestView& request) {
  const Rule* chosen = &profile.default_rule;
  for (const auto& r : profile.rules) {
    if (!matches(r, request)) continue;
    if (r.fraction && !(stream(seed, id, r.name, "fraction").uniform01() < *r.fraction)) continue;
    chosen = &r;
    break;
  }
  const Action& a = chosen->action;
  const std::string& rule = chosen->name;
  Decision d;
  d.rule = rule;
  if (profile.processing.service_time) {
    Rng rng = stream(seed, id, rule, "service");
    d.service = sample(*profile.processing.service_time, rng, profile.timeout);
  }
  if (happens(a.drop, seed, id, rule, "drop")) {
    d.drop = true;
    d.copies = 0;
    return d;
  }
  if (a.delay) {
    Rng rng = stream(seed, id, rule, "delay");
    d.delay = sample(*a.delay, rng, profile.timeout);
  }
  if (a.copies > 1 && happens(a.duplicate, seed, id, rule, "duplicate")) {
    d.copies = a.copies;
    d.spacing = a.spacing;
  }
  if (a.reorder) {
    d.reorder = true;
    d.reorder_window = a.reorder_window;
    d.reorder_max_hold = a.reorder_max_hold;
  }
  if (happens(a.corrupt, seed, id, rule, "corrupt")) {
    d.corrupt = true;
  } else if (happens(a.missing_id, seed, id, rule, "missing_id")) {
    d.missing_id = true;
  } else if (a.wrong_id != WrongId::none && happens(a.wrong_id_probability, seed, id, rule, "wrong_id")) {
    d.wrong_id = a.wrong_id;
    if (a.wrong_id == WrongId::random) {
      Rng rng = stream(seed, id, rule, "wrong_id.random");
      d.random_id = uuid_from(rng);
    }
  } else if (happens(a.error, seed, id, rule, "error")) {
    d.error = true;
  }
  return d;
}

}  // namespace rrkit::simulator
