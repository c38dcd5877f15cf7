// The SUT file loader. The pure functions that use a loaded Sut are in sut_answer.cpp.
#include "harness/sut.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>

#include "common/duration.h"
#include "common/json_limits.h"
#include "harness/scenario.h"

namespace rrkit::harness {

namespace fs = std::filesystem;

const std::vector<std::string>& sut_placeholders() {
  static const std::vector<std::string> names = {
      "port",    "app_port", "dapr_http_port", "dapr_grpc_port", "app_id",     "instance", "timeout",
      "timeout_ms", "pubsub", "request_topic", "reply_topic",  "reply_mode", "sut_dir",  "bin_dir",
      "run_dir", "app_api_token", "name"};
  return names;
}

std::vector<std::string> sut_metric_keys() {
  std::vector<std::string> keys = {"pending"};
  const std::string prefix = "gateway.";
  for (const auto& op : assertion_operands()) {
    if (op.name.rfind(prefix, 0) == 0) keys.push_back(op.name.substr(prefix.size()));
  }
  return keys;
}

bool is_json_pointer(const std::string& s) {
  if (s.empty() || s[0] != '/') return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '~' && (i + 1 == s.size() || (s[i + 1] != '0' && s[i + 1] != '1'))) return false;
  }
  return true;
}

namespace {

std::string comma_list(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ", ") + i;
  return out;
}

bool is_name(const std::string& s) {
  if (s.empty() || s.size() > 100 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

bool is_env_name(const std::string& s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// An HTTP token (RFC 9110): header names and methods.
bool is_token(const std::string& s) {
  static const std::string extra = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || extra.find(c) != std::string::npos;
  });
}

// A Prometheus metric name, optionally with one label: name or name{label="value"}.
std::optional<SutSeries> parse_series(const std::string& text, std::string& why) {
  auto name_char = [](char c, bool first) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' || (!first && c >= '0' && c <= '9');
  };
  SutSeries s;
  s.text = text;
  std::size_t i = 0;
  while (i < text.size() && name_char(text[i], i == 0)) ++i;
  s.name = text.substr(0, i);
  if (s.name.empty()) {
    why = "\"" + text + "\" does not start with a metric name";
    return std::nullopt;
  }
  if (i == text.size()) return s;
  const std::string rest = text.substr(i);
  const auto eq = rest.find("=\"");
  if (rest[0] != '{' || rest.back() != '}' || eq == std::string::npos || rest.size() < eq + 4 ||
      rest[rest.size() - 2] != '"') {
    why = "\"" + text + "\" is not name or name{label=\"value\"}";
    return std::nullopt;
  }
  s.label = rest.substr(1, eq - 1);
  s.value = rest.substr(eq + 2, rest.size() - eq - 4);
  const bool label_ok = !s.label.empty() && name_char(s.label[0], true) && s.label.find(':') == std::string::npos &&
                        std::all_of(s.label.begin(), s.label.end(), [&](char c) { return name_char(c, false); });
  if (!label_ok || s.value.find_first_of("\",{}\\") != std::string::npos) {
    why = "\"" + text + "\": one label only, as name{label=\"value\"} (no commas, quotes or braces in the value)";
    return std::nullopt;
  }
  return s;
}

struct SutLoader {
  std::string file;
  SutLoad result;

  bool fail(const YAML::Node& node, const std::string& key, const std::string& problem) {
    if (result.error.empty()) {
      YAML::Mark mark = YAML::Mark::null_mark();
      try {
        mark = node.Mark();
      } catch (const YAML::Exception&) {
        // An invalid node (a missing key looked up on a scalar) has no place: the message keeps line 0.
      }
      result.line = mark.line >= 0 ? mark.line + 1 : 0;
      result.column = mark.column >= 0 ? mark.column + 1 : 0;
      result.key = key;
      result.error = file + ":" + std::to_string(result.line) + ":" + std::to_string(result.column) + ": " + key + ": " + problem;
    }
    return false;
  }

