#pragma once
// The pieces of launching a system under test that need no process: where the default SUT file is,
// what daprd's metadata says about the reply subscription, the tail of a log for an error message.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/sut.h"

namespace rrkit::harness {

// Where the default SUT file (rr-gateway's) may be, first match wins: sut/rr-gateway.yaml in the data
// folders of harness/data_dirs.h (an install's <prefix>/share/rrkit/, then bin_dir and each folder
// above it, so a clone's build/bin finds <clone>/sut/).
std::vector<std::filesystem::path> default_sut_candidates(const std::filesystem::path& bin_dir);

// The SUT a run uses: --sut FILE when given, else $RRKIT_SUT when set and not empty, else the first
// existing default candidate. `from` says which one it was (for messages and the repro line).
struct SutChoice {
  SutLoad load;
  std::filesystem::path path;
  std::string from;  // "--sut", "RRKIT_SUT", "default"
};
SutChoice choose_sut(const std::string& flag, const char* env_value, const std::filesystem::path& bin_dir);

// The folder of the running executable (where rr-gateway and rr-simulator are too).
std::filesystem::path self_bin_dir();

// `rr-harness sut check`: the loaded file and its instance 1 expanded with example ports, as text.
std::string describe_sut(const Sut& sut, const std::filesystem::path& bin_dir);

// A simulator profile with the SUT's contract section added (contract_yaml: the section's value).
// A profile that names its own contract keeps it; an empty contract leaves the profile as it is.
// nullopt with the reason in error when either text is not a YAML mapping.
std::optional<std::string> profile_with_contract(const std::string& profile_yaml, const std::string& contract_yaml,
                                                 std::string& error);

// True when daprd's GET /v1.0/metadata answer lists a subscription to topic.
bool metadata_has_subscription(std::string_view metadata_json, const std::string& topic);

// The last n lines of text (a trailing newline does not count as an empty last line).
std::string last_lines(std::string_view text, std::size_t n);
// The last n lines of a file, or "" when it cannot be read; reads only its end.
std::string log_tail(const std::filesystem::path& file, std::size_t n = 20);

}  // namespace rrkit::harness
