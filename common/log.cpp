#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>

namespace rrkit::log {

bool parse_level(std::string_view text, spdlog::level::level_enum& out) {
  static constexpr std::pair<std::string_view, spdlog::level::level_enum> kLevels[] = {
      {"trace", spdlog::level::trace}, {"debug", spdlog::level::debug}, {"info", spdlog::level::info},
      {"warn", spdlog::level::warn},   {"error", spdlog::level::err},   {"off", spdlog::level::off}};
  for (const auto& [name, lvl] : kLevels) {
    if (name == text) {
      out = lvl;
      return true;
    }
  }
  return false;
}

Logger make(const std::string& component, std::string_view level) {
  if (auto existing = spdlog::get(component)) return existing;
  auto logger = spdlog::stderr_logger_mt(component);
  // The message part (%v) is the tail of a JSON object produced by emit().
  logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","component":"%n",%v})",
                      spdlog::pattern_time_type::utc);
  spdlog::level::level_enum lvl = spdlog::level::info;
  parse_level(level, lvl);
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::info);
  return logger;
}

void emit(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view msg,
          const nlohmann::json& fields) {
  nlohmann::json line = nlohmann::json::object();
  line["msg"] = msg;
  if (fields.is_object()) {
    for (const auto& [k, v] : fields.items()) line[k] = v;
  }
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // Strip the braces: the pattern supplies them around ts/level/component.
  logger.log(level, "{}", std::string_view(text).substr(1, text.size() - 2));
}

}  // namespace rrkit::log
