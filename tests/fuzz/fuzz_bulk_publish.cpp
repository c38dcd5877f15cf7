// Fuzz target: daprd's answer to a bulk publish that failed (gateway/bulk_publish.h), the body as
// daprd sends it. The answer decides which waiting requests get an error, so what it names must be
// entries of the call and nothing else: the target aborts when more entries come back than the limit
// allows, when an answer that names entries also reports a problem, or when a named entry's id or error
// cannot be put into a JSON answer. The input also goes through the body builder as one entry's bytes:
// valid UTF-8 must come back from the built array unchanged; anything else must be refused, not altered.
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/json_limits.h"

#include "gateway/bulk_publish.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = rrkit::fuzz::as_text(data, size);

  constexpr std::size_t kLimit = 8;
  const auto failures = rrkit::gateway::parse_bulk_failures(text, kLimit);
  if (failures.failed.size() > kLimit) std::abort();
  if (failures.names_entries == failures.failed.empty()) std::abort();
  if (failures.names_entries != failures.problem.empty()) std::abort();
  for (const auto& f : failures.failed) {
    (void)rrkit::safe_dump(nlohmann::json{{"entryId", f.entry_id}, {"error", f.error}});
  }

  std::vector<rrkit::gateway::BulkPublishEntry> entries{{"0", std::string(text), {{"partitionKey", "k"}}}};
  if (rrkit::valid_utf8(text)) {
    const auto doc = nlohmann::json::parse(rrkit::gateway::bulk_publish_body(entries));
    if (!doc.is_array() || doc.size() != 1 || doc[0]["event"].get<std::string>() != text) std::abort();
  } else {
    try {
      (void)rrkit::gateway::bulk_publish_body(entries);
      std::abort();
    } catch (const nlohmann::json::type_error&) {
    }
  }
  return 0;
}
