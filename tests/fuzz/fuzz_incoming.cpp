// Fuzz target: a request message as rr-simulator consumes it from Kafka (simulator/kafka_io.h
// parse_incoming) with the id located by an --id-from setting (IdSource::parse).
// Input: line 1 the --id-from value (body:PATH, header:NAME or key), line 2 the message key,
// line 3 the value of a `correlationId` header, the rest the message value (payload).
// A request with an id then goes through what the engine does with it: the decision (rules match
// on body paths and headers) and the reply, echo and digest, serialised for Kafka.
#include "common/reply.h"
#include "simulator/decide.h"
#include "simulator/kafka_io.h"
#include "tests/fuzz/fuzz_input.h"

namespace {

std::shared_ptr<const rrkit::simulator::Profile> matching_profile() {
  const auto result = rrkit::simulator::parse_profile(
      "seed: 7\n"
      "rules:\n"
      "  - {name: by-body, match: {field: data.kind, equals: slow}, delay: 5ms}\n"
      "  - {name: by-index, match: {field: data.list.1, in: [2, x, \"3\"]}, duplicate: {copies: 2, spacing: 1ms}}\n"
      "  - {name: by-header, match: {header: kind, exists: true}, fraction: 0.5, error: true}\n",
      "fuzz-profile");
  if (!result) __builtin_trap();
  return result.profile;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace rrkit::simulator;
  static const auto profile = matching_profile();
  std::string_view text = rrkit::fuzz::as_text(data, size);
  const std::string id_from(rrkit::fuzz::take_line(text));
  const std::string key(rrkit::fuzz::take_line(text));
  const std::string header(rrkit::fuzz::take_line(text));
  std::string error;
  const auto source = IdSource::parse(id_from, error).value_or(IdSource{});
  Headers headers = {{"correlationId", header}, {"kind", "slow"}, {"replyTo", header}};
  const Incoming in = parse_incoming("requests", 0, 42, key, std::string(text), std::move(headers), source,
                                     "replies", true);
  if (in.id.empty()) return 0;
  const RequestView view{in.body_is_json ? &in.request : nullptr, &in.headers};
  const Decision d = decide(*profile, 7, in.id, view);
  const auto reply = rrkit::make_reply(in.id, !d.error, rrkit::reply_payload_for(in.request));
  (void)reply.dump();
  return 0;
}
