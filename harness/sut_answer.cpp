// The pure functions over a loaded SUT: expanding an instance's start spec, rendering a request,
// reading an answer (correlation id, echoed nonce) and the SUT's metrics.
#include <algorithm>
#include <cctype>

#include "common/json_limits.h"
#include "harness/checker.h"
#include "harness/sut.h"

namespace rrkit::harness {

namespace fs = std::filesystem;
using nlohmann::json;

const char* to_string(AnswerErrc errc) {
  switch (errc) {
    case AnswerErrc::none: return "none";
    case AnswerErrc::not_configured: return "not_configured";
    case AnswerErrc::absent: return "absent";
    case AnswerErrc::not_json: return "not_json";
    case AnswerErrc::too_deep: return "too_deep";
    case AnswerErrc::wrong_type: return "wrong_type";
  }
  return "?";
}

std::string expand_placeholders(std::string_view text, const std::map<std::string, std::string>& vars) {
  std::string out;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const auto open = text.find("{{", pos);
    const auto close = open == std::string_view::npos ? open : text.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(text.substr(pos, open - pos));
    const auto it = vars.find(std::string(text.substr(open + 2, close - open - 2)));
    // A value is not expanded again: a port or a path holding "{{" stays as it is.
    out.append(it != vars.end() ? std::string_view(it->second) : text.substr(open, close + 2 - open));
    pos = close + 2;
  }
  out.append(text.substr(std::min(pos, text.size())));
  return out;
}

bool app_id_shared(const Sut& sut) { return sut.dapr.app_id.find("{{instance}}") == std::string::npos; }

SutInstance expand_instance(const Sut& sut, const SutInstanceVars& v, const std::vector<std::string>& scenario_args) {
  SutInstance out;
  out.app_port = sut.dapr.app_port == AppPortMode::same ? v.port : v.app_port;
  std::map<std::string, std::string> vars = {
      {"port", std::to_string(v.port)},
      {"app_port", std::to_string(out.app_port)},
      {"dapr_http_port", std::to_string(v.dapr_http_port)},
      {"dapr_grpc_port", std::to_string(v.dapr_grpc_port)},
      {"instance", std::to_string(v.instance)},
      {"timeout", v.timeout},
      {"timeout_ms", std::to_string(v.timeout_ms)},
      {"pubsub", v.pubsub},
      {"request_topic", v.request_topic},
      {"reply_topic", v.reply_topic},
      {"reply_mode", v.reply_mode},
      {"sut_dir", v.sut_dir.string()},
      {"bin_dir", v.bin_dir.string()},
      {"run_dir", v.run_dir.string()},
      {"app_api_token", v.app_api_token},
      {"name", sut.name},
  };
  // The app id goes first: argv and env may name it, its own template may not.
  out.app_id = expand_placeholders(sut.dapr.app_id, vars);
  vars["app_id"] = out.app_id;
  for (const auto& a : sut.start.argv) out.argv.push_back(expand_placeholders(a, vars));
  if (sut.start.scenario_args) out.argv.insert(out.argv.end(), scenario_args.begin(), scenario_args.end());
  for (const auto& [k, val] : sut.start.env) out.env.emplace_back(k, expand_placeholders(val, vars));
  const fs::path cwd = sut.start.cwd.empty() ? v.sut_dir : fs::path(expand_placeholders(sut.start.cwd, vars));
  out.cwd = cwd.is_absolute() || sut.start.cwd.empty() ? cwd : v.sut_dir / cwd;
  return out;
}

json render_request_body(const SutRequest& request, const json& scenario_body, const std::string& nonce,
                         std::uint64_t seq) {
  // The template came through parse_bounded (depth <= 128), so this recursion is bounded; the
  // scenario body is inserted whole, never walked.
  auto fill = [&](const json& node, const auto& self) -> json {
    if (node.is_string()) {
      const auto& s = node.get_ref<const std::string&>();
      if (s == "{{body}}") return scenario_body;
      if (s == "{{nonce}}") return nonce;
      if (s == "{{seq}}") return seq;
      return node;
    }
    if (node.is_object()) {
      json out = json::object();
      for (const auto& [k, item] : node.items()) out[k] = self(item, self);
      return out;
    }
    if (node.is_array()) {
      json out = json::array();
      for (const auto& item : node) out.push_back(self(item, self));
      return out;
    }
    return node;
  };
  return fill(request.body, fill);
}

