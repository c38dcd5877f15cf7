// Fuzz target: a Dapr delivery on the reply route (gateway/delivery.h, gateway/bulk_delivery.h), the
// body as daprd posts it. The input is the whole HTTP body, read both as a single delivery and as
// a bulk delivery (the form with --reply-bulk-subscribe). A parsed reply is then serialised the way
// rr-gateway answers the waiting client with it, since that is where a hostile reply would do its damage.
// A single delivery is read without building the envelope's other members; the target aborts when that
// reading and the reading of the whole document (parse_bounded, then parse_delivery_value) disagree.
#include <cstdlib>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "common/ids.h"
#include "common/json_limits.h"

#include "gateway/bulk_delivery.h"
#include "gateway/delivery.h"
#include "tests/fuzz/fuzz_input.h"

namespace {
// rr-gateway puts the reply's text into its answer as it came: the answer must be JSON, and no deeper
// than a parsed document may be, whatever the delivery was.
void answer(const rrkit::gateway::DeliveryResult& result) {
  if (!result.delivery) return;
  // The gateway looks the reply's id up as a CorrelationId (inline up to 36 characters, else on the heap):
  // whatever the id, the id and its copies keep its text whole.
  const rrkit::CorrelationId id(result.delivery->id);
  rrkit::CorrelationId copy(id);
  const rrkit::CorrelationId moved(std::move(copy));
  if (id.str() != result.delivery->id || !(moved == id) || id.hash() != std::hash<std::string_view>{}(id.str())) {
    std::abort();
  }
  const std::string body = R"({"correlationId":)" + nlohmann::json(result.delivery->id).dump() + R"(,"response":)" +
                           result.delivery->reply + "}";
  if (!rrkit::parse_bounded(body, rrkit::kMaxJsonDepth + 1).ok()) std::abort();
}

// The same value, read back (a number too large for a double is infinite in one and null in the other's
// serialisation, hence the comparison of what each serialises to).
bool same_reply(const std::string& a, const std::string& b) {
  return nlohmann::json::parse(a).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) ==
         nlohmann::json::parse(b).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void same_as_whole(std::string_view text, const rrkit::gateway::DeliveryResult& fast) {
  auto whole = rrkit::parse_bounded(text);
  if (whole.errc == rrkit::JsonErrc::invalid && fast.error != "delivery body is not valid JSON") std::abort();
  if (whole.errc == rrkit::JsonErrc::too_deep && fast.error.find("deeper") == std::string::npos) std::abort();
  if (!whole.ok()) return;
  const auto reference = rrkit::gateway::parse_delivery_value(std::move(whole.value), "correlationId");
  if (fast.error != reference.error || fast.delivery.has_value() != reference.delivery.has_value()) std::abort();
  if (fast.delivery && (fast.delivery->id != reference.delivery->id || fast.delivery->probe != reference.delivery->probe ||
                        !same_reply(fast.delivery->reply, reference.delivery->reply))) {
    std::abort();
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = rrkit::fuzz::as_text(data, size);
  const auto single = rrkit::gateway::parse_delivery(text, "correlationId");
  same_as_whole(text, single);
  answer(single);
  const auto batch = rrkit::gateway::parse_bulk_delivery(text, "correlationId");
  for (const auto& entry : batch.entries) answer(entry.result);
  return 0;
}
