// The --json report: the result model's JSON form (harness/result_json.cpp) laid out for people and diff tools.
#include <string>

#include <nlohmann/json.hpp>

#include "harness/report.h"
#include "harness/report/text.h"

namespace rrkit::harness {

using report_detail::write_file_atomically;

void write_json_report(const SuiteResult& suite, const std::filesystem::path& file) {
  // Pretty-printed, except that each request is one line: 20,000 requests per scenario stay a file that diff,
  // grep and an editor handle, instead of 260,000 lines per scenario. Invalid UTF-8 in captured text is replaced
  // rather than making the whole report unwritable.
  using nlohmann::json;
  constexpr auto replace = json::error_handler_t::replace;
  json top = to_json(suite);
  json scenarios = std::move(top["scenarios"]);
  top.erase("scenarios");
  std::string out = top.dump(1, ' ', false, replace);
  out.erase(out.size() - 2);  // the closing "\n}"
  out += ",\n \"scenarios\": [";
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    json& sc = scenarios[i];
    json requests = std::move(sc["requests"]);
    sc.erase("requests");
    std::string head = sc.dump(1, ' ', false, replace);
    head.erase(head.size() - 2);
    // Re-indent the scenario object by two spaces so it nests under "scenarios".
    std::string nested;
    for (const char c : head) {
      nested += c;
      if (c == '\n') nested += "  ";
    }
    out += i == 0 ? "\n  " : ",\n  ";
    out += nested;
    out += ",\n   \"requests\": [";
    for (std::size_t k = 0; k < requests.size(); ++k) {
      out += k == 0 ? "\n    " : ",\n    ";
      out += requests[k].dump(-1, ' ', false, replace);
    }
    out += requests.empty() ? "]\n  }" : "\n   ]\n  }";
  }
  out += scenarios.empty() ? "]\n}\n" : "\n ]\n}\n";
  write_file_atomically(file, out);
}

}  // namespace rrkit::harness
