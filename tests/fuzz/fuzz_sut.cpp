// Fuzz target: the SUT file parser (harness/sut.h) on arbitrary bytes. A file that loads is then
// used as the runner would: expanded for an instance, a request rendered, and the input itself
// read as an answer (correlation id and echoed nonce), so every path from outside text is covered.
#include "harness/sut.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = rrkit::fuzz::as_text(data, size);
  const auto loaded = rrkit::harness::parse_sut(text, "fuzz/sut.yaml");
  if (!loaded.ok()) return 0;
  const auto& sut = *loaded.sut;
  rrkit::harness::SutInstanceVars vars;
  vars.sut_dir = sut.dir;
  (void)rrkit::harness::expand_instance(sut, vars, {"--extra"});
  const auto body = rrkit::harness::render_request_body(sut.request, {{"nonce", "rr-1-1"}}, "rr-1-1", 1);
  (void)body.dump();
  (void)rrkit::harness::correlation_id_of(sut.answer, {{"X-Correlation-Id", "c-1"}}, text);
  (void)rrkit::harness::echo_nonce_check(sut.answer, text, "rr-1-1", [](std::string_view n) { return n == "rr-1-2"; });
  if (sut.metrics) (void)rrkit::harness::read_metrics(*sut.metrics, std::string(text));
  return 0;
}
