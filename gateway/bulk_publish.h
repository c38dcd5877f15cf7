#pragma once
// daprd's bulk publish, as rr-gateway would spell it: the request target, the body that carries
// several requests in one call, and the reading of daprd's answer when some of them failed.
// Pure functions: no I/O. The publishing itself (batching queued requests onto one call) is the
// daprd client's.
//
// daprd 1.18's HTTP API: POST /v1.0-alpha1/publish/bulk/{pubsub}/{topic}, a JSON array of
// {entryId, event, contentType, metadata}. Each body goes as a JSON string with content type
// text/plain, which daprd passes on as the string's bytes; an application/json entry would be decoded
// into Go values and encoded again (keys reordered, numbers through float64), not the client's bytes.
// With metadata.rawPayload=true on the target, the Kafka message is those bytes, its key the entry's
// partitionKey, and each metadata pair a header, as with a single publish.
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "gateway/dapr_client.h"

namespace rrkit::gateway {

struct BulkPublishEntry {
  std::string entry_id;      // unique within one call (daprd refuses a call with a duplicate or empty id)
  std::string body;          // the request's bytes, published as they are
  PublishMetadata metadata;  // becomes the Kafka message's key (partitionKey) and headers
};

// /v1.0-alpha1/publish/bulk/{pubsub}/{topic}?metadata.rawPayload=true, every part percent-encoded.
std::string bulk_publish_target(const std::string& pubsub, const std::string& topic);

// The call's body: a JSON array with one object per entry, in order. A JSON string carries only
// UTF-8, so a body that is not (rr-gateway publishes only bodies it validated as JSON, which are)
// cannot go in a bulk call: nlohmann::json::type_error is thrown rather than a byte altered, and
// such a body is published on its own, where its bytes go as they are.
std::string bulk_publish_body(std::span<const BulkPublishEntry> entries);

// daprd's answer to a bulk publish that was not a 2xx: which entries failed, and why.
struct BulkFailures {
  struct Failed {
    std::string entry_id;
    std::string error;
  };
  std::vector<Failed> failed;  // entries daprd names as failed
  std::string error_code;      // daprd's errorCode, when given
  // False when the answer names no entry (not JSON, no failedEntries, or an error before publishing):
  // then every entry of the call is to be taken as failed.
  bool names_entries = false;
  std::string problem;  // why the answer could not be read, when it could not
};

// Reads daprd's answer body ({"failedEntries":[{"entryId":..,"error":..}],"errorCode":..}). Never
// throws: an answer that cannot be read gives names_entries == false and says why in `problem`.
BulkFailures parse_bulk_failures(std::string_view answer, std::size_t max_entries = 100000);

}  // namespace rrkit::gateway
