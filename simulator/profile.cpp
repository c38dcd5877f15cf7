#include "simulator/profile.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "common/duration.h"

namespace rrkit::simulator {
namespace {

// Thrown inside the validator only, caught in parse_profile: validation is an edge.
struct Invalid {
  std::string key;
  YAML::Mark mark;
  std::string message;
};

std::string join(const std::string& base, const std::string& k) { return base.empty() ? k : base + "." + k; }

[[noreturn]] void fail(const YAML::Node& node, const std::string& key, std::string message) {
  throw Invalid{key, node.Mark(), std::move(message)};
}

void check_keys(const YAML::Node& map, const std::string& key, const std::set<std::string>& allowed) {
  if (!map.IsMap()) fail(map, key, "expected a mapping");
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string k = it->first.Scalar();
    if (!allowed.count(k)) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      throw Invalid{join(key, k), it->first.Mark(), "unknown key '" + k + "' (allowed: " + list + ")"};
    }
  }
}

std::string scalar(const YAML::Node& n, const std::string& key) {
  if (!n.IsScalar()) fail(n, key, "expected a scalar value");
  return n.Scalar();
}

microseconds duration(const YAML::Node& n, const std::string& key) {
  const std::string s = scalar(n, key);
  if (!s.empty() && s.front() == '-') fail(n, key, "negative duration '" + s + "'");
  const auto d = parse_duration(s);
  if (!d) fail(n, key, "invalid duration '" + s + "' (examples: 250ms, 1.5s, 100us)");
  return *d;
}

double number(const YAML::Node& n, const std::string& key) {
  const std::string s = scalar(n, key);
  double v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) fail(n, key, "expected a number, got '" + s + "'");
  return v;
}

std::int64_t integer(const YAML::Node& n, const std::string& key, std::int64_t min) {
  const std::string s = scalar(n, key);
  std::int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) fail(n, key, "expected an integer, got '" + s + "'");
  if (v < min) fail(n, key, "must be >= " + std::to_string(min) + ", got " + s);
  return v;
}

bool boolean(const YAML::Node& n, const std::string& key) {
  bool b = false;
  if (!n.IsScalar() || !YAML::convert<bool>::decode(n, b)) fail(n, key, "expected true or false");
  return b;
}

double probability_value(const YAML::Node& n, const std::string& key) {
  const double p = number(n, key);
  if (p < 0 || p > 1) fail(n, key, "probability " + n.Scalar() + " is outside [0,1]");
  return p;
}

// `true`/`false` or a probability in [0,1].
double probability(const YAML::Node& n, const std::string& key) {
  bool b = false;
  if (n.IsScalar() && YAML::convert<bool>::decode(n, b) && n.Scalar() != "0" && n.Scalar() != "1") return b ? 1.0 : 0.0;
  return probability_value(n, key);
}

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

Match match_one(const YAML::Node& n, const std::string& key) {
  check_keys(n, key, {"field", "header", "equals", "in", "exists"});
  Match m;
  if (n["field"]) m.field = scalar(n["field"], join(key, "field"));
  if (n["header"]) m.header = scalar(n["header"], join(key, "header"));
  if (m.field.empty() == m.header.empty()) fail(n, key, "give exactly one of 'field' or 'header'");
  const int ops = (n["equals"] ? 1 : 0) + (n["in"] ? 1 : 0) + (n["exists"] ? 1 : 0);
  if (ops != 1) fail(n, key, "give exactly one of 'equals', 'in' or 'exists'");
  if (n["equals"]) {
    m.op = Match::Op::equals;
    m.values.push_back(scalar(n["equals"], join(key, "equals")));
  } else if (n["in"]) {
    m.op = Match::Op::in;
    const auto list = n["in"];
    if (!list.IsSequence()) fail(list, join(key, "in"), "expected a list");
    for (std::size_t i = 0; i < list.size(); ++i) m.values.push_back(scalar(list[i], join(key, "in." + std::to_string(i))));
  } else {
    m.op = Match::Op::exists;
    m.exists = boolean(n["exists"], join(key, "exists"));
  }
  return m;
}

