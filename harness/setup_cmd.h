#pragma once
// `rr-harness setup`: fetches the stack rr-harness runs on (the Kafka broker's jars with Maven, daprd
// built with Go) into the set-up cache by running the same scripts/setup.sh a clone runs, found through
// harness/data_dirs.h (an install ships it in <prefix>/share/rrkit/scripts/).
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace rrkit::harness {

struct SetupOptions {
  std::string cache;      // RRKIT_CACHE for the script (empty: inherit, default ~/.cache/rrkit)
  bool packages = false;  // also install the Debian packages a clone's build needs (the script's full run)
};

// The script's argv: bash <script> [--stack-only].
std::vector<std::string> setup_argv(const std::filesystem::path& script, const SetupOptions& options);

// Runs the script in the foreground (its progress on this terminal) and returns its exit code;
// 2 when the script is not found or cannot be started, with the reason on err.
int run_setup(const SetupOptions& options, const std::filesystem::path& bin_dir, std::string& err);

}  // namespace rrkit::harness