  bool only_keys(const YAML::Node& map, const std::string& where, const std::vector<std::string>& allowed) {
    if (!map.IsMap()) return fail(map, where.empty() ? "(file)" : where, "must be a mapping");
    std::set<std::string> seen;
    for (const auto& kv : map) {
      const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : YAML::Dump(kv.first);
      const std::string path = where.empty() ? key : where + "." + key;
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        return fail(kv.first, path, "unknown key (expected one of: " + comma_list(allowed) + ")");
      }
      // yaml-cpp keeps both; a lookup would silently take the first.
      if (!seen.insert(key).second) return fail(kv.first, path, "is given twice");
    }
    return true;
  }

  // A scalar that must be a string: quoted, or plain text that YAML would not read as a number,
  // a boolean or null ("argv: [node, 8080]" is fine, 8080 is text to a process; a map is not).
  bool text(const YAML::Node& node, const std::string& key, std::string& out) {
    if (!node.IsScalar()) return fail(node, key, "must be a string");
    out = node.Scalar();
    return true;
  }

  bool optional_text(const YAML::Node& parent, const std::string& name, const std::string& key, std::string& out) {
    const auto node = parent[name];
    return !node || text(node, key, out);
  }

  bool boolean(const YAML::Node& parent, const std::string& name, const std::string& key, bool& out) {
    const auto node = parent[name];
    if (!node) return true;
    if (!node.IsScalar() || (node.Scalar() != "true" && node.Scalar() != "false")) {
      return fail(node, key, "must be true or false");
    }
    out = node.Scalar() == "true";
    return true;
  }

  bool duration(const YAML::Node& parent, const std::string& name, const std::string& key, std::chrono::microseconds& out) {
    const auto node = parent[name];
    if (!node) return true;
    const auto d = node.IsScalar() ? parse_duration(node.Scalar()) : std::nullopt;
    if (!d || d->count() <= 0) return fail(node, key, "must be a positive duration like 500ms or 10s");
    out = *d;
    return true;
  }

  bool status(const YAML::Node& parent, const std::string& name, const std::string& key, int& out) {
    const auto node = parent[name];
    if (!node) return true;
    const std::string s = node.IsScalar() ? node.Scalar() : "";
    const bool digits = s.size() == 3 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || s[0] == '0' || s[0] > '5') return fail(node, key, "must be an HTTP status between 100 and 599");
    out = std::stoi(s);
    return true;
  }

  bool path(const YAML::Node& parent, const std::string& name, const std::string& key, std::string& out) {
    const auto node = parent[name];
    if (!node) return true;
    if (!text(node, key, out)) return false;
    if (out.empty() || out[0] != '/' || out.find_first_of(" \t\r\n") != std::string::npos) {
      return fail(node, key, "must be a URL path starting with / (no spaces)");
    }
    return true;
  }

  // Every {{...}} in s must be one of allowed.
  bool placeholders(const YAML::Node& node, const std::string& key, const std::string& s,
                    const std::vector<std::string>& allowed) {
    for (std::size_t pos = s.find("{{"); pos != std::string::npos; pos = s.find("{{", pos)) {
      const auto end = s.find("}}", pos + 2);
      if (end == std::string::npos) return fail(node, key, "\"{{\" without \"}}\" in \"" + s + "\"");
      const std::string name = s.substr(pos + 2, end - pos - 2);
      if (std::find(allowed.begin(), allowed.end(), name) == allowed.end()) {
        std::string known;
        for (const auto& a : allowed) known += (known.empty() ? "{{" : ", {{") + a + "}}";
        return fail(node, key, "unknown placeholder {{" + name + "}} (known: " + known + ")");
      }
      pos = end + 2;
    }
    return true;
  }

  bool templ(const YAML::Node& node, const std::string& key, std::string& out,
             const std::vector<std::string>& allowed = sut_placeholders()) {
    return text(node, key, out) && placeholders(node, key, out, allowed);
  }

  bool string_map(const YAML::Node& node, const std::string& key, EnvList& out, bool env) {
    if (!node.IsMap()) return fail(node, key, "must be a mapping of names to strings");
    out.clear();
    for (const auto& kv : node) {
      const std::string name = kv.first.IsScalar() ? kv.first.Scalar() : "";
      if (env ? !is_env_name(name) : !is_token(name)) {
        return fail(kv.first, key, "\"" + name + "\" is not a valid " + (env ? "environment variable" : "header") + " name");
      }
      const bool repeated = std::any_of(out.begin(), out.end(), [&](const auto& e) {
        return env ? e.first == name : std::equal(e.first.begin(), e.first.end(), name.begin(), name.end(), [](char a, char b) {
          return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
        });
      });
      if (repeated) return fail(kv.first, key + "." + name, "is given twice");
      std::string value;
      if (env ? !templ(kv.second, key + "." + name, value) : !text(kv.second, key + "." + name, value)) return false;
      if (!env && !placeholders(kv.second, key + "." + name, value, {})) return false;
      out.emplace_back(name, value);
    }
    return true;
  }

  bool start(const YAML::Node& node, Sut& s) {
    if (!only_keys(node, "start", {"argv", "env", "cwd", "scenario_args", "stop_grace"})) return false;
    const auto argv = node["argv"];
    if (!argv) return fail(node, "start.argv", "is required (the command that starts one instance)");
    if (!argv.IsSequence() || argv.size() == 0) return fail(argv, "start.argv", "must be a non-empty list of strings");
    for (const auto& item : argv) {
      std::string a;
      if (!templ(item, "start.argv", a)) return false;
      s.start.argv.push_back(a);
    }
    if (s.start.argv[0].empty()) return fail(argv[0], "start.argv", "the program (first item) is empty");
    if (const auto env = node["env"]; env && !string_map(env, "start.env", s.start.env, true)) return false;
    if (const auto cwd = node["cwd"]; cwd && !templ(cwd, "start.cwd", s.start.cwd)) return false;
    return boolean(node, "scenario_args", "start.scenario_args", s.start.scenario_args) &&
           duration(node, "stop_grace", "start.stop_grace", s.start.stop_grace);
  }

  bool dapr(const YAML::Node& node, Sut& s) {
    if (!only_keys(node, "dapr", {"app_id", "app_port"})) return false;
    if (const auto id = node["app_id"]) {
      std::vector<std::string> allowed;
      for (const auto& p : sut_placeholders()) {
        if (p != "app_id") allowed.push_back(p);
      }
      if (!templ(id, "dapr.app_id", s.dapr.app_id, allowed)) return false;
      if (s.dapr.app_id.empty()) return fail(id, "dapr.app_id", "must not be empty");
    }
    std::string mode = "separate";
    if (!optional_text(node, "app_port", "dapr.app_port", mode)) return false;
    if (mode != "separate" && mode != "same") return fail(node["app_port"], "dapr.app_port", "must be separate or same");
    s.dapr.app_port = mode == "same" ? AppPortMode::same : AppPortMode::separate;
    return true;
  }

  bool ready(const YAML::Node& node, Sut& s) {
    if (!only_keys(node, "ready", {"http", "subscription", "timeout", "warmup"})) return false;
    if (const auto http = node["http"]) {
      if (http.IsScalar() && http.Scalar() == "none") {
        s.ready.http.reset();
      } else {
        if (!only_keys(http, "ready.http", {"path", "status"})) return false;
        if (!path(http, "path", "ready.http.path", s.ready.http->path) ||
            !status(http, "status", "ready.http.status", s.ready.http->status)) {
          return false;
        }
      }
    }
    return boolean(node, "subscription", "ready.subscription", s.ready.subscription) &&
           duration(node, "timeout", "ready.timeout", s.ready.timeout) &&
           duration(node, "warmup", "ready.warmup", s.ready.warmup);
  }

  bool request(const YAML::Node& node, Sut& s) {
    if (!only_keys(node, "request", {"method", "path", "headers", "body"})) return false;
    if (!optional_text(node, "method", "request.method", s.request.method)) return false;
    if (!is_token(s.request.method) ||
        !std::all_of(s.request.method.begin(), s.request.method.end(), [](char c) { return c >= 'A' && c <= 'Z'; })) {
      return fail(node["method"], "request.method", "must be an HTTP method in capitals (POST, PUT, ...)");
    }
    if (!path(node, "path", "request.path", s.request.path)) return false;
    if (const auto h = node["headers"]; h && !string_map(h, "request.headers", s.request.headers, false)) return false;
    if (const auto b = node["body"]) {
      std::string text_value;
      if (!b.IsScalar()) {
        return fail(b, "request.body", "must be a string: \"{{body}}\" or a JSON template in quotes");
      }
      text_value = b.Scalar();
      if (text_value == "{{body}}" || text_value == "{{nonce}}") {
        s.request.body = text_value;
      } else {
        auto parsed = parse_bounded(text_value);
        if (!parsed.ok()) {
          return fail(b, "request.body",
                      parsed.errc == JsonErrc::too_deep ? "the JSON template is nested too deeply"
                                                        : "is neither \"{{body}}\" nor a JSON template (write JSON in quotes, "
                                                          "e.g. '{\"payload\": \"{{body}}\"}')");
        }
        s.request.body = std::move(parsed.value);
      }
      bool carries_nonce = false;
      if (!body_placeholders(b, s.request.body, carries_nonce)) return false;
      if (!carries_nonce) {
        return fail(b, "request.body", "must carry the harness's nonce: use \"{{body}}\" or \"{{nonce}}\" somewhere in it");
      }
    }
    return true;
  }

  // The body template's strings: a placeholder must be the whole string (it stands for a value).
  bool body_placeholders(const YAML::Node& node, const nlohmann::json& body, bool& carries_nonce) {
    std::vector<const nlohmann::json*> todo = {&body};
    while (!todo.empty()) {
      const auto* v = todo.back();
      todo.pop_back();
      if (v->is_structured()) {
        for (const auto& item : *v) todo.push_back(&item);
        continue;
      }
      if (!v->is_string()) continue;
      const auto& str = v->get_ref<const std::string&>();
      if (str == "{{body}}" || str == "{{nonce}}") {
        carries_nonce = true;
        continue;
      }
      if (str == "{{seq}}") continue;
      if (!placeholders(node, "request.body", str, {"body", "nonce", "seq"})) return false;
      if (str.find("{{") != std::string::npos) {
        return fail(node, "request.body", "\"" + str + "\": a placeholder must be a whole JSON string (\"{{body}}\")");
      }
    }
    return true;
  }

  bool answer(const YAML::Node& node, Sut& s) {
    if (!only_keys(node, "answer", {"ok_status", "timeout_status", "correlation_id", "echo", "timeout_epsilon"})) return false;
    if (!status(node, "ok_status", "answer.ok_status", s.answer.ok_status) ||
        !status(node, "timeout_status", "answer.timeout_status", s.answer.timeout_status) ||
        !duration(node, "timeout_epsilon", "answer.timeout_epsilon", s.answer.timeout_epsilon)) {
      return false;
    }
    if (s.answer.ok_status == s.answer.timeout_status) {
      return fail(node, "answer.timeout_status", "must differ from answer.ok_status");
    }
    if (const auto id = node["correlation_id"]) {
      if (id.IsScalar() && id.Scalar() == "none") {
        s.answer.correlation_id = IdSource::none;
      } else {
        if (!id.IsMap() || id.size() != 1) {
          return fail(id, "answer.correlation_id", "must be none, {header: NAME} or {json: /pointer}");
        }
        if (!only_keys(id, "answer.correlation_id", {"header", "json"})) return false;
        if (const auto h = id["header"]) {
          if (!text(h, "answer.correlation_id.header", s.answer.correlation_id_at)) return false;
          if (!is_token(s.answer.correlation_id_at)) return fail(h, "answer.correlation_id.header", "is not a header name");
          s.answer.correlation_id = IdSource::header;
        } else {
          const auto j = id["json"];
          if (!text(j, "answer.correlation_id.json", s.answer.correlation_id_at)) return false;
          if (!is_json_pointer(s.answer.correlation_id_at)) {
            return fail(j, "answer.correlation_id.json", "\"" + s.answer.correlation_id_at + "\" is not a JSON pointer (e.g. /correlationId)");
          }
          s.answer.correlation_id = IdSource::json;
        }
      }
    }
    if (const auto e = node["echo"]) {
      std::string v;
      if (!text(e, "answer.echo", v)) return false;
      if (v == "body") {
        s.answer.echo = EchoMode::body;
      } else if (is_json_pointer(v)) {
        s.answer.echo = EchoMode::pointer;
        s.answer.echo_pointer = v;
      } else {
        return fail(e, "answer.echo", "must be body or a JSON pointer like /response/payload/echo (\"" + v + "\")");
      }
    }
    return true;
  }

  bool metrics(const YAML::Node& node, Sut& s) {
    if (!only_keys(node, "metrics", {"path", "series"})) return false;
    SutMetrics m;
    if (!path(node, "path", "metrics.path", m.path)) return false;
    const auto series = node["series"];
    if (!series) return fail(node, "metrics.series", "is required (which series the harness reads)");
    const auto keys = sut_metric_keys();
    if (!only_keys(series, "metrics.series", keys)) return false;
    for (const auto& kv : series) {
      const std::string key = "metrics.series." + kv.first.Scalar();
      std::string text_value, why;
      if (!text(kv.second, key, text_value)) return false;
      auto parsed = parse_series(text_value, why);
      if (!parsed) return fail(kv.second, key, why);
      m.series[kv.first.Scalar()] = std::move(*parsed);
    }
    s.metrics = std::move(m);
    return true;
  }

  bool root(const YAML::Node& node, Sut& s) {
    if (!only_keys(node, "", {"name", "description", "start", "dapr", "ready", "request", "answer", "metrics", "contract"})) {
      return false;
    }
    const auto name = node["name"];
    if (!name) return fail(node, "name", "is required");
    if (!text(name, "name", s.name)) return false;
    if (!is_name(s.name)) return fail(name, "name", "\"" + s.name + "\" must be lower-case letters, digits and '-', starting with a letter or digit");
    if (!optional_text(node, "description", "description", s.description)) return false;
    const auto st = node["start"];
    if (!st) return fail(node, "start", "is required (how to start one instance)");
    if (!start(st, s)) return false;
    if (const auto d = node["dapr"]; d && !dapr(d, s)) return false;
    if (const auto r = node["ready"]; r && !ready(r, s)) return false;
    if (const auto r = node["request"]; r && !request(r, s)) return false;
    if (const auto a = node["answer"]; a && !answer(a, s)) return false;
    if (const auto m = node["metrics"]; m && !metrics(m, s)) return false;
    if (const auto c = node["contract"]) {
      // Its keys are the simulator's to check (it is a profile section); here only its shape.
      if (!c.IsMap()) return fail(c, "contract", "must be a mapping (the simulator profile's contract section)");
      YAML::Emitter out;
      out << c;
      s.contract_yaml = std::string(out.c_str()) + "\n";
    }
    return true;
  }
};

}  // namespace

