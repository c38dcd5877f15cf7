#pragma once
// Where rr-harness finds rrkit's files (scenarios/, sut/, scripts/, examples/) when a path is not
// given or does not exist where it was given: one search order for an install and for a clone.
//
//   1. the path as given (absolute, or relative to the working directory);
//   2. an install's <prefix>/share/rrkit/<path> (the running binary is <prefix>/bin/rr-harness);
//   3. <path> in the binary's folder and each folder above it (a clone's build/bin finds <clone>/<path>).
//
// Flags and environment variables override it where a file has one (--sut and $RRKIT_SUT for the SUT
// file); the stack's Kafka jars and daprd are not rrkit files and come from the set-up cache
// ($RRKIT_CACHE, default ~/.cache/rrkit), see testkit/stack.h.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rrkit::harness {

// Steps 2 and 3 for a path relative to rrkit's top folder, in search order.
std::vector<std::filesystem::path> data_candidates(const std::filesystem::path& rel,
                                                   const std::filesystem::path& bin_dir);

// The first existing candidate of steps 2 and 3, or nullopt.
std::optional<std::filesystem::path> find_data_path(const std::filesystem::path& rel,
                                                    const std::filesystem::path& bin_dir);

// A path from the command line after all three steps: itself when it exists or is absolute, else the
// first existing data candidate, else itself (so the caller's "no such file" names what was typed).
std::filesystem::path resolve_data_path(const std::filesystem::path& given, const std::filesystem::path& bin_dir);

}  // namespace rrkit::harness