void action_key(const std::string& k, const YAML::Node& v, const std::string& key, Action& a) {
  if (k == "delay") {
    a.delay = delay(v, key);
  } else if (k == "drop") {
    a.drop = probability(v, key);
  } else if (k == "duplicate") {
    if (v.IsScalar()) {
      a.copies = static_cast<int>(integer(v, key, 1));
      a.duplicate = 1;
    } else {
      check_keys(v, key, {"copies", "spacing", "probability"});
      a.copies = v["copies"] ? static_cast<int>(integer(v["copies"], join(key, "copies"), 1)) : 2;
      if (v["spacing"]) a.spacing = duration(v["spacing"], join(key, "spacing"));
      a.duplicate = v["probability"] ? probability_value(v["probability"], join(key, "probability")) : 1.0;
    }
    if (a.copies > 1000) fail(v, key, "copies above 1000");
  } else if (k == "reorder") {
    a.reorder = true;
    if (v.IsScalar()) {
      a.reorder_window = static_cast<int>(integer(v, key, 2));
    } else {
      check_keys(v, key, {"window", "max_hold"});
      if (!v["window"]) fail(v, join(key, "window"), "missing 'window'");
      a.reorder_window = static_cast<int>(integer(v["window"], join(key, "window"), 2));
      if (v["max_hold"]) a.reorder_max_hold = duration(v["max_hold"], join(key, "max_hold"));
    }
  } else if (k == "corrupt") {
    a.corrupt = probability(v, key);
  } else if (k == "missing_id") {
    a.missing_id = probability(v, key);
  } else if (k == "wrong_id") {
    std::string mode;
    if (v.IsScalar()) {
      mode = v.Scalar();
      a.wrong_id_probability = 1;
    } else {
      check_keys(v, key, {"mode", "probability"});
      if (!v["mode"]) fail(v, join(key, "mode"), "missing 'mode' (random or swap)");
      mode = scalar(v["mode"], join(key, "mode"));
      a.wrong_id_probability = v["probability"] ? probability_value(v["probability"], join(key, "probability")) : 1.0;
    }
    if (mode == "random") a.wrong_id = WrongId::random;
    else if (mode == "swap") a.wrong_id = WrongId::swap;
    else if (mode == "none") a.wrong_id = WrongId::none;
    else fail(v, key, "wrong_id must be random, swap or none, got '" + mode + "'");
  } else if (k == "error") {
    a.error = probability(v, key);
  }
}

const std::set<std::string> kActionKeys = {"delay", "drop", "duplicate", "reorder", "corrupt", "missing_id", "wrong_id", "error"};

Rule rule(const YAML::Node& n, const std::string& key, bool is_default) {
  std::set<std::string> allowed = kActionKeys;
  if (!is_default) allowed.insert({"name", "match", "fraction"});
  Rule r;
  if (n.IsNull()) {
    if (!is_default) fail(n, key, "a rule must be a mapping");
    r.name = "default";
    return r;
  }
  check_keys(n, key, allowed);
  r.name = is_default ? "default" : "";
  for (auto it = n.begin(); it != n.end(); ++it) {
    const std::string k = it->first.Scalar();
    const std::string sub = join(key, k);
    const YAML::Node v = it->second;
    if (k == "name") {
      r.name = scalar(v, sub);
    } else if (k == "match") {
      if (v.IsSequence()) {
        for (std::size_t i = 0; i < v.size(); ++i) r.match.push_back(match_one(v[i], join(sub, std::to_string(i))));
      } else {
        r.match.push_back(match_one(v, sub));
      }
    } else if (k == "fraction") {
      r.fraction = probability_value(v, sub);
    } else {
      action_key(k, v, sub, r.action);
    }
  }
  if (!is_default && r.name.empty()) fail(n, key, "missing 'name' (decisions are logged and seeded by rule name)");
  if (r.name == "default" && !is_default) fail(n["name"], join(key, "name"), "the name 'default' is reserved");
  return r;
}

