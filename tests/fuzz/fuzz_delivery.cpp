// Fuzz target: a Dapr delivery on the reply route (gateway/delivery.h, gateway/bulk_delivery.h), the
// body as daprd posts it. The input is the whole HTTP body, read both as a single delivery and as
// a bulk delivery (the form with --reply-bulk-subscribe). A parsed reply is then serialised the way
// rr-gateway answers the waiting client with it, since that is where a hostile reply would do its damage.
#include <nlohmann/json.hpp>

#include "gateway/bulk_delivery.h"
#include "gateway/delivery.h"
#include "tests/fuzz/fuzz_input.h"

namespace {
void answer(const rrkit::gateway::DeliveryResult& result) {
  if (!result.delivery) return;
  const nlohmann::json answer = {{"correlationId", result.delivery->id}, {"response", result.delivery->reply}};
  (void)answer.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = rrkit::fuzz::as_text(data, size);
  answer(rrkit::gateway::parse_delivery(text, "correlationId"));
  const auto batch = rrkit::gateway::parse_bulk_delivery(text, "correlationId");
  for (const auto& entry : batch.entries) answer(entry.result);
  return 0;
}
