#include "simulator/profile.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include <yaml-cpp/yaml.h>

#include "common/duration.h"
#include "simulator/profile_yaml.h"

namespace rrkit::simulator {

using namespace profile_yaml;

namespace {

Match match_of(const YAML::Node& n, const std::string& key) {
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
      a.copies = int_value(v, key, 1, kMaxCopies);
      a.duplicate = 1;
    } else {
      check_keys(v, key, {"copies", "spacing", "probability"});
      a.copies = v["copies"] ? int_value(v["copies"], join(key, "copies"), 1, kMaxCopies) : 2;
      if (v["spacing"]) a.spacing = duration(v["spacing"], join(key, "spacing"));
      a.duplicate = v["probability"] ? probability_value(v["probability"], join(key, "probability")) : 1.0;
      // The last copy is scheduled spacing × (copies - 1) after the first.
      if (a.copies > 1 && a.spacing.count() > kMaxDelay.count() / (a.copies - 1)) {
        fail(v["spacing"], join(key, "spacing"),
             "spacing " + format_duration(a.spacing) + " × " + std::to_string(a.copies - 1) +
                 " puts the last copy further out than " + format_duration(kMaxDelay) + " (the longest delay)");
      }
    }
  } else if (k == "reorder") {
    a.reorder = true;
    if (v.IsScalar()) {
      a.reorder_window = int_value(v, key, 2);
    } else {
      check_keys(v, key, {"window", "max_hold"});
      if (!v["window"]) fail(v, join(key, "window"), "missing 'window'");
      a.reorder_window = int_value(v["window"], join(key, "window"), 2);
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
        for (std::size_t i = 0; i < v.size(); ++i) r.match.push_back(match_of(v[i], join(sub, std::to_string(i))));
      } else {
        r.match.push_back(match_of(v, sub));
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
             {"name", "description", "seed", "timeout", "processing", "stall", "crash", "default", "rules", "contract"});
  if (root["seed"]) p.seed = static_cast<std::uint64_t>(integer(root["seed"], "seed", 0));
  if (root["timeout"]) p.timeout = duration(root["timeout"], "timeout");
  if (const auto pr = root["processing"]; pr && !pr.IsNull()) {
    check_keys(pr, "processing", {"workers", "queue", "service_time"});
    if (pr["workers"]) p.processing.workers = int_value(pr["workers"], "processing.workers", 1);
    if (pr["queue"]) p.processing.queue = int_value(pr["queue"], "processing.queue", 1);
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
  if (const auto c = root["contract"]; c && !c.IsNull()) p.contract = contract(c, "contract");
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
    // An index too large for size_t is past the end as well (and must not throw).
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

std::string to_string(WrongId w) {
  switch (w) {
    case WrongId::none: return "none";
    case WrongId::random: return "random";
    case WrongId::swap: return "swap";
  }
  return "none";
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
  if (p.contract) j["contract"] = to_json(*p.contract);
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
