#pragma once
// Validation of a client's POST /api/send, as pure functions so that every rejection
// (and the fact that nothing is published for it) is unit-tested without sockets.
#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace rrkit::gateway {

// An HTTP error answer: status, a stable machine-readable code and a human message.
struct HttpError {
  int status = 400;
  std::string code;
  std::string message;

  nlohmann::json body() const { return {{"error", code}, {"message", message}}; }
};

// application/json (any parameters, any case) or a +json media type.
bool is_json_media_type(std::string_view content_type);

// Content type, size and JSON-object checks, in that order of precedence: 413 before 415 before 400
// (invalid_json, too_deep past rrkit::kMaxJsonDepth levels, not_an_object).
std::variant<nlohmann::json, HttpError> validate_send(std::string_view content_type, std::string_view body,
                                                      std::size_t max_body);

// The effective timeout for a request: the header (positive integer milliseconds) capped at
// max, or the default when absent. A malformed header is a 400, never silently ignored.
std::variant<std::chrono::milliseconds, HttpError> request_timeout(std::optional<std::string_view> header,
                                                                   std::chrono::milliseconds default_timeout,
                                                                   std::chrono::milliseconds max_timeout);

// The body that is published: the client's object with the id field set to the new id
// (any value the client put there is overwritten: ids are the gateway's to give).
nlohmann::json stamp_request(nlohmann::json request, const std::string& id_field, const std::string& id);

// validate_send and stamp_request in one step, to the text that is published: the same verdicts,
// and a body that parses to stamp_request's document. An object without the id field keeps the
// client's own bytes (its key order, whitespace and number spellings) with the id member put first:
// it is read by a validating scan that builds no document. Any other body (the client set the id
// field, or the scan refuses it) goes through the document, and its serialisation is published.
std::variant<std::string, HttpError> stamp_send(std::string_view content_type, std::string_view body,
                                                std::size_t max_body, const std::string& id_field,
                                                std::string_view id);

}  // namespace rrkit::gateway
