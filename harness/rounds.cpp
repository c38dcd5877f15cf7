#include "harness/rounds.h"

#include <algorithm>
#include <numeric>

namespace rrkit::harness {

std::vector<std::uint64_t> round_indexes(std::uint64_t total, int rounds, int round,
                                         const std::vector<std::uint64_t>& only) {
  std::vector<std::uint64_t> out;
  if (rounds < 1 || round < 0 || round >= rounds) return out;
  const auto n = static_cast<std::uint64_t>(rounds);
  const auto k = static_cast<std::uint64_t>(round);
  // In this order, (k * total) / n cannot lose requests to rounding: the bounds meet exactly.
  const std::uint64_t begin = k * total / n, end = (k + 1) * total / n;
  if (only.empty()) {
    out.resize(end - begin);
    std::iota(out.begin(), out.end(), begin);
  } else {
    std::copy_if(only.begin(), only.end(), std::back_inserter(out),
                 [&](std::uint64_t i) { return i >= begin && i < end; });
  }
  return out;
}

}  // namespace rrkit::harness
