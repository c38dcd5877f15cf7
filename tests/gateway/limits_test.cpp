#include <catch2/catch.hpp>

#include <cstdint>

#include "gateway/dapr_retry.h"
#include "gateway/limits.h"

namespace limits_test {

using namespace rrkit::gateway;
using namespace std::chrono_literals;

TEST_CASE("limits: each route has its own body limit") {
  CHECK(route_of("/api/send", kClient) == Route::send);
  CHECK(route_of("/api/send?x=1", kClient | kCallback) == Route::send);
  CHECK(route_of("/api/send", kCallback) == Route::other);  // not served on the callback listener
  CHECK(route_of("/dapr/replies", kCallback) == Route::reply);
  CHECK(route_of("/dapr/replies", kClient) == Route::other);
  CHECK(route_of("/healthz", kClient | kCallback) == Route::other);
  CHECK(body_limit(Route::send, 1000, 5000) == 1000);
  CHECK(body_limit(Route::reply, 1000, 5000) == 5000);
  CHECK(body_limit(Route::other, 1000, 5000) == kOtherBodyLimit);
  // The reply limit no longer derives from --max-body, so a huge --max-body cannot overflow it.
  CHECK(body_limit(Route::reply, SIZE_MAX, 4u << 20) == (4u << 20));
  CHECK(body_limit(Route::send, SIZE_MAX, 4u << 20) == SIZE_MAX);
}

TEST_CASE("limits: connection caps keep descriptors for callbacks and the daprd pool") {
  // Plenty of descriptors: the wanted caps.
  auto caps = connection_caps(100000, 16000, 1000, 64, false);
  CHECK(caps.client == 16000);
  CHECK(caps.callback == 1000);
  CHECK_FALSE(caps.reduced);
  // This machine's 20,000: both caps plus the pool plus the reserve fit.
  caps = connection_caps(20000, 16000, 1000, 64, false);
  CHECK(caps.client + caps.callback + 64 + kReservedDescriptors <= 20000);
  // Too few descriptors: the client cap gives way first, callbacks and the pool keep theirs.
  caps = connection_caps(2000, 16000, 1000, 64, false);
  CHECK(caps.reduced);
  CHECK(caps.callback == 1000);
  CHECK(caps.client == 2000 - 1000 - 64 - kReservedDescriptors);
  // A shared listener gets one cap for both roles.
  caps = connection_caps(100000, 16000, 1000, 64, true);
  CHECK(caps.client == 17000);
  CHECK(caps.callback == 0);
  caps = connection_caps(1024, 16000, 1000, 64, true);
  CHECK(caps.client == 1024 - 64 - kReservedDescriptors);
  // Absurdly low limits and huge wishes neither underflow nor overflow.
  caps = connection_caps(10, SIZE_MAX, SIZE_MAX, 4096, false);
  CHECK(caps.client == 1);
  CHECK(caps.callback == 1);
  CHECK(connection_caps(SIZE_MAX, SIZE_MAX, SIZE_MAX, 64, true).client > 0);
}

TEST_CASE("limits: Keep-Alive promises whole seconds, rounded down") {
  CHECK(keep_alive_value(120s) == "timeout=120");
  CHECK(keep_alive_value(1500ms) == "timeout=1");
  CHECK(keep_alive_value(500ms) == "timeout=0");
}

TEST_CASE("dapr retry: only a request that was not written at all is sent again") {
  // A reused connection that daprd had closed: nothing written, retry once.
  CHECK(may_retry({true, 0, false}, 0));
  CHECK_FALSE(may_retry({true, 0, false}, 1));
  // The request was written (fully or in part) and the read got EOF: daprd may have published.
  CHECK_FALSE(may_retry({true, 250, false}, 0));
  CHECK_FALSE(may_retry({true, 1, false}, 0));
  // A fresh connection failing means daprd is not there; the deadline leaves no time.
  CHECK_FALSE(may_retry({false, 0, false}, 0));
  CHECK_FALSE(may_retry({true, 0, true}, 0));
}

}  // namespace limits_test
