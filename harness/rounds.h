#pragma once
// traffic.rounds: a scenario's requests driven in N consecutive equal rounds, each followed by the settle
// wait and a memory sample (memory_returns judges the trend over the rounds). Request indexes continue
// across rounds, so every nonce stays unique and a seed reproduces the same faults on the same requests.
#include <cstdint>
#include <vector>

namespace rrkit::harness {

// The request indexes of round `round` (0-based) of `rounds` over `total` requests: the k-th round gets
// [k*total/rounds, (k+1)*total/rounds). With `only` not empty, just those of its indexes in that range.
std::vector<std::uint64_t> round_indexes(std::uint64_t total, int rounds, int round,
                                         const std::vector<std::uint64_t>& only = {});

}  // namespace rrkit::harness
