#pragma once
// Helpers shared by the launcher's source files (testkit/stack*.cpp); not part of its interface.
#include <filesystem>
#include <string>

namespace rrkit::stack::detail {

// Writes a whole file, creating its folder; throws std::runtime_error when it cannot.
void write_file(const std::filesystem::path& path, const std::string& content);

}  // namespace rrkit::stack::detail
