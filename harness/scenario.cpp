#include "harness/scenario.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/duration.h"

namespace rrkit::harness {

namespace fs = std::filesystem;

namespace {

struct Loader {
  std::string file;
  std::string error;

  bool fail(const YAML::Node& node, const std::string& key, const std::string& problem) {
    if (error.empty()) {
      const int line = node.Mark().line >= 0 ? node.Mark().line + 1 : 0;
      error = file + ":" + std::to_string(line) + ": " + key + ": " + problem;
    }
    return false;
  }

  bool only_keys(const YAML::Node& map, const std::string& where, const std::set<std::string>& allowed) {
    if (!map.IsMap()) return fail(map, where, "must be a mapping");
    for (const auto& kv : map) {
      // A collection as a key ({[a]: 1}) is never an allowed key; as<std::string>() would throw on it.
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first);
      if (!allowed.count(key)) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        return fail(kv.first, where.empty() ? key : where + "." + key, "unknown key (expected one of: " + list + ")");
      }
    }
    return true;
  }

  template <class T>
  bool scalar(const YAML::Node& parent, const std::string& key, const std::string& path, T& out) {
    const auto node = parent[key];
    if (!node) return true;
    if (!node.IsScalar()) return fail(node, path, "must be a scalar");
    try {
      out = node.as<T>();
    } catch (const YAML::Exception&) {
      return fail(node, path, "has the wrong type (\"" + node.Scalar() + "\")");
    }
    return true;
  }

  bool duration(const YAML::Node& parent, const std::string& key, const std::string& path,
                std::chrono::microseconds& out) {
    const auto node = parent[key];
    if (!node) return true;
    if (!node.IsScalar()) return fail(node, path, "must be a duration like 250ms or 2s");
    const auto d = parse_duration(node.Scalar());
    if (!d) return fail(node, path, "is not a duration (\"" + node.Scalar() + "\"; use e.g. 250ms, 2s)");
    out = *d;
    return true;
  }

  bool strings(const YAML::Node& parent, const std::string& key, const std::string& path,
               std::vector<std::string>& out) {
    const auto node = parent[key];
    if (!node) return true;
    if (!node.IsSequence()) return fail(node, path, "must be a list");
    for (const auto& item : node) {
      if (!item.IsScalar()) return fail(item, path, "items must be scalars");
      out.push_back(item.Scalar());
    }
    return true;
  }

  bool positive(const YAML::Node& parent, const std::string& key, const std::string& path, double value,
                double min, double max) {
    if (value < min || value > max) {
      return fail(parent[key] ? parent[key] : parent, path,
                  "must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    return true;
  }
};

// A scenario's name names its run folder (<out>/<name>-seed<N>), which is emptied before the run:
// only characters that cannot leave --out or hide the folder.
bool is_safe_name(const std::string& name) {
  if (name.empty() || name.size() > 100 || name.front() == '.') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
  });
}

nlohmann::json yaml_to_json(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json o = nlohmann::json::object();
      // A key may be a collection in YAML ({[a]: 1}); JSON keys are text, so it is written as YAML.
      for (const auto& kv : node) o[kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first)] = yaml_to_json(kv.second);
      return o;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& item : node) a.push_back(yaml_to_json(item));
      return a;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = node.Scalar();
      if (node.Tag() == "!") return s;  // quoted in the source: keep it a string
      if (s == "true") return true;
      if (s == "false") return false;
      if (s == "null" || s == "~") return nullptr;
      try {
        std::size_t used = 0;
        const long long i = std::stoll(s, &used);
        if (used == s.size()) return i;
        const double d = std::stod(s, &used);
        if (used == s.size()) return d;
      } catch (const std::exception&) {
      }
      return s;
    }
    default:
      return nullptr;
  }
}

