#include "gateway/send_request.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "common/json_limits.h"
#include "gateway/envelope_scan.h"

namespace rrkit::gateway {

namespace {

std::string lower_trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

}  // namespace

bool is_json_media_type(std::string_view content_type) {
  const auto semi = content_type.find(';');
  const std::string media = lower_trim(content_type.substr(0, semi));
  if (media == "application/json") return true;
  return media.size() > 5 && media.rfind("application/", 0) == 0 && media.compare(media.size() - 5, 5, "+json") == 0;
}

namespace {

// The checks that need no parsing, in their order of precedence: 413 before 415.
std::optional<HttpError> check_framing(std::string_view content_type, std::string_view body, std::size_t max_body) {
  if (body.size() > max_body) {
    return HttpError{413, "too_large", "body is " + std::to_string(body.size()) + " bytes, limit is " +
                                           std::to_string(max_body)};
  }
  if (!is_json_media_type(content_type)) {
    return HttpError{415, "unsupported_media_type",
                     "Content-Type must be application/json, got \"" + std::string(content_type) + "\""};
  }
  return std::nullopt;
}

std::variant<nlohmann::json, HttpError> parse_object(std::string_view body) {
  // Bounded: a deeply nested body would otherwise crash the process when it is dumped for publishing.
  auto parsed = rrkit::parse_bounded(body);
  if (parsed.errc == rrkit::JsonErrc::too_deep) {
    return HttpError{400, "too_deep",
                     "JSON nesting deeper than " + std::to_string(rrkit::kMaxJsonDepth) + " levels"};
  }
  if (!parsed.ok()) return HttpError{400, "invalid_json", "body is not valid JSON"};
  if (!parsed.value.is_object()) return HttpError{400, "not_an_object", "body must be a JSON object"};
  return std::move(parsed.value);
}

// body is an object (a scan accepted it): the id member is put right after its opening brace.
std::string splice_id(std::string_view body, const std::string& id_field, std::string_view id) {
  const std::size_t open = body.find('{') + 1;
  std::string out;
  out.reserve(body.size() + id_field.size() + id.size() + 8);
  out.append(body.substr(0, open));
  rrkit::append_json_string(out, id_field);
  out += ':';
  rrkit::append_json_string(out, id);
  const std::size_t next = body.find_first_not_of(" \t\r\n", open);
  if (body[next] != '}') out += ',';  // an empty object gets no comma
  out.append(body.substr(open));
  return out;
}

}  // namespace

std::variant<nlohmann::json, HttpError> validate_send(std::string_view content_type, std::string_view body,
                                                      std::size_t max_body) {
  if (auto e = check_framing(content_type, body, max_body)) return std::move(*e);
  return parse_object(body);
}

std::variant<std::string, HttpError> stamp_send(std::string_view content_type, std::string_view body,
                                                std::size_t max_body, const std::string& id_field,
                                                std::string_view id) {
  if (auto e = check_framing(content_type, body, max_body)) return std::move(*e);
  const std::string_view keys[] = {id_field};
  if (const auto scanned = scan_members(body, keys); scanned && scanned->object && !scanned->members[0]) {
    return splice_id(body, id_field, id);
  }
  auto parsed = parse_object(body);
  if (auto* e = std::get_if<HttpError>(&parsed)) return std::move(*e);
  return stamp_request(std::get<nlohmann::json>(std::move(parsed)), id_field, std::string(id)).dump();
}

std::variant<std::chrono::milliseconds, HttpError> request_timeout(std::optional<std::string_view> header,
                                                                   std::chrono::milliseconds default_timeout,
                                                                   std::chrono::milliseconds max_timeout) {
  if (!header) return std::min(default_timeout, max_timeout);
  long long value = 0;
  const auto* first = header->data();
  const auto* last = first + header->size();
  const auto [ptr, ec] = std::from_chars(first, last, value);
  if (ec != std::errc() || ptr != last || value <= 0) {
    return HttpError{400, "invalid_timeout",
                     "X-Request-Timeout-Ms must be a positive integer, got \"" + std::string(*header) + "\""};
  }
  return std::min(std::chrono::milliseconds(value), max_timeout);
}

nlohmann::json stamp_request(nlohmann::json request, const std::string& id_field, const std::string& id) {
  request[id_field] = id;
  return request;
}

}  // namespace rrkit::gateway
