#pragma once
// The legacy contract (the profile's `contract:` section): where a request carries its correlation id
// and its decision key, and how a reply looks, so that rr-simulator can answer a gateway built for
// another message format (e.g. a Dapr SDK gateway that publishes CloudEvents and binds replies to a DTO).
// Without the section nothing here applies and the simulator speaks its own format (common/reply.h).
//
// Pure functions, no state: parsing lives with the profile (profile.cpp), rendering is called by the
// engine on its own thread.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace rrkit::simulator {

// Where a value sits in a request: a JSON pointer into the (unwrapped) body, a Kafka header, or the key.
struct Locator {
  enum class Kind { pointer, header, key };
  Kind kind = Kind::pointer;
  std::string name;  // pointer: "/correlationId"; header: its name; key: empty
};

struct ReplyTemplate {
  // A JSON template: a string exactly equal to a placeholder becomes its value; a placeholder inside a
  // longer string is replaced by its text form.
  nlohmann::json body;
  std::string key = "{{id}}";                                // Kafka key (a text template)
  std::vector<std::pair<std::string, std::string>> headers;  // Kafka headers (text templates)
  std::string content_type;                                  // a "content-type" header; empty: none
};

struct Contract {
  std::optional<Locator> request_id;   // absent: the --id-from setting
  std::optional<std::string> request_key;  // a JSON pointer; absent: the --key-field setting
  std::optional<ReplyTemplate> reply;  // absent: today's reply (common/reply.h)
};

nlohmann::json to_json(const Contract& c);

// The placeholders a template may use, without braces: id, status, payload, payload_string, request,
// request_string.
bool is_placeholder(std::string_view name);
// The first "{{name}}" in text whose name is no placeholder; empty when there is none.
std::string unknown_placeholder(std::string_view text);

// A JSON pointer's syntax (RFC 6901): empty, or "/" tokens with ~0 and ~1 as the only escapes.
bool valid_pointer(std::string_view pointer);
// The value at pointer in doc; nullptr when absent. Never throws (a bad pointer finds nothing).
const nlohmann::json* find_pointer(const nlohmann::json& doc, std::string_view pointer);
// The last token of a pointer, unescaped ("/data/nonce" -> "nonce"): the name a logged field gets.
std::string pointer_leaf(std::string_view pointer);

// A CloudEvent envelope (an object with "specversion" and "data" or "data_base64") gives its data:
// data_base64 decoded, data given as a JSON string parsed (both: JSON of at most kMaxJsonDepth
// levels; text that is no JSON stays a string). Anything else is returned as it is. An undecodable
// data_base64 is an error (error set, null returned).
nlohmann::json unwrap_cloud_event(const nlohmann::json& body, std::string& error);

// What a reply's placeholders stand for.
struct ReplyValues {
  std::string id;           // the id the reply carries (another one under wrong_id)
  bool omit_id = false;     // missing_id: members whose template is exactly "{{id}}" are left out
  std::string status;       // "ok" | "error"
  nlohmann::json payload;   // {"echo": <request>, "digest": ...}
  nlohmann::json request;   // the unwrapped request
};

nlohmann::json render_body(const nlohmann::json& tmpl, const ReplyValues& v);
std::string render_text(const std::string& tmpl, const ReplyValues& v);

}  // namespace rrkit::simulator
