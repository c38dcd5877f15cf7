#pragma once
// The one wall clock of rrkit's records: the simulator's decision log and the harness's HTTP history
// are joined on it, so both must read the same clock the same way.
#include <chrono>
#include <cstdint>

namespace rrkit {

// Microseconds since the Unix epoch.
inline std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace rrkit
