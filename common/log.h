#pragma once
// Structured logging: one JSON object per line on stderr (or a file), so that
// logs can be grepped by correlation id and parsed by the harness.
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace rrkit::log {

using Logger = std::shared_ptr<spdlog::logger>;

// Creates (or returns the existing) logger for a component. Lines look like
// {"ts":"2026-11-24T10:00:00.123456Z","level":"info","component":"gateway","msg":"...",<fields>}
Logger make(const std::string& component, std::string_view level = "info");

// Parses "trace|debug|info|warn|error|off"; returns false when unknown.
bool parse_level(std::string_view text, spdlog::level::level_enum& out);

void emit(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view msg,
          const nlohmann::json& fields = nlohmann::json::object());

inline void debug(const Logger& l, std::string_view msg, const nlohmann::json& f = nlohmann::json::object()) {
  if (l->should_log(spdlog::level::debug)) emit(*l, spdlog::level::debug, msg, f);
}
inline void info(const Logger& l, std::string_view msg, const nlohmann::json& f = nlohmann::json::object()) {
  if (l->should_log(spdlog::level::info)) emit(*l, spdlog::level::info, msg, f);
}
inline void warn(const Logger& l, std::string_view msg, const nlohmann::json& f = nlohmann::json::object()) {
  if (l->should_log(spdlog::level::warn)) emit(*l, spdlog::level::warn, msg, f);
}
inline void error(const Logger& l, std::string_view msg, const nlohmann::json& f = nlohmann::json::object()) {
  if (l->should_log(spdlog::level::err)) emit(*l, spdlog::level::err, msg, f);
}

}  // namespace rrkit::log
