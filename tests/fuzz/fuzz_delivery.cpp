// Fuzz target: a Dapr delivery on the reply route (gateway/delivery.h), the body as daprd posts it.
// The input is the whole HTTP body. A parsed reply is then serialised the way rr-gateway answers
// the waiting client with it, since that is where a hostile reply would do its damage.
#include <nlohmann/json.hpp>

#include "gateway/delivery.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto result = rrkit::gateway::parse_delivery(rrkit::fuzz::as_text(data, size), "correlationId");
  if (result.delivery) {
    const nlohmann::json answer = {{"correlationId", result.delivery->id}, {"response", result.delivery->reply}};
    (void)answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  return 0;
}