namespace {

struct Found {
  AnswerErrc errc = AnswerErrc::none;
  json value;
};

// Follows an RFC 6901 pointer without exceptions. With descend_strings, a JSON string met where
// the pointer goes on is parsed and the walk continues inside it (a payload sent as a string).
Found follow(json doc, std::string_view pointer, bool descend_strings) {
  Found f;
  std::size_t pos = 1;  // pointers are validated to start with '/'
  while (pos <= pointer.size()) {
    auto end = pointer.find('/', pos);
    if (end == std::string_view::npos) end = pointer.size();
    std::string token;
    for (std::size_t i = pos; i < end; ++i) {
      if (pointer[i] == '~' && i + 1 < end) {
        token += pointer[i + 1] == '1' ? '/' : '~';
        ++i;
      } else {
        token += pointer[i];
      }
    }
    pos = end + 1;
    if (descend_strings && doc.is_string()) {
      auto inner = parse_bounded(doc.get_ref<const std::string&>());
      if (!inner.ok()) {
        f.errc = inner.errc == JsonErrc::too_deep ? AnswerErrc::too_deep : AnswerErrc::not_json;
        return f;
      }
      doc = std::move(inner.value);
    }
    json next;
    if (doc.is_object()) {
      const auto it = doc.find(token);
      if (it == doc.end()) {
        f.errc = AnswerErrc::absent;
        return f;
      }
      next = std::move(*it);
    } else if (doc.is_array()) {
      const bool index = !token.empty() && token.size() < 10 && (token == "0" || token[0] != '0') &&
                         std::all_of(token.begin(), token.end(), [](char c) { return c >= '0' && c <= '9'; });
      const std::size_t i = index ? std::stoul(token) : doc.size();
      if (i >= doc.size()) {
        f.errc = AnswerErrc::absent;
        return f;
      }
      next = std::move(doc[i]);
    } else {
      f.errc = AnswerErrc::absent;
      return f;
    }
    doc = std::move(next);
  }
  f.value = std::move(doc);
  return f;
}

Found parse_and_follow(std::string_view body, std::string_view pointer, bool descend_strings) {
  auto parsed = parse_bounded(body);
  if (!parsed.ok()) return {parsed.errc == JsonErrc::too_deep ? AnswerErrc::too_deep : AnswerErrc::not_json, {}};
  return follow(std::move(parsed.value), pointer, descend_strings);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

bool token_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// Calls visit on every maximal run of token characters. A JSON escape (\n, \", \u00e9) separates
// runs, so an escaped newline before a nonce does not glue an 'n' onto it.
template <class Visit>
void for_each_token(std::string_view text, Visit visit) {
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '\\') {
      i += i + 1 < text.size() && text[i + 1] == 'u' ? 6 : 2;
      continue;
    }
    if (!token_char(text[i])) {
      ++i;
      continue;
    }
    const std::size_t start = i;
    while (i < text.size() && token_char(text[i])) ++i;
    visit(text.substr(start, i - start));
  }
}

// Own-nonce search for a nonce that is not made of token characters alone: a match counts when
// no token character touches it on either side.
bool contains_bounded(std::string_view text, std::string_view needle) {
  if (needle.empty()) return false;
  for (auto pos = text.find(needle); pos != std::string_view::npos; pos = text.find(needle, pos + 1)) {
    const bool left = pos == 0 || !token_char(text[pos - 1]);
    const bool right = pos + needle.size() == text.size() || !token_char(text[pos + needle.size()]);
    if (left && right) return true;
  }
  return false;
}

}  // namespace

IdRead correlation_id_of(const SutAnswer& answer, const EnvList& headers, std::string_view body) {
  IdRead r;
  switch (answer.correlation_id) {
    case IdSource::none:
      r.errc = AnswerErrc::not_configured;
      return r;
    case IdSource::header: {
      const auto it = std::find_if(headers.begin(), headers.end(),
                                   [&](const auto& h) { return iequals(h.first, answer.correlation_id_at); });
      if (it == headers.end() || it->second.empty()) {
        r.errc = AnswerErrc::absent;
      } else {
        r.id = it->second;
      }
      return r;
    }
    case IdSource::json: {
      const auto f = parse_and_follow(body, answer.correlation_id_at, false);
      if (f.errc != AnswerErrc::none) {
        r.errc = f.errc;
      } else if (f.value.is_string() && !f.value.get_ref<const std::string&>().empty()) {
        r.id = f.value.get<std::string>();
      } else if (f.value.is_number_integer()) {
        r.id = f.value.dump();
      } else {
        r.errc = AnswerErrc::wrong_type;
      }
      return r;
    }
  }
  return r;
}

