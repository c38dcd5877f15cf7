#pragma once
// Parsing what daprd delivers on the reply route. Three shapes are accepted:
//   1. a CloudEvent whose `data` is the reply object (or a JSON string holding it),
//   2. a CloudEvent whose `data_base64` holds the raw reply bytes (rawPayload subscriptions),
//   3. the plain reply object.
// Pure functions: no I/O, no clocks, so every shape and every kind of garbage is unit-tested.
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace rrkit::gateway {

struct Delivery {
  // The reply object as JSON text: the replier's own bytes when they arrive as such (a rawPayload
  // delivery, a bulk entry's base64 event), else the object serialised. Valid JSON, bounded in depth.
  std::string reply;
  std::string id;        // its correlation id (may be empty only for probes)
  bool probe = false;    // a readiness probe (ours or another instance's)
};

struct DeliveryResult {
  std::optional<Delivery> delivery;
  std::string error;  // why the delivery is malformed, when delivery is empty
};

DeliveryResult parse_delivery(std::string_view body, const std::string& id_field);

// The same rules for a delivery already parsed (bounded) as part of a larger body: a bulk
// delivery's entry whose event is a CloudEvent object or a plain reply.
DeliveryResult parse_delivery_value(nlohmann::json doc, const std::string& id_field);

// The raw bytes the replier sent (a rawPayload delivery once base64-decoded): a reply object.
DeliveryResult parse_raw_reply(std::string_view bytes, const std::string& id_field);


// Probe ids are "probe-<instance>-<uuid>"; this is the prefix of this instance's ones.
std::string probe_prefix(const std::string& instance_id);

}  // namespace rrkit::gateway
