#include "gateway/dapr_retry.h"

namespace rrkit::gateway {

bool may_retry(const ExchangeFailure& failure, int attempt) {
  return attempt == 0 && failure.reused && failure.bytes_written == 0 && !failure.timed_out;
}

}  // namespace rrkit::gateway
