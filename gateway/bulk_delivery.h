#pragma once
// Parsing what daprd posts on the reply route when the reply subscription is a bulk one
// (bulkSubscribe in /dapr/subscribe): one envelope holding a batch of deliveries,
//   {"id":..,"type":..,"topic":..,"pubsubname":..,"metadata":{..},
//    "entries":[{"entryId":"0","event":<see below>,"contentType":"..","metadata":{..}}, ...]}
// where `event` is the base64 of the raw reply bytes (a rawPayload subscription, the gateway's)
// or the CloudEvent object (any other). The app answers {"statuses":[{"entryId":..,"status":..}]}
// with one status per entry; an entry left out is retried by daprd. Each entry obeys the rules of
// a single delivery (delivery.h). Pure functions: no I/O, no clocks.
#include <string>
#include <string_view>
#include <vector>

#include "gateway/delivery.h"

namespace rrkit::gateway {

struct BulkEntry {
  std::string entry_id;   // empty when the entry carried none: it cannot be answered
  DeliveryResult result;  // the entry's reply, or why it is malformed
};

struct BulkDelivery {
  std::vector<BulkEntry> entries;
  // Set when the body is no bulk envelope at all (not JSON, too deep, no entries array): then no
  // entry can be named in an answer.
  std::string error;
  bool ok() const { return error.empty(); }
};

BulkDelivery parse_bulk_delivery(std::string_view body, const std::string& id_field);

// Whether an entry's contentType can carry a JSON reply: none given, application/octet-stream (what
// daprd says of raw bytes from a producer that named none), application/json, text/json or any
// +json type, parameters ignored.
bool json_content_type(std::string_view content_type);

}  // namespace rrkit::gateway