Profile build(const YAML::Node& root) {
  Profile p;
  if (!root || root.IsNull()) return p;
  check_keys(root, "",
             {"name", "description", "seed", "timeout", "processing", "stall", "crash", "default", "rules"});
  if (root["seed"]) p.seed = static_cast<std::uint64_t>(integer(root["seed"], "seed", 0));
  if (root["timeout"]) p.timeout = duration(root["timeout"], "timeout");
  if (const auto pr = root["processing"]; pr && !pr.IsNull()) {
    check_keys(pr, "processing", {"workers", "queue", "service_time"});
    if (pr["workers"]) p.processing.workers = static_cast<int>(integer(pr["workers"], "processing.workers", 1));
    if (pr["queue"]) p.processing.queue = static_cast<int>(integer(pr["queue"], "processing.queue", 1));
    if (pr["service_time"]) p.processing.service_time = delay(pr["service_time"], "processing.service_time");
  }
  if (const auto st = root["stall"]; st && !st.IsNull()) {
    check_keys(st, "stall", {"after", "for"});
    if (!st["after"] || !st["for"]) fail(st, "stall", "stall needs 'after' (messages) and 'for' (duration)");
    p.stall = Stall{integer(st["after"], "stall.after", 0), duration(st["for"], "stall.for")};
  }
  if (const auto cr = root["crash"]; cr && !cr.IsNull()) {
    if (cr.IsScalar()) {
      p.crash_after = integer(cr, "crash", 0);
    } else {
      check_keys(cr, "crash", {"after"});
      if (!cr["after"]) fail(cr, "crash", "crash needs 'after' (messages)");
      p.crash_after = integer(cr["after"], "crash.after", 0);
    }
  }
  if (root["default"]) p.default_rule = rule(root["default"], "default", true);
  if (const auto rules = root["rules"]) {
    if (!rules.IsSequence() && !rules.IsNull()) fail(rules, "rules", "expected a list of rules");
    std::set<std::string> names;
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const std::string key = "rules." + std::to_string(i);
      Rule r = rule(rules[i], key, false);
      if (!names.insert(r.name).second) fail(rules[i], join(key, "name"), "duplicate rule name '" + r.name + "'");
      p.rules.push_back(std::move(r));
    }
  }
  return p;
}

std::vector<std::string> split_path(const std::string& key) {
  std::vector<std::string> parts;
  std::stringstream ss(key);
  std::string part;
  while (std::getline(ss, part, '.')) parts.push_back(part);
  return parts;
}

bool is_index(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

// Sets root[path] = value, creating maps on the way. Returns false with a message when the path
// crosses a scalar or indexes past the end of a list.
bool set_path(YAML::Node node, const std::vector<std::string>& path, std::size_t i, const YAML::Node& value,
              std::string& error) {
  const std::string& part = path[i];
  const bool last = i + 1 == path.size();
  if (node.IsSequence()) {
    if (!is_index(part)) {
      error = "'" + part + "' is not a list index";
      return false;
    }
    std::size_t idx = 0;
    const auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), idx);
    if (ec != std::errc() || end != part.data() + part.size() || idx >= node.size()) {
      error = "index " + part + " is past the end of the list (" + std::to_string(node.size()) + " items)";
      return false;
    }
    if (last) {
      node[idx] = value;
      return true;
    }
    return set_path(node[idx], path, i + 1, value, error);
  }
  if (!node.IsMap() && !node.IsNull()) {
    error = "cannot set '" + part + "' inside a scalar";
    return false;
  }
  if (last) {
    node[part] = value;
    return true;
  }
  YAML::Node child = node[part];
  if (!child || child.IsNull()) {
    node[part] = YAML::Node(YAML::NodeType::Map);
  }
  return set_path(node[part], path, i + 1, value, error);
}

}  // namespace

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

