#pragma once
// The decision log: one JSON line per decision, reply, stall, crash and profile
// change, for the harness's checker. Thread-safe; each line is flushed as it is
// written so that a crash (exit 70) or SIGKILL loses at most the line being written.
#include <cstdio>
#include <mutex>
#include <string>

#include "common/decision_record.h"

namespace rrkit::simulator {

class DecisionLog {
 public:
  DecisionLog() = default;
  DecisionLog(const DecisionLog&) = delete;
  DecisionLog& operator=(const DecisionLog&) = delete;
  ~DecisionLog();

  // Empty path: logging off. Appends to an existing file. False with a message on error.
  bool open(const std::string& path, std::string& error);
  void write(const DecisionRecord& line);
  bool enabled() const { return file_ != nullptr; }

 private:
  std::mutex mutex_;
  std::FILE* file_ = nullptr;
};

}  // namespace rrkit::simulator