SutLoad parse_sut(std::string_view text, const fs::path& source) {
  SutLoader L{source.string(), {}};
  Sut s;
  s.file = source;
  s.dir = source.has_parent_path() ? source.parent_path() : fs::path(".");
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    if (!root.IsDefined() || root.IsNull()) {
      L.fail(root, "(file)", "is empty (a SUT file needs at least name and start)");
    } else {
      L.root(root, s);
    }
  } catch (const YAML::ParserException& e) {
    L.result.line = e.mark.line + 1;
    L.result.column = e.mark.column + 1;
    L.result.key = "(syntax)";
    L.result.error = L.file + ":" + std::to_string(L.result.line) + ":" + std::to_string(L.result.column) +
                     ": YAML syntax error: " + e.msg;
  } catch (const std::exception& e) {
    // yaml-cpp's other exceptions (a document nested too deeply, ...): still a value, never a crash.
    L.result.key = "(file)";
    L.result.error = L.file + ": cannot read it as YAML: " + e.what();
  }
  if (L.result.error.empty()) L.result.sut = std::move(s);
  return std::move(L.result);
}

SutLoad load_sut(const fs::path& path) {
  SutLoad r;
  r.key = "(file)";
  std::error_code ec;
  std::ifstream in(path, std::ios::binary);
  if (!in || fs::is_directory(path, ec)) {
    r.error = path.string() + ": cannot read the file";
    return r;
  }
  // Bounded, so that a path like /dev/zero or an endless pipe is an error, not a hang.
  std::string text(kMaxSutFileBytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > kMaxSutFileBytes) {
    r.error = path.string() + ": larger than " + std::to_string(kMaxSutFileBytes / 1024) + " KiB, not a SUT file";
    return r;
  }
  // Messages name the file as given; {{sut_dir}} must not depend on the harness's working folder.
  r = parse_sut(text, path);
  const fs::path absolute = fs::absolute(path, ec);
  if (r.sut && !ec) r.sut->dir = absolute.parent_path();
  return r;
}

}  // namespace rrkit::harness
