#pragma once
// `rr-harness diff RUN_A RUN_B`: what differs between two runs of a scenario, request by request
// (joined on the request index), and check by check. Decisions are keyed on each request's key
// (seed + index), so two runs with the same seed should show the same decisions; outcomes may
// differ where a fault is timing-dependent. The tool for hunting a flaky verdict.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rrkit::harness {

struct RunDiff {
  std::uint64_t requests_a = 0, requests_b = 0;  // requests in each history
  std::uint64_t compared = 0;                    // indexes present in both
  std::uint64_t decisions_differ = 0;            // indexes whose simulator decision differs (or exists in one run only)
  std::uint64_t outcomes_differ = 0;             // indexes whose outcome or classification differs
  std::uint64_t checks_differ = 0;               // checks whose verdict differs (or exist in one run only)
  std::vector<std::string> lines;                // one per difference, in index order, then the checks

  bool identical() const { return decisions_differ == 0 && outcomes_differ == 0 && checks_differ == 0; }
};

// Compares two run folders; nullopt with the reason when one cannot be read.
std::optional<RunDiff> diff_runs(const std::filesystem::path& a, const std::filesystem::path& b, std::string& error);

}  // namespace rrkit::harness
