#include "simulator/decision_log.h"

#include <cerrno>
#include <cstring>

namespace rrkit::simulator {

DecisionLog::~DecisionLog() {
  if (file_) std::fclose(file_);
}

bool DecisionLog::open(const std::string& path, std::string& error) {
  if (path.empty()) return true;
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) {
    error = "cannot open decision log " + path + ": " + std::strerror(errno);
    return false;
  }
  return true;
}

void DecisionLog::write(const DecisionRecord& line) {
  if (!file_) return;
  std::string text = nlohmann::json(line).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  text += '\n';
  std::lock_guard lock(mutex_);
  std::fwrite(text.data(), 1, text.size(), file_);
  std::fflush(file_);
}

}  // namespace rrkit::simulator
