// Fuzz target: the scenario loader (harness/scenario.h), which reads a file: the input is written
// to scenario.yaml in a scratch folder first. The profile file a scenario may name is not read
// (read_profile=false, as replay does), so that an input cannot point the loader at /dev/zero.
// A loaded scenario's body template is serialised, as the traffic generator does per request.
#include <fstream>

#include "harness/scenario.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const rrkit::fuzz::ScratchDir dir;
  const auto file = dir.path() / "scenario.yaml";
  {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  std::string error;
  const auto scenario = rrkit::harness::load_scenario(file, error, false);
  if (scenario) (void)scenario->traffic.body_template.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return 0;
}
