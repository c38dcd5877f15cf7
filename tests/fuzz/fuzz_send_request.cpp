// Fuzz target: a client's POST /api/send (gateway/send_request.h).
// Input: line 1 is the Content-Type header, line 2 the X-Request-Timeout-Ms header ("-" alone:
// header absent), the rest is the body. An accepted body is stamped with an id and serialised,
// as rr-gateway does before publishing it.
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
  auto validated = rrkit::gateway::validate_send(content_type, text, 1 << 20);
  if (auto* body = std::get_if<nlohmann::json>(&validated)) {
    (void)rrkit::gateway::stamp_request(std::move(*body), "correlationId", "00000000-0000-4000-8000-000000000000")
        .dump();
  } else {
    // rr-gateway writes error answers with bytes that are not UTF-8 (from the echoed Content-Type) replaced.
    (void)std::get<rrkit::gateway::HttpError>(validated).body().dump(-1, ' ', false,
                                                                     nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
