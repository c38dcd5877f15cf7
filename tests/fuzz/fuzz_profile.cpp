// Fuzz target: the fault profile (simulator/profile.h) as rr-simulator reads it from a file, a
// PUT /profile body or --set overrides. Input: the profile YAML, then optionally a line "%%"
// followed by one `--set KEY=VALUE` argument per line. A valid profile is serialised (GET /profile)
// and asked for a decision on a sample request (what every consumed message goes through); its
// legacy contract, if any, reads a CloudEvent-wrapped request and renders a reply to it.
#include <vector>

#include "simulator/decide.h"
#include "simulator/kafka_io.h"
#include "simulator/profile.h"
#include "tests/fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rrkit::simulator;
  const std::string_view text = rrkit::fuzz::as_text(data, size);
  const auto split = text.find("\n%%\n");
  const std::string profile_text(text.substr(0, split));
  std::vector<Override> overrides;
  if (split != std::string_view::npos) {
    std::string_view rest = text.substr(split + 4);
    while (!rest.empty()) {
      std::string error;
      if (auto o = parse_override(std::string(rrkit::fuzz::take_line(rest)), error)) overrides.push_back(std::move(*o));
    }
  }
  const auto result = parse_profile(profile_text, "fuzz.yaml", overrides);
  if (!result) return 0;
  // GET /profile serialises this; bytes that are not UTF-8 in names make a strict dump() throw there
  // (control_api.cpp), which is the control API's to handle: replace them here.
  (void)to_json(*result.profile).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  static const nlohmann::json request = {
      {"correlationId", "7d5c3a52-1f43-4b8e-9a55-0c1a2b3c4d5e"}, {"action", "echo"},
      {"data", {{"kind", "slow"}, {"n", 5}, {"list", {1, 2, 3}}}}};
  static const Headers headers = {{"correlationId", "7d5c3a52-1f43-4b8e-9a55-0c1a2b3c4d5e"}, {"kind", "slow"}};
  const RequestView view{&request, &headers};
  const Decision d = decide(*result.profile, result.profile->seed.value_or(1), "7d5c3a52-1f43-4b8e-9a55-0c1a2b3c4d5e", view);
  if (d.delay.count() < 0 || d.service.count() < 0 || d.spacing.count() < 0) __builtin_trap();  // never negative
  if (const auto& c = result.profile->contract) {
    static const std::string envelope =
        nlohmann::json{{"specversion", "1.0"}, {"id", "e"}, {"type", "t"}, {"source", "s"}, {"data", request}}.dump();
    const Incoming in = parse_incoming("req", 0, 0, "key-1", envelope, headers, IdSource{}, "rep", false, &*c);
    if (c->reply) {
      for (const bool omit : {false, true}) {
        const ReplyValues v{in.id, omit, "ok", nlohmann::json{{"echo", in.body()}}, in.body()};
        // Strict, as the engine serialises replies: a template that loads must render to text.
        (void)render_body(c->reply->body, v).dump();
        (void)render_text(c->reply->key, v);
        for (const auto& h : c->reply->headers) (void)render_text(h.second, v);
      }
    }
  }
  return 0;
}
