#pragma once
// What a binary or a report was built from: rrkit's version, the git commit it was compiled at, and the
// pinned Kafka and daprd versions it is meant to run against. One struct for every program's --version
// and for the JSON and HTML reports, so a figure or a verdict can always be traced to its build.
#include <map>
#include <string>
#include <string_view>

namespace rrkit {

struct BuildInfo {
  std::string_view rrkit;   // project(VERSION) of the top CMakeLists
  std::string_view commit;  // `git describe --always --dirty` at build time; "unknown" outside git
  std::string_view kafka;   // stack/versions.env
  std::string_view daprd;   // stack/versions.env
};

const BuildInfo& build_info();

// The --version text of a program: "<program> <version> (commit <c>)" then the pinned stack versions.
std::string version_text(std::string_view program, const BuildInfo& info = build_info());

// The same facts as a flat map (rrkit, commit, kafka, daprd), the form the reports write.
std::map<std::string, std::string> version_map(const BuildInfo& info = build_info());

}  // namespace rrkit
