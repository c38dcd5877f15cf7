#include "harness/data_dirs.h"

namespace rrkit::harness {

namespace fs = std::filesystem;

std::vector<fs::path> data_candidates(const fs::path& rel, const fs::path& bin_dir) {
  std::vector<fs::path> out;
  if (bin_dir.has_parent_path()) out.push_back(bin_dir.parent_path() / "share" / "rrkit" / rel);
  fs::path dir = bin_dir;
  // Deep enough for build/bin and a build folder nested one level more; never the whole disk.
  for (int depth = 0; depth < 8 && !dir.empty(); ++depth) {
    out.push_back(dir / rel);
    if (dir == dir.parent_path()) break;
    dir = dir.parent_path();
  }
  return out;
}

std::optional<fs::path> find_data_path(const fs::path& rel, const fs::path& bin_dir) {
  std::error_code ec;
  for (const auto& p : data_candidates(rel, bin_dir)) {
    if (fs::exists(p, ec)) return p;
  }
  return std::nullopt;
}

fs::path resolve_data_path(const fs::path& given, const fs::path& bin_dir) {
  std::error_code ec;
  if (given.is_absolute() || fs::exists(given, ec)) return given;
  if (auto found = find_data_path(given.lexically_normal(), bin_dir)) return *found;
  return given;
}

}  // namespace rrkit::harness