EchoCheck echo_nonce_check(const SutAnswer& answer, std::string_view body, std::string_view own_nonce,
                           const NonceLookup& is_run_nonce) {
  EchoCheck c;
  auto other = [&](std::string_view nonce) {
    if (nonce == own_nonce || !is_run_nonce || !is_run_nonce(nonce)) return;
    if (std::find(c.others.begin(), c.others.end(), nonce) == c.others.end()) c.others.emplace_back(nonce);
  };
  if (answer.echo == EchoMode::body) {
    for_each_token(body, [&](std::string_view token) {
      if (token == own_nonce) c.own = true;
      other(token);
    });
    if (!c.own && !std::all_of(own_nonce.begin(), own_nonce.end(), token_char)) c.own = contains_bounded(body, own_nonce);
    return c;
  }
  auto f = parse_and_follow(body, answer.echo_pointer, true);
  if (f.errc == AnswerErrc::none && f.value.is_string()) {
    // The echoed request itself may be a JSON string (a DTO's string payload).
    auto inner = parse_bounded(f.value.get_ref<const std::string&>());
    if (!inner.ok()) f.errc = inner.errc == JsonErrc::too_deep ? AnswerErrc::too_deep : AnswerErrc::not_json;
    f.value = std::move(inner.value);
  }
  if (f.errc != AnswerErrc::none) {
    c.errc = f.errc;
    return c;
  }
  if (!f.value.is_object() || !f.value.contains("nonce")) {
    c.errc = f.value.is_object() ? AnswerErrc::absent : AnswerErrc::wrong_type;
    return c;
  }
  const auto& nonce = f.value["nonce"];
  if (!nonce.is_string()) {
    c.errc = AnswerErrc::wrong_type;
    return c;
  }
  c.echoed = nonce.get<std::string>();
  c.own = c.echoed == own_nonce;
  other(c.echoed);
  return c;
}

std::optional<json> echoed_request_of(const SutAnswer& answer, std::string_view body) {
  if (answer.echo != EchoMode::pointer) return std::nullopt;
  auto f = parse_and_follow(body, answer.echo_pointer, true);
  if (f.errc != AnswerErrc::none) return std::nullopt;
  if (f.value.is_string()) {
    auto inner = parse_bounded(f.value.get_ref<const std::string&>());
    if (!inner.ok()) return std::nullopt;
    f.value = std::move(inner.value);
  }
  return f.value;
}

std::optional<json> simulator_payload_of(const SutAnswer& answer, std::string_view body) {
  if (answer.echo != EchoMode::pointer) return std::nullopt;
  auto parsed = parse_bounded(body);
  if (!parsed.ok()) return std::nullopt;
  std::optional<json> found;
  // Every proper prefix of the echo pointer, the root included: the payload sits above the echo.
  const std::string_view pointer = answer.echo_pointer;
  for (std::size_t end = 0; end < pointer.size(); end = pointer.find('/', end + 1)) {
    auto f = follow(parsed.value, pointer.substr(0, end), true);
    if (f.errc != AnswerErrc::none) break;
    if (f.value.is_string()) {
      auto inner = parse_bounded(f.value.get_ref<const std::string&>());
      if (!inner.ok()) break;
      f.value = std::move(inner.value);
    }
    if (f.value.is_object() && f.value.contains("echo") && f.value.contains("digest")) found = std::move(f.value);
  }
  return found;
}

std::optional<double> read_series(const SutSeries& series, const std::string& exposition) {
  return metric_sample(exposition, series.name, series.label, series.value);
}

std::map<std::string, std::optional<double>> read_metrics(const SutMetrics& metrics, const std::string& exposition) {
  std::map<std::string, std::optional<double>> out;
  for (const auto& [key, series] : metrics.series) out[key] = read_series(series, exposition);
  return out;
}

}  // namespace rrkit::harness
