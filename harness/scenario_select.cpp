// Which scenario files a run takes, and in which order: the files and folders named on the command
// line, filtered by tag, with names unique within the run.
#include <algorithm>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "harness/scenario.h"

namespace rrkit::harness {

namespace fs = std::filesystem;

bool check_unique_names(const std::vector<Scenario>& scenarios, std::string& error) {
  std::map<std::string, std::string> first_file;
  error.clear();
  for (const auto& sc : scenarios) {
    const auto [it, fresh] = first_file.emplace(sc.name, sc.path);
    if (!fresh) {
      error += (error.empty() ? "" : "\n") + sc.path + ": name: \"" + sc.name + "\" is already the name of " + it->second +
               " (names must be unique within a run)";
    }
  }
  return error.empty();
}

bool has_any_tag(const Scenario& scenario, const std::vector<std::string>& tags) {
  if (tags.empty()) return true;
  return std::any_of(tags.begin(), tags.end(), [&](const std::string& t) {
    return std::find(scenario.tags.begin(), scenario.tags.end(), t) != scenario.tags.end();
  });
}

std::vector<fs::path> find_scenarios(const std::vector<std::string>& paths, std::string& error) {
  std::vector<fs::path> out;
  for (const auto& p : paths) {
    const fs::path path(p);
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) {
      out.push_back(path);
    } else if (fs::is_directory(path, ec)) {
      std::vector<fs::path> found;
      for (const auto& entry : fs::directory_iterator(path)) {
        const auto ext = entry.path().extension();
        if (entry.is_regular_file() && (ext == ".yaml" || ext == ".yml")) found.push_back(entry.path());
      }
      std::sort(found.begin(), found.end());
      out.insert(out.end(), found.begin(), found.end());
    } else {
      error = p + ": no such file or folder";
      return {};
    }
  }
  return out;
}

}  // namespace rrkit::harness
