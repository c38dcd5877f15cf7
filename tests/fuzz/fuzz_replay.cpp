// Fuzz target: `rr-harness replay RUN_DIR` (harness/runner.h replay_run), which reads a stored run
// folder: run.json, scenario.yaml, history.jsonl (the HTTP history), decisions.jsonl (the
// simulator's decision log) and metrics-gw-N[.baseline].txt, then runs the checker on them.
// Input: a line "%% NAME" starts the file NAME (one of those above); text before the first such
// line is history.jsonl. Missing files get a harmless default (a minimal scenario, a complete run.json for
// one gateway, an empty metrics file, an empty decision log so that run.json's "decisions" path is never
// followed out of the folder). A "%% history.jsonl.gz" or "%% decisions.jsonl.gz" section replaces the plain
// file by those bytes (a compressed run folder: harness/jsonl_file.h reads the .gz when the plain file is absent).
#include <array>
#include <fstream>
#include <map>
#include <stdexcept>

#include "harness/runner.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const rrkit::fuzz::ScratchDir dir;
  static const std::array<std::string, 9> names = {"run.json",         "scenario.yaml",      "history.jsonl",
                                                   "decisions.jsonl",  "history.jsonl.gz",   "decisions.jsonl.gz",
                                                   "metrics-gw-1.txt", "metrics-gw-1.baseline.txt", "metrics-gw-2.txt"};
  std::map<std::string, std::string> files = {
      {"run.json", R"({"gateways":1,"decisions":"","metrics_errors":[""],"baseline_errors":[],"pending":0})"},
      {"scenario.yaml", "name: fuzz\n"},
      {"history.jsonl", ""},
      {"decisions.jsonl", ""},
      {"metrics-gw-1.txt", ""}};
  std::string_view text = rrkit::fuzz::as_text(data, size);
  std::string current = "history.jsonl";
  files[current].clear();
  while (!text.empty()) {
    const std::string_view line = rrkit::fuzz::take_line(text);
    if (line.rfind("%% ", 0) == 0) {
      current = std::string(line.substr(3));
      files[current].clear();
      continue;
    }
    files[current].append(line).push_back('\n');
  }
  for (const char* plain : {"history.jsonl", "decisions.jsonl"}) {
    if (files.count(std::string(plain) + ".gz") != 0) files.erase(plain);
  }
  for (const auto& name : names) {
    std::error_code ec;
    std::filesystem::remove(dir.path() / name, ec);
    if (const auto it = files.find(name); it != files.end()) {
      std::ofstream(dir.path() / name, std::ios::binary) << it->second;
    }
  }
  std::string error;
  try {
    (void)rrkit::harness::replay_run(dir.path(), error);
  } catch (const std::exception&) {
    // rr-harness's main turns an exception into "rr-harness: <what>" and exit status 2, so a run
    // folder of the wrong shape is an error message there, not a crash; crashes, leaks and UB are
    // what this target looks for.
  }
  return 0;
}