bool parse_assertion(const std::string& text, Assertion& a) {
  static const std::vector<std::string> ops = {"==", "!=", ">=", "<=", ">", "<"};
  for (const auto& op : ops) {
    const auto pos = text.find(" " + op + " ");
    if (pos == std::string::npos) continue;
    a.text = text;
    a.lhs = text.substr(0, pos);
    a.op = op;
    a.rhs = text.substr(pos + op.size() + 2);
    auto trim = [](std::string& s) {
      s.erase(0, s.find_first_not_of(' '));
      s.erase(s.find_last_not_of(' ') + 1);
    };
    trim(a.lhs);
    trim(a.rhs);
    return !a.lhs.empty() && !a.rhs.empty();
  }
  return false;
}

// `instance:` names a simulator that exists when the action plays: one of simulator.instances or one an
// earlier add_simulator started (the timeline is sorted by then). Only the actions on one instance take it,
// and stop_gateway, whose instance is a gateway (check_gateway_instances judges those, and every `target:`).
bool check_simulator_instances(Loader& L, const YAML::Node& tl, const Scenario& s) {
  auto node_of = [&](const TimelineAction& a) -> YAML::Node {
    for (const auto& item : tl) {
      if (item.Mark().line + 1 == a.line) return item;
    }
    return tl;
  };
  int live = s.simulator_instances;
  for (const auto& a : s.timeline) {
    const auto item = node_of(a);
    const bool on_instance = a.action == ActionKind::crash_simulator || a.action == ActionKind::restart_simulator;
    const bool on_gateway = a.action == ActionKind::stop_gateway;
    if (item["instance"] && !on_instance && !on_gateway) {
      return L.fail(item["instance"], "timeline[].instance", std::string(to_string(a.action)) + " takes no instance");
    }
    if (on_gateway && !item["instance"]) return L.fail(item, "timeline[].instance", "stop_gateway needs instance: N");
    if (a.action == ActionKind::add_simulator) ++live;
    if (on_instance && (a.instance < 0 || a.instance >= live)) {
      return L.fail(item["instance"], "timeline[].instance",
                    "no simulator instance " + std::to_string(a.instance) + " at that time (" + std::to_string(live) +
                        " started, numbered from 0)");
    }
  }
  if (const auto p = check_gateway_instances(s.timeline, s.gateways, s.reply_mode, s.rounds)) {
    const auto item = node_of(s.timeline[p->action]);
    return L.fail(item[p->key] ? item[p->key] : item, "timeline[]." + p->key, p->message);
  }
  return true;
}

}  // namespace