std::string to_string(WrongId w) {
  switch (w) {
    case WrongId::none: return "none";
    case WrongId::random: return "random";
    case WrongId::swap: return "swap";
  }
  return "none";
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

namespace {
nlohmann::json rule_json(const Rule& r, bool is_default) {
  nlohmann::json j = nlohmann::json::object();
  if (!is_default) {
    j["name"] = r.name;
    if (!r.match.empty()) {
      nlohmann::json ms = nlohmann::json::array();
      for (const auto& m : r.match) {
        nlohmann::json mj;
        if (!m.field.empty()) mj["field"] = m.field;
        else mj["header"] = m.header;
        if (m.op == Match::Op::equals) mj["equals"] = m.values.at(0);
        else if (m.op == Match::Op::in) mj["in"] = m.values;
        else mj["exists"] = m.exists;
        ms.push_back(mj);
      }
      j["match"] = ms;
    }
    if (r.fraction) j["fraction"] = *r.fraction;
  }
  const Action& a = r.action;
  if (a.delay) j["delay"] = to_json(*a.delay);
  if (a.drop > 0) j["drop"] = a.drop;
  if (a.duplicate > 0 && a.copies > 1)
    j["duplicate"] = {{"copies", a.copies}, {"spacing", format_duration(a.spacing)}, {"probability", a.duplicate}};
  if (a.reorder) j["reorder"] = {{"window", a.reorder_window}, {"max_hold", format_duration(a.reorder_max_hold)}};
  if (a.corrupt > 0) j["corrupt"] = a.corrupt;
  if (a.missing_id > 0) j["missing_id"] = a.missing_id;
  if (a.wrong_id != WrongId::none) j["wrong_id"] = {{"mode", to_string(a.wrong_id)}, {"probability", a.wrong_id_probability}};
  if (a.error > 0) j["error"] = a.error;
  return j;
}
}  // namespace

nlohmann::json to_json(const Profile& p) {
  nlohmann::json j = nlohmann::json::object();
  if (p.seed) j["seed"] = *p.seed;
  j["timeout"] = format_duration(p.timeout);
  j["processing"] = {{"workers", p.processing.workers}, {"queue", p.processing.queue}};
  if (p.processing.service_time) j["processing"]["service_time"] = to_json(*p.processing.service_time);
  if (p.stall) j["stall"] = {{"after", p.stall->after}, {"for", format_duration(p.stall->duration)}};
  if (p.crash_after) j["crash"] = {{"after", *p.crash_after}};
  j["default"] = rule_json(p.default_rule, true);
  j["rules"] = nlohmann::json::array();
  for (const auto& r : p.rules) j["rules"].push_back(rule_json(r, false));
  return j;
}

std::string ProfileError::to_string() const {
  std::string s = source;
  if (line > 0) s += ":" + std::to_string(line) + ":" + std::to_string(column);
  s += ": ";
  if (!key.empty()) s += key + ": ";
  return s + message;
}

std::optional<Override> parse_override(const std::string& text, std::string& error) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0) {
    error = "--set expects KEY=VALUE, got '" + text + "'";
    return std::nullopt;
  }
  return Override{text.substr(0, eq), text.substr(eq + 1)};
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

ProfileResult parse_profile(const std::string& text, const std::string& source, const std::vector<Override>& overrides) {
  ProfileResult result;
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    result.error = ProfileError{source, e.mark.line + 1, e.mark.column + 1, "", "YAML syntax: " + e.msg};
    return result;
  }
  if (root.IsNull() || !root) root = YAML::Node(YAML::NodeType::Map);
  for (const auto& o : overrides) {
    YAML::Node value;
    try {
      value = YAML::Load(o.value);
    } catch (const YAML::Exception& e) {
      result.error = ProfileError{"--set " + o.key + "=" + o.value, 0, 0, o.key, "YAML syntax: " + e.msg};
      return result;
    }
    if (!value) value = YAML::Node(YAML::NodeType::Null);
    std::string err;
    if (!root.IsMap() || !set_path(root, split_path(o.key), 0, value, err)) {
      result.error = ProfileError{"--set " + o.key + "=" + o.value, 0, 0, o.key, err.empty() ? "profile is not a mapping" : err};
      return result;
    }
  }
  try {
    result.profile = std::make_shared<const Profile>(build(root));
  } catch (const Invalid& inv) {
    // A key that came from --set is reported against the override, not against the file.
    for (const auto& o : overrides) {
      if (inv.key == o.key || inv.key.rfind(o.key + ".", 0) == 0) {
        result.error = ProfileError{"--set " + o.key + "=" + o.value, 0, 0, inv.key, inv.message};
        return result;
      }
    }
    result.error = ProfileError{source, inv.mark.line + 1, inv.mark.column + 1, inv.key, inv.message};
  } catch (const YAML::Exception& e) {
    result.error = ProfileError{source, e.mark.line + 1, e.mark.column + 1, "", e.msg};
  }
  return result;
}

ProfileResult load_profile_file(const std::string& path, const std::vector<Override>& overrides) {
  std::ifstream in(path);
  if (!in) {
    ProfileResult r;
    r.error = ProfileError{path, 0, 0, "", "cannot read the profile file"};
    return r;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_profile(ss.str(), path, overrides);
}

std::shared_ptr<const Profile> default_profile() {
  static const auto p = std::make_shared<const Profile>();
  return p;
}

}  // namespace rrkit::simulator
