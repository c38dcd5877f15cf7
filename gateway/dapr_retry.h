#pragma once
// When a failed exchange with daprd may be sent again. Pure, so the rule is unit-tested.
//
// A publish must reach Kafka at most once per client request. Once any byte of a request was
// written, daprd may have read it all and published before the connection died (a read that
// returns EOF says nothing about that), so only a request that was not written at all is
// retried, once, and only on a reused keep-alive connection (a fresh one failing says daprd
// is gone, not that a stale socket was picked).
#include <cstddef>

namespace rrkit::gateway {

struct ExchangeFailure {
  bool reused = false;            // the connection had served an earlier exchange
  std::size_t bytes_written = 0;  // bytes of this request handed to the socket before the failure
  bool timed_out = false;         // the deadline passed: no time left to retry
};

bool may_retry(const ExchangeFailure& failure, int attempt);

}  // namespace rrkit::gateway