std::optional<Scenario> load_scenario(const fs::path& path, std::string& error, bool read_profile) {
  Loader L{path.string(), {}};
  YAML::Node root;
  try {
    root = YAML::LoadFile(path.string());
  } catch (const YAML::BadFile&) {
    error = path.string() + ": cannot read the file";
    return std::nullopt;
  } catch (const YAML::ParserException& e) {
    error = path.string() + ":" + std::to_string(e.mark.line + 1) + ": YAML syntax error: " + e.msg;
    return std::nullopt;
  }
  Scenario s;
  s.path = path.string();
  s.name = path.stem().string();
  const bool ok = [&] {
    if (!L.only_keys(root, "", {"name", "description", "tags", "seed", "stack", "simulator", "traffic", "timeline",
                                "settle", "warmup", "expect"})) {
      return false;
    }
    if (!L.scalar(root, "name", "name", s.name) || !L.scalar(root, "description", "description", s.description) ||
        !L.strings(root, "tags", "tags", s.tags) || !L.scalar(root, "seed", "seed", s.seed) ||
        !L.duration(root, "settle", "settle", s.settle) || !L.scalar(root, "warmup", "warmup", s.warmup) ||
        !L.positive(root, "warmup", "warmup", s.warmup, 0, 1000)) {
      return false;
    }
    if (!is_safe_name(s.name)) {
      const std::string why = "\"" + s.name + "\" is not a safe run folder name (use letters, digits, '.', '_', '-', " +
                              "not starting with '.')";
      return root["name"] ? L.fail(root["name"], "name", why) : L.fail(root, "name", why + "; set name: in the file");
    }
    if (const auto st = root["stack"]) {
      if (!L.only_keys(st, "stack", {"gateways", "consumer_groups", "reply_mode", "partitions", "gateway_timeout",
                                     "gateway_args", "simulator_args", "kafka"})) {
        return false;
      }
      std::string groups = "per-instance";
      if (!L.scalar(st, "gateways", "stack.gateways", s.gateways) ||
          !L.positive(st, "gateways", "stack.gateways", s.gateways, 1, 8) ||
          !L.scalar(st, "consumer_groups", "stack.consumer_groups", groups) ||
          !L.scalar(st, "reply_mode", "stack.reply_mode", s.reply_mode) ||
          !L.scalar(st, "partitions", "stack.partitions", s.partitions) ||
          !L.positive(st, "partitions", "stack.partitions", s.partitions, 1, 64) ||
          !L.duration(st, "gateway_timeout", "stack.gateway_timeout", s.gateway_timeout) ||
          !L.strings(st, "gateway_args", "stack.gateway_args", s.gateway_args) ||
          !L.strings(st, "simulator_args", "stack.simulator_args", s.simulator_args)) {
        return false;
      }
      if (groups != "per-instance" && groups != "shared") {
        return L.fail(st["consumer_groups"], "stack.consumer_groups", "must be per-instance or shared");
      }
      s.shared_consumer_group = groups == "shared";
      if (const auto k = st["kafka"]) {
        if (!k.IsMap()) return L.fail(k, "stack.kafka", "must be a mapping {brokers, replication_factor, min_insync_replicas}");
        if (!L.only_keys(k, "stack.kafka", {"brokers", "replication_factor", "min_insync_replicas"})) return false;
        // 0 (absent) keeps the launcher's default, which follows the cluster size.
        if (!L.scalar(k, "brokers", "stack.kafka.brokers", s.kafka_brokers) ||
            !L.positive(k, "brokers", "stack.kafka.brokers", s.kafka_brokers, 1, 5) ||
            !L.scalar(k, "replication_factor", "stack.kafka.replication_factor", s.replication_factor) ||
            (k["replication_factor"] && !L.positive(k, "replication_factor", "stack.kafka.replication_factor",
                                                     s.replication_factor, 1, s.kafka_brokers)) ||
            !L.scalar(k, "min_insync_replicas", "stack.kafka.min_insync_replicas", s.min_insync_replicas) ||
            (k["min_insync_replicas"] &&
             !L.positive(k, "min_insync_replicas", "stack.kafka.min_insync_replicas", s.min_insync_replicas, 1,
                         k["replication_factor"] ? s.replication_factor : std::min(s.kafka_brokers, 3)))) {
          return false;
        }
      }
      if (s.reply_mode != "broadcast" && s.reply_mode != "reply-to") {
        return L.fail(st["reply_mode"], "stack.reply_mode", "must be broadcast or reply-to");
      }
    }
    if (const auto sim = root["simulator"]) {
      if (!L.only_keys(sim, "simulator", {"profile", "profile_file", "instances"})) return false;
      if (!L.scalar(sim, "instances", "simulator.instances", s.simulator_instances) ||
          !L.positive(sim, "instances", "simulator.instances", s.simulator_instances, 1, 8)) {
        return false;
      }
      if (sim["profile"] && sim["profile_file"]) {
        return L.fail(sim, "simulator", "give either profile (inline) or profile_file, not both");
      }
      if (const auto p = sim["profile"]) {
        YAML::Emitter out;
        out << p;
        s.profile_yaml = std::string(out.c_str()) + "\n";
      }
      if (const auto pf = sim["profile_file"]; pf && read_profile) {
        const fs::path file = path.parent_path() / pf.as<std::string>();
        std::ifstream in(file);
        if (!in) return L.fail(pf, "simulator.profile_file", "cannot read " + file.string());
        std::stringstream ss;
        ss << in.rdbuf();
        s.profile_yaml = ss.str();
      }
    }
    if (const auto t = root["traffic"]) {
      if (!L.only_keys(t, "traffic", {"mode", "concurrency", "rate", "requests", "duration", "body", "request_timeout",
                                      "disconnect_fraction", "disconnect_after", "client_timeout", "phases",
                                      "keepalive_idle", "rounds"})) {
        return false;
      }
      std::string mode = "closed";
      auto& tp = s.traffic;
      std::chrono::microseconds req_timeout{0};
      if (!L.scalar(t, "mode", "traffic.mode", mode) || !L.scalar(t, "concurrency", "traffic.concurrency", tp.concurrency) ||
          !L.positive(t, "concurrency", "traffic.concurrency", tp.concurrency, 1, 20000) ||
          !L.scalar(t, "rate", "traffic.rate", tp.rate) || !L.positive(t, "rate", "traffic.rate", tp.rate, 0.1, 100000) ||
          !L.scalar(t, "requests", "traffic.requests", tp.requests) ||
          !L.positive(t, "requests", "traffic.requests", static_cast<double>(tp.requests), 0, 1e7) ||
          !L.duration(t, "duration", "traffic.duration", tp.duration) ||
          !L.duration(t, "request_timeout", "traffic.request_timeout", req_timeout) ||
          !L.scalar(t, "disconnect_fraction", "traffic.disconnect_fraction", tp.disconnect_fraction) ||
          !L.positive(t, "disconnect_fraction", "traffic.disconnect_fraction", tp.disconnect_fraction, 0, 1) ||
          !L.duration(t, "disconnect_after", "traffic.disconnect_after", tp.disconnect_after) ||
          !L.duration(t, "client_timeout", "traffic.client_timeout", tp.client_timeout)) {
        return false;
      }
      if (t["keepalive_idle"]) {
        std::chrono::microseconds idle{0};
        if (!L.duration(t, "keepalive_idle", "traffic.keepalive_idle", idle)) return false;
        tp.keepalive_idle = std::chrono::duration_cast<std::chrono::milliseconds>(idle);
      }
      if (const auto ph = t["phases"]) {
        if (!ph.IsSequence() || ph.size() == 0) return L.fail(ph, "traffic.phases", "must be a list of {duration, rate}");
        if (mode != "open") return L.fail(ph, "traffic.phases", "phases need mode: open");
        if (t["rate"] || t["duration"]) {
          return L.fail(ph, "traffic.phases", "give either phases or rate and duration, not both");
        }
        for (const auto& item : ph) {
          if (!L.only_keys(item, "traffic.phases[]", {"duration", "rate"})) return false;
          if (!item["duration"] || !item["rate"]) return L.fail(item, "traffic.phases[]", "needs duration and rate");
          TrafficPhase phase;
          if (!L.duration(item, "duration", "traffic.phases[].duration", phase.duration) ||
              !L.scalar(item, "rate", "traffic.phases[].rate", phase.rate) ||
              !L.positive(item, "rate", "traffic.phases[].rate", phase.rate, 0, 100000)) {
            return false;
          }
          if (phase.duration.count() <= 0) return L.fail(item["duration"], "traffic.phases[].duration", "must be positive");
          tp.phases.push_back(phase);
        }
        if (!t["requests"]) tp.requests = 0;
      }
      if (mode != "closed" && mode != "open") return L.fail(t["mode"], "traffic.mode", "must be closed or open");
      if (const auto r = t["rounds"]) {
        if (!L.scalar(t, "rounds", "traffic.rounds", s.rounds) ||
            !L.positive(t, "rounds", "traffic.rounds", s.rounds, 1, 1000)) {
          return false;
        }
        // Equal rounds are counted in requests: a duration or an open-loop schedule has no count to split.
        if (s.rounds > 1 && (mode != "closed" || !t["requests"] || t["duration"])) {
          return L.fail(r, "traffic.rounds", "rounds need mode: closed and a request count (no duration)");
        }
        if (s.rounds > 1 && tp.requests < static_cast<std::uint64_t>(s.rounds)) {
          return L.fail(r, "traffic.rounds", "more rounds than requests");
        }
      }
      tp.mode = mode == "open" ? TrafficPlan::Mode::open : TrafficPlan::Mode::closed;
      tp.request_timeout_ms = req_timeout.count() / 1000;
      // A duration without a count means "as many as the duration allows".
      if (t["duration"] && !t["requests"]) tp.requests = 0;
      if (const auto b = t["body"]) {
        if (!b.IsMap()) return L.fail(b, "traffic.body", "must be a mapping (the JSON object to send)");
        tp.body_template = yaml_to_json(b);
      }
    }
    if (const auto tl = root["timeline"]) {
      if (!tl.IsSequence()) return L.fail(tl, "timeline", "must be a list of actions");
      for (const auto& item : tl) {
        if (!L.only_keys(item, "timeline[]", {"at", "action", "target", "profile", "broker", "topic", "partition", "instance"})) {
          return false;
        }
        TimelineAction a;
        a.line = item.Mark().line + 1;
        if (!item["at"] || !item["action"]) return L.fail(item, "timeline[]", "needs at and action");
        std::string action;
        if (!L.duration(item, "at", "timeline[].at", a.at) || !L.scalar(item, "action", "timeline[].action", action) ||
            !L.scalar(item, "target", "timeline[].target", a.target) ||
            !L.scalar(item, "broker", "timeline[].broker", a.broker) ||
            !L.scalar(item, "topic", "timeline[].topic", a.topic) ||
            !L.scalar(item, "partition", "timeline[].partition", a.partition) ||
            !L.scalar(item, "instance", "timeline[].instance", a.instance)) {
          return false;
        }
        const auto kind = parse_action(action);
        if (!kind) {
          std::vector<std::string> names;
          for (const auto& row : action_table()) names.emplace_back(row.name);
          std::sort(names.begin(), names.end());
          std::string list;
          for (const auto& k : names) list += (list.empty() ? "" : ", ") + k;
          return L.fail(item["action"], "timeline[].action", "unknown action \"" + action + "\" (one of: " + list + ")");
        }
        a.action = *kind;
        const auto& row = info(a.action);
        for (const char* key : {"broker", "topic", "partition"}) {
          const bool used = std::string(key) == "broker" ? row.needs_broker : row.needs_partition;
          if (item[key] && !used) return L.fail(item[key], std::string("timeline[].") + key, action + " takes no " + key);
        }
        if (row.needs_broker) {
          if (!item["broker"]) return L.fail(item, "timeline[].broker", action + " needs broker: <node id>");
          if (!L.positive(item, "broker", "timeline[].broker", a.broker, 1, s.kafka_brokers)) return false;
        }
        if (row.needs_partition) {
          if (!item["topic"] || !item["partition"]) {
            return L.fail(item, "timeline[].topic", action + " needs topic: request|reply and partition: N");
          }
          if (a.topic != "request" && a.topic != "reply") {
            return L.fail(item["topic"], "timeline[].topic", "must be request or reply");
          }
          if (!L.positive(item, "partition", "timeline[].partition", a.partition, 0, s.partitions - 1)) return false;
        }
        if (info(a.action).needs_profile) {
          if (!item["profile"]) return L.fail(item, "timeline[].profile", action + " needs a profile");
          YAML::Emitter out;
          out << item["profile"];
          a.profile_yaml = std::string(out.c_str()) + "\n";
        }
        s.timeline.push_back(std::move(a));
      }
      std::stable_sort(s.timeline.begin(), s.timeline.end(),
                       [](const TimelineAction& x, const TimelineAction& y) { return x.at < y.at; });
      if (!check_simulator_instances(L, tl, s)) return false;
    }
    if (const auto e = root["expect"]) {
      if (!L.only_keys(e, "expect", {"timeout_epsilon", "violations", "allow", "crashes", "assert", "memory"})) return false;
      if (!L.duration(e, "timeout_epsilon", "expect.timeout_epsilon", s.timeout_epsilon) ||
          !L.strings(e, "crashes", "expect.crashes", s.expected_crashes)) {
        return false;
      }
      if (const auto m = e["memory"]) {
        if (!m.IsMap()) {
          return L.fail(m, "expect.memory", "must be a mapping {bytes_per_timed_out, noise_floor_mib, warmup_rounds}");
        }
        if (!L.only_keys(m, "expect.memory", {"bytes_per_timed_out", "noise_floor_mib", "warmup_rounds"})) return false;
        if (!L.scalar(m, "warmup_rounds", "expect.memory.warmup_rounds", s.memory.warmup_rounds) ||
            !L.positive(m, "warmup_rounds", "expect.memory.warmup_rounds", s.memory.warmup_rounds, 1, 999)) {
          return false;
        }
        if (m["warmup_rounds"] && s.memory.warmup_rounds >= s.rounds) {
          return L.fail(m["warmup_rounds"], "expect.memory.warmup_rounds",
                        "must be less than traffic.rounds (" + std::to_string(s.rounds) +
                            "): the trend needs two samples from the warm-up's last round on");
        }
        double floor_mib = s.memory.noise_floor_bytes / (1024.0 * 1024.0);
        if (!L.scalar(m, "bytes_per_timed_out", "expect.memory.bytes_per_timed_out", s.memory.max_bytes_per_timed_out) ||
            !L.positive(m, "bytes_per_timed_out", "expect.memory.bytes_per_timed_out", s.memory.max_bytes_per_timed_out,
                        0, 1e9) ||
            !L.scalar(m, "noise_floor_mib", "expect.memory.noise_floor_mib", floor_mib) ||
            !L.positive(m, "noise_floor_mib", "expect.memory.noise_floor_mib", floor_mib, 0, 1e6)) {
          return false;
        }
        s.memory.noise_floor_bytes = floor_mib * 1024.0 * 1024.0;
      }
      std::vector<std::string> violations, allow;
      if (!L.strings(e, "violations", "expect.violations", violations) || !L.strings(e, "allow", "expect.allow", allow)) {
        return false;
      }
      for (const auto& [names, list] : {std::pair{&violations, &s.expect_violations}, std::pair{&allow, &s.allow}}) {
        for (const auto& v : *names) {
          const auto id = parse_invariant(v);
          if (!id) {
            std::string all;
            for (const auto& n : invariant_names()) all += (all.empty() ? "" : ", ") + n;
            return L.fail(e, "expect", "unknown invariant \"" + v + "\" (one of: " + all + ")");
          }
          list->push_back(*id);
        }
      }
      if (const auto as = e["assert"]) {
        if (!as.IsSequence()) return L.fail(as, "expect.assert", "must be a list of \"metric op value\" strings");
        for (const auto& item : as) {
          Assertion a;
          a.line = item.Mark().line + 1;
          if (!item.IsScalar() || !parse_assertion(item.Scalar(), a)) {
            return L.fail(item, "expect.assert", "cannot read \"" + (item.IsScalar() ? item.Scalar() : "?") +
                                                     "\" (write e.g. \"outcome.timeout == 40\")");
          }
          std::string why;
          if (!check_expression(a.lhs, why) || !check_expression(a.rhs, why)) {
            return L.fail(item, "expect.assert", "\"" + a.text + "\": " + why);
          }
          s.assertions.push_back(std::move(a));
        }
      }
    }
    return true;
  }();
  if (!ok) {
    error = L.error;
    return std::nullopt;
  }
  return s;
}

}  // namespace rrkit::harness
