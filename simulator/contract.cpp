#include "simulator/contract.h"

#include <array>

#include "common/base64.h"
#include "common/json_limits.h"
#include "simulator/profile_yaml.h"

namespace rrkit::simulator {

namespace {

using Json = nlohmann::json;

constexpr std::array<std::string_view, 6> kPlaceholders{"id", "status", "payload", "payload_string", "request",
                                                        "request_string"};

// A template deeper than this is a mistake, and the renderer recurses once per level.
constexpr int kMaxTemplateDepth = 32;

// Calls f(begin, end, name) for every "{{name}}" in text, in order.
template <typename F>
void for_each_placeholder(std::string_view text, F&& f) {
  std::size_t pos = 0;
  while ((pos = text.find("{{", pos)) != std::string_view::npos) {
    const auto close = text.find("}}", pos + 2);
    if (close == std::string_view::npos) return;
    f(pos, close + 2, text.substr(pos + 2, close - pos - 2));
    pos = close + 2;
  }
}

std::string text_of(std::string_view name, const ReplyValues& v) {
  if (name == "id") return v.id;
  if (name == "status") return v.status;
  if (name == "payload" || name == "payload_string") return safe_dump(v.payload);
  if (name == "request" || name == "request_string") return safe_dump(v.request);
  return "{{" + std::string(name) + "}}";
}

std::string unescape_token(std::string_view token) {
  std::string out;
  for (std::size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size()) {
      out += token[i + 1] == '1' ? '/' : '~';
      ++i;
    } else {
      out += token[i];
    }
  }
  return out;
}

}  // namespace

bool is_placeholder(std::string_view name) {
  for (const auto p : kPlaceholders) {
    if (p == name) return true;
  }
  return false;
}

std::string unknown_placeholder(std::string_view text) {
  std::string unknown;
  for_each_placeholder(text, [&](std::size_t, std::size_t, std::string_view name) {
    if (unknown.empty() && !is_placeholder(name)) unknown = "{{" + std::string(name) + "}}";
  });
  return unknown;
}

