#include <catch2/catch.hpp>

#include "gateway/dapr_client.h"

namespace dapr_client_test {

using namespace rrkit::gateway;

TEST_CASE("dapr client: the publish target is Dapr's publish API with a raw payload") {
  CHECK(publish_target("rr-pubsub", "rr.requests", {}) == "/v1.0/publish/rr-pubsub/rr.requests?metadata.rawPayload=true");
  CHECK(publish_target("rr-pubsub", "rr.requests", {{"partitionKey", "id-1"}, {"correlationId", "id-1"}}) ==
        "/v1.0/publish/rr-pubsub/rr.requests?metadata.rawPayload=true&metadata.partitionKey=id-1"
        "&metadata.correlationId=id-1");
}

TEST_CASE("dapr client: every part of the publish target is percent-encoded") {
  // A topic or value with '/', '&' or '=' must not change which topic or metadata daprd sees.
  CHECK(publish_target("a b", "t/1", {{"replyTo", "x&y=z"}}) ==
        "/v1.0/publish/a%20b/t%2F1?metadata.rawPayload=true&metadata.replyTo=x%26y%3Dz");
}

}  // namespace dapr_client_test
