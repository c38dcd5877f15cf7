// Fuzz target: a client's POST /api/send (gateway/send_request.h).
// Input: line 1 is the Content-Type header, line 2 the X-Request-Timeout-Ms header ("-" alone:
// header absent), the rest is the body. An accepted body is stamped with an id and serialised.
// The text rr-gateway publishes (stamp_send) must give validate_send's verdict and, when accepted,
// parse to stamp_request's document.
#include <chrono>
#include <optional>
#include <variant>

#include "gateway/send_request.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace std::chrono_literals;
  std::string_view text = rrkit::fuzz::as_text(data, size);
  const std::string_view content_type = rrkit::fuzz::take_line(text);
  const std::string_view timeout_line = rrkit::fuzz::take_line(text);
  const auto header = timeout_line == "-" ? std::nullopt : std::optional<std::string_view>(timeout_line);

  const auto timeout = rrkit::gateway::request_timeout(header, 5s, 60s);
  if (const auto* t = std::get_if<std::chrono::milliseconds>(&timeout); t && (*t <= 0ms || *t > 60s)) {
    __builtin_trap();  // the contract: positive and capped
  }
  const std::string field = "correlationId";
  const std::string id = "00000000-0000-4000-8000-000000000000";
  auto validated = rrkit::gateway::validate_send(content_type, text, 1 << 20);
  const auto published = rrkit::gateway::stamp_send(content_type, text, 1 << 20, field, id);
  if (auto* body = std::get_if<nlohmann::json>(&validated)) {
    const auto* published_text = std::get_if<std::string>(&published);
    if (published_text == nullptr) __builtin_trap();  // validate_send accepted what stamp_send refused
    auto stamped = rrkit::gateway::stamp_request(std::move(*body), field, id);
    (void)stamped.dump();
    if (nlohmann::json::parse(*published_text, nullptr, /*allow_exceptions=*/false) != stamped) __builtin_trap();
  } else {
    const auto* refused = std::get_if<rrkit::gateway::HttpError>(&published);
    const auto& expected = std::get<rrkit::gateway::HttpError>(validated);
    if (refused == nullptr || refused->status != expected.status || refused->code != expected.code) __builtin_trap();
    // rr-gateway writes error answers with bytes that are not UTF-8 (from the echoed Content-Type) replaced.
    (void)std::get<rrkit::gateway::HttpError>(validated).body().dump(-1, ' ', false,
                                                                     nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