bool valid_pointer(std::string_view pointer) {
  if (pointer.empty()) return true;
  if (pointer.front() != '/') return false;
  for (std::size_t i = 0; i < pointer.size(); ++i) {
    if (pointer[i] == '~' && (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1'))) return false;
  }
  return true;
}

const nlohmann::json* find_pointer(const nlohmann::json& doc, std::string_view pointer) {
  if (!valid_pointer(pointer)) return nullptr;
  const Json* at = &doc;
  std::size_t pos = 0;
  while (pos < pointer.size()) {
    const auto next = pointer.find('/', pos + 1);
    const std::string token =
        unescape_token(pointer.substr(pos + 1, next == std::string_view::npos ? std::string_view::npos : next - pos - 1));
    if (at->is_object()) {
      const auto it = at->find(token);
      if (it == at->end()) return nullptr;
      at = &*it;
    } else if (at->is_array()) {
      if (token.empty() || token.size() > 9 || (token.size() > 1 && token.front() == '0') ||
          token.find_first_not_of("0123456789") != std::string::npos) {
        return nullptr;
      }
      const auto index = std::stoul(token);
      if (index >= at->size()) return nullptr;
      at = &(*at)[index];
    } else {
      return nullptr;
    }
    if (next == std::string_view::npos) break;
    pos = next;
  }
  return at;
}

std::string pointer_leaf(std::string_view pointer) {
  const auto slash = pointer.rfind('/');
  return unescape_token(slash == std::string_view::npos ? pointer : pointer.substr(slash + 1));
}

nlohmann::json unwrap_cloud_event(const nlohmann::json& body, std::string& error) {
  if (!body.is_object() || !body.contains("specversion")) return body;
  const auto parsed_or_text = [&](const std::string& text, const char* what) -> Json {
    auto parsed = parse_bounded(text);
    if (parsed.ok()) return std::move(parsed.value);
    if (parsed.errc == JsonErrc::too_deep) {
      error = std::string("CloudEvent ") + what + " nests deeper than " + std::to_string(kMaxJsonDepth) + " levels";
      return nullptr;
    }
    if (!valid_utf8(text)) {
      error = std::string("CloudEvent ") + what + " is neither JSON nor UTF-8 text";
      return nullptr;
    }
    return text;
  };
  if (const auto b64 = body.find("data_base64"); b64 != body.end()) {
    const auto decoded = b64->is_string() ? base64_decode(b64->get_ref<const std::string&>()) : std::nullopt;
    if (!decoded) {
      error = "CloudEvent data_base64 is not base64";
      return nullptr;
    }
    return parsed_or_text(*decoded, "data_base64");
  }
  if (const auto data = body.find("data"); data != body.end()) {
    if (data->is_string()) return parsed_or_text(data->get_ref<const std::string&>(), "data");
    return *data;
  }
  return body;
}

nlohmann::json render_body(const nlohmann::json& tmpl, const ReplyValues& v) {
  if (tmpl.is_object()) {
    Json out = Json::object();
    for (const auto& [k, sub] : tmpl.items()) {
      if (v.omit_id && sub.is_string() && sub.get_ref<const std::string&>() == "{{id}}") continue;
      out[k] = render_body(sub, v);
    }
    return out;
  }
  if (tmpl.is_array()) {
    Json out = Json::array();
    for (const auto& sub : tmpl) out.push_back(render_body(sub, v));
    return out;
  }
  if (!tmpl.is_string()) return tmpl;
  const auto& s = tmpl.get_ref<const std::string&>();
  if (s == "{{id}}") return v.omit_id ? Json(nullptr) : Json(v.id);
  if (s == "{{status}}") return v.status;
  if (s == "{{payload}}") return v.payload;
  if (s == "{{request}}") return v.request;
  if (s == "{{payload_string}}" || s == "{{request_string}}") return render_text(s, v);
  return render_text(s, v);
}

std::string render_text(const std::string& tmpl, const ReplyValues& v) {
  std::string out;
  std::size_t copied = 0;
  for_each_placeholder(tmpl, [&](std::size_t begin, std::size_t end, std::string_view name) {
    out.append(tmpl, copied, begin - copied);
    out += text_of(name, v);
    copied = end;
  });
  out.append(tmpl, copied, std::string::npos);
  return out;
}

nlohmann::json to_json(const Contract& c) {
  Json j = Json::object();
  if (c.request_id) {
    switch (c.request_id->kind) {
      case Locator::Kind::pointer: j["request_id"] = c.request_id->name; break;
      case Locator::Kind::header: j["request_id"] = {{"header", c.request_id->name}}; break;
      case Locator::Kind::key: j["request_id"] = {{"key", true}}; break;
    }
  }
  if (c.request_key) j["request_key"] = *c.request_key;
  if (c.reply) {
    Json r{{"body", c.reply->body}, {"key", c.reply->key}, {"headers", Json::object()}};
    for (const auto& [name, value] : c.reply->headers) r["headers"][name] = value;
    if (!c.reply->content_type.empty()) r["content_type"] = c.reply->content_type;
    j["reply"] = std::move(r);
  }
  return j;
}

// ---- the YAML section ---------------------------------------------------------------------------
namespace profile_yaml {

namespace {

// Replies are serialised strictly (a byte that is not UTF-8 would make the reply another text), so
// every piece of a template must be text.
std::string text(const YAML::Node& n, const std::string& key) {
  std::string s = scalar(n, key);
  if (!valid_utf8(s)) fail(n, key, "not UTF-8 text");
  return s;
}

std::string template_text(const YAML::Node& n, const std::string& key) {
  std::string s = text(n, key);
  if (const auto bad = unknown_placeholder(s); !bad.empty()) {
    fail(n, key, "unknown placeholder " + bad + " (known: {{id}}, {{status}}, {{payload}}, {{payload_string}}, "
                 "{{request}}, {{request_string}})");
  }
  return s;
}

std::string pointer(const YAML::Node& n, const std::string& key) {
  std::string s = scalar(n, key);
  if (s.empty() || !valid_pointer(s)) fail(n, key, "expected a JSON pointer such as /correlationId or /data/id, got '" + s + "'");
  return s;
}

// YAML to JSON for the body template: a quoted scalar is a string; a plain one is null, a boolean or
// a number when it reads as one.
Json template_json(const YAML::Node& n, const std::string& key, int depth) {
  if (depth > kMaxTemplateDepth) fail(n, key, "the template nests deeper than " + std::to_string(kMaxTemplateDepth) + " levels");
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      Json out = Json::object();
      for (auto it = n.begin(); it != n.end(); ++it) {
        const std::string k = text(it->first, key);
        out[k] = template_json(it->second, join(key, k), depth + 1);
      }
      return out;
    }
    case YAML::NodeType::Sequence: {
      Json out = Json::array();
      for (std::size_t i = 0; i < n.size(); ++i) out.push_back(template_json(n[i], join(key, std::to_string(i)), depth + 1));
      return out;
    }
    case YAML::NodeType::Scalar: {
      if (n.Tag() != "!") {
        const std::string& s = n.Scalar();
        if (s == "null" || s == "~") return nullptr;
        bool b = false;
        if (YAML::convert<bool>::decode(n, b) && (s == "true" || s == "false")) return b;
        auto parsed = parse_bounded(s);
        if (parsed.ok() && parsed.value.is_number()) return parsed.value;
      }
      return template_text(n, key);
    }
    case YAML::NodeType::Null: return nullptr;
    case YAML::NodeType::Undefined: break;
  }
  fail(n, key, "expected a JSON template");
}

}  // namespace

Contract contract(const YAML::Node& n, const std::string& key) {
  check_keys(n, key, {"request_id", "request_key", "reply"});
  Contract c;
  if (const auto id = n["request_id"]; id && !id.IsNull()) {
    const std::string k = join(key, "request_id");
    Locator l;
    if (id.IsScalar()) {
      l.kind = Locator::Kind::pointer;
      l.name = pointer(id, k);
    } else {
      check_keys(id, k, {"header", "key"});
      if (id["header"] && id["key"]) fail(id, k, "give one of 'header' and 'key'");
      if (id["header"]) {
        l.kind = Locator::Kind::header;
        l.name = scalar(id["header"], join(k, "header"));
        if (l.name.empty()) fail(id["header"], join(k, "header"), "a header name cannot be empty");
      } else if (id["key"]) {
        if (!boolean(id["key"], join(k, "key"))) fail(id["key"], join(k, "key"), "only 'key: true' is meaningful");
        l.kind = Locator::Kind::key;
      } else {
        fail(id, k, "expected a JSON pointer, {header: NAME} or {key: true}");
      }
    }
    c.request_id = l;
  }
  if (const auto rk = n["request_key"]; rk && !rk.IsNull()) c.request_key = pointer(rk, join(key, "request_key"));
  if (const auto reply = n["reply"]; reply && !reply.IsNull()) {
    const std::string k = join(key, "reply");
    check_keys(reply, k, {"body", "key", "headers", "content_type"});
    ReplyTemplate t;
    if (!reply["body"]) fail(reply, k, "a reply template needs a 'body'");
    t.body = template_json(reply["body"], join(k, "body"), 0);
    if (reply["key"]) t.key = template_text(reply["key"], join(k, "key"));
    if (const auto hs = reply["headers"]; hs && !hs.IsNull()) {
      if (!hs.IsMap()) fail(hs, join(k, "headers"), "expected a mapping of header name to template");
      for (auto it = hs.begin(); it != hs.end(); ++it) {
        const std::string name = text(it->first, join(k, "headers"));
        t.headers.emplace_back(name, template_text(it->second, join(join(k, "headers"), name)));
      }
    }
    if (reply["content_type"]) t.content_type = text(reply["content_type"], join(k, "content_type"));
    c.reply = std::move(t);
  }
  return c;
}

}  // namespace profile_yaml

}  // namespace rrkit::simulator
