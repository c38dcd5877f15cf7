// Delays: the distributions a profile names, in their YAML mapping form and their one-line short form.
#include <charconv>
#include <cmath>

#include "common/duration.h"
#include "simulator/profile.h"
#include "simulator/profile_yaml.h"

namespace rrkit::simulator {

namespace profile_yaml {

DelaySpec delay(const YAML::Node& n, const std::string& key) {
  if (n.IsScalar()) {
    std::string err;
    const std::string s = n.Scalar();
    auto d = parse_delay_short(s, err);
    if (!d) fail(n, key, err);
    return *d;
  }
  if (!n.IsMap()) fail(n, key, "expected a delay (\"50ms\", \"uniform:10ms,50ms\", or {dist: ..})");
  if (!n["dist"]) fail(n, key, "missing 'dist' (constant, uniform, normal, lognormal, exponential, pareto, timeout)");
  const std::string dist = scalar(n["dist"], join(key, "dist"));
  DelaySpec d;
  auto need = [&](const char* k) {
    if (!n[k]) fail(n, join(key, k), std::string("missing '") + k + "' for dist " + dist);
    return n[k];
  };
  if (dist == "constant") {
    check_keys(n, key, {"dist", "value", "cap"});
    d.kind = DelaySpec::Kind::constant;
    d.a = duration(need("value"), join(key, "value"));
  } else if (dist == "uniform") {
    check_keys(n, key, {"dist", "min", "max", "cap"});
    d.kind = DelaySpec::Kind::uniform;
    d.a = duration(need("min"), join(key, "min"));
    d.b = duration(need("max"), join(key, "max"));
    if (d.b < d.a) fail(n["max"], join(key, "max"), "max is below min");
  } else if (dist == "normal") {
    check_keys(n, key, {"dist", "mean", "stddev", "cap"});
    d.kind = DelaySpec::Kind::normal;
    d.a = duration(need("mean"), join(key, "mean"));
    d.b = duration(need("stddev"), join(key, "stddev"));
  } else if (dist == "lognormal") {
    check_keys(n, key, {"dist", "median", "sigma", "cap"});
    d.kind = DelaySpec::Kind::lognormal;
    d.a = duration(need("median"), join(key, "median"));
    d.shape = number(need("sigma"), join(key, "sigma"));
    if (d.shape < 0) fail(n["sigma"], join(key, "sigma"), "sigma must be >= 0");
  } else if (dist == "exponential") {
    check_keys(n, key, {"dist", "mean", "cap"});
    d.kind = DelaySpec::Kind::exponential;
    d.a = duration(need("mean"), join(key, "mean"));
  } else if (dist == "pareto") {
    check_keys(n, key, {"dist", "scale", "alpha", "cap"});
    d.kind = DelaySpec::Kind::pareto;
    d.a = duration(need("scale"), join(key, "scale"));
    d.shape = number(need("alpha"), join(key, "alpha"));
    if (d.shape <= 0) fail(n["alpha"], join(key, "alpha"), "alpha must be > 0");
  } else if (dist == "timeout") {
    check_keys(n, key, {"dist", "plus", "cap"});
    d.kind = DelaySpec::Kind::timeout_plus;
    d.a = n["plus"] ? duration(n["plus"], join(key, "plus")) : microseconds(0);
  } else {
    fail(n["dist"], join(key, "dist"),
         "unknown distribution '" + dist + "' (constant, uniform, normal, lognormal, exponential, pareto, timeout)");
  }
  if (n["cap"]) d.cap = duration(n["cap"], join(key, "cap"));
  return d;
}

}  // namespace profile_yaml

std::string to_string(DelaySpec::Kind k) {
  switch (k) {
    case DelaySpec::Kind::constant: return "constant";
    case DelaySpec::Kind::uniform: return "uniform";
    case DelaySpec::Kind::normal: return "normal";
    case DelaySpec::Kind::lognormal: return "lognormal";
    case DelaySpec::Kind::exponential: return "exponential";
    case DelaySpec::Kind::pareto: return "pareto";
    case DelaySpec::Kind::timeout_plus: return "timeout";
  }
  return "constant";
}

nlohmann::json to_json(const DelaySpec& d) {
  nlohmann::json j{{"dist", to_string(d.kind)}};
  const auto f = [](microseconds us) { return format_duration(us); };
  switch (d.kind) {
    case DelaySpec::Kind::constant: j["value"] = f(d.a); break;
    case DelaySpec::Kind::uniform: j["min"] = f(d.a); j["max"] = f(d.b); break;
    case DelaySpec::Kind::normal: j["mean"] = f(d.a); j["stddev"] = f(d.b); break;
    case DelaySpec::Kind::lognormal: j["median"] = f(d.a); j["sigma"] = d.shape; break;
    case DelaySpec::Kind::exponential: j["mean"] = f(d.a); break;
    case DelaySpec::Kind::pareto: j["scale"] = f(d.a); j["alpha"] = d.shape; break;
    case DelaySpec::Kind::timeout_plus: j["plus"] = f(d.a); break;
  }
  if (d.cap) j["cap"] = f(*d.cap);
  return j;
}

std::optional<DelaySpec> parse_delay_short(const std::string& text, std::string& error) {
  std::string s;
  for (char c : text)
    if (c != ' ') s += c;
  const auto dur = [&](const std::string& part, microseconds& out) {
    if (!part.empty() && part.front() == '-') {
      error = "negative duration '" + part + "'";
      return false;
    }
    const auto d = parse_duration(part);
    if (!d) {
      error = "invalid duration '" + part + "' in delay '" + text + "'";
      return false;
    }
    out = *d;
    return true;
  };
  const auto num = [&](const std::string& part, double& out) {
    const auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), out);
    if (ec != std::errc() || p != part.data() + part.size() || !std::isfinite(out)) {
      error = "invalid number '" + part + "' in delay '" + text + "'";
      return false;
    }
    return true;
  };
  DelaySpec d;
  if (s.rfind("timeout", 0) == 0) {
    d.kind = DelaySpec::Kind::timeout_plus;
    std::string rest = s.substr(7);
    if (rest.empty()) return d;
    if (rest.front() == '-') {
      error = "negative delay '" + text + "' (timeout minus X is not a delay past the timeout)";
      return std::nullopt;
    }
    if (rest.front() != '+') {
      error = "expected timeout+DURATION, got '" + text + "'";
      return std::nullopt;
    }
    if (!dur(rest.substr(1), d.a)) return std::nullopt;
    return d;
  }
  const auto colon = s.find(':');
  if (colon == std::string::npos) {
    if (!dur(s, d.a)) return std::nullopt;
    return d;
  }
  const std::string dist = s.substr(0, colon);
  const std::string args = s.substr(colon + 1);
  const auto comma = args.find(',');
  const std::string a1 = args.substr(0, comma);
  const std::string a2 = comma == std::string::npos ? "" : args.substr(comma + 1);
  const auto want_two = [&]() {
    if (a2.empty()) {
      error = "distribution " + dist + " needs two arguments, e.g. " + dist + ":A,B";
      return false;
    }
    return true;
  };
  if (dist == "constant") {
    d.kind = DelaySpec::Kind::constant;
    if (!dur(a1, d.a)) return std::nullopt;
  } else if (dist == "uniform") {
    d.kind = DelaySpec::Kind::uniform;
    if (!want_two() || !dur(a1, d.a) || !dur(a2, d.b)) return std::nullopt;
    if (d.b < d.a) {
      error = "uniform max is below min in '" + text + "'";
      return std::nullopt;
    }
  } else if (dist == "normal") {
    d.kind = DelaySpec::Kind::normal;
    if (!want_two() || !dur(a1, d.a) || !dur(a2, d.b)) return std::nullopt;
  } else if (dist == "lognormal") {
    d.kind = DelaySpec::Kind::lognormal;
    if (!want_two() || !dur(a1, d.a) || !num(a2, d.shape)) return std::nullopt;
    if (d.shape < 0) {
      error = "lognormal sigma must be >= 0";
      return std::nullopt;
    }
  } else if (dist == "exponential") {
    d.kind = DelaySpec::Kind::exponential;
    if (!dur(a1, d.a)) return std::nullopt;
  } else if (dist == "pareto") {
    d.kind = DelaySpec::Kind::pareto;
    if (!want_two() || !dur(a1, d.a) || !num(a2, d.shape)) return std::nullopt;
    if (d.shape <= 0) {
      error = "pareto alpha must be > 0";
      return std::nullopt;
    }
  } else {
    error = "unknown distribution '" + dist + "' (constant, uniform, normal, lognormal, exponential, pareto, timeout+X)";
    return std::nullopt;
  }
  return d;
}

}  // namespace rrkit::simulator
