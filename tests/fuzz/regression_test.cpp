// Regression tests for what fuzzing the parsers of outside input found (tests/fuzz/). Each input
// here is also in its target's corpus (tests/fuzz/corpus/<target>/), so CI's fuzz stage replays it.
#include <catch2/catch.hpp>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <variant>

#include "common/reply.h"
#include "gateway/delivery.h"
#include "gateway/http_message.h"
#include "gateway/send_request.h"
#include "harness/checker.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "simulator/decide.h"
#include "simulator/kafka_io.h"
#include "simulator/profile.h"

namespace {

// {"a": [[[…]]]} with `depth` nested arrays: 200 KB at 100,000, under any body limit.
std::string deep_json(std::size_t depth) {
  return "{\"a\":" + std::string(depth, '[') + std::string(depth, ']') + "}";
}

}  // namespace

TEST_CASE("fuzz regression: a deeply nested client body is a 400 too_deep, not a crash when published",
          "[fuzz][gateway]") {
  auto v = rrkit::gateway::validate_send("application/json", deep_json(100000), 1 << 20);
  REQUIRE(std::holds_alternative<rrkit::gateway::HttpError>(v));
  const auto& e = std::get<rrkit::gateway::HttpError>(v);
  CHECK(e.status == 400);
  CHECK(e.code == "too_deep");
  // A body at the limit is still accepted.
  CHECK(std::holds_alternative<nlohmann::json>(rrkit::gateway::validate_send("application/json", deep_json(100), 1 << 20)));
}

TEST_CASE("fuzz regression: a chunked request whose last chunk has begun is left to Beast's read, never parsed twice",
          "[fuzz][gateway]") {
  // finding_last_chunk_twice.txt: the last chunk without its closing CRLF. Parsed from the buffer and then
  // given again by Beast's read, the same bytes tripped Beast's chunk-header assertion.
  namespace http = boost::beast::http;
  boost::beast::flat_buffer buffer;
  const std::string text = "POST /ap HTTP/1.1\r\nHt: gw\r\nTost: gw\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n";
  auto room = buffer.prepare(text.size());
  std::memcpy(room.data(), text.data(), text.size());
  buffer.commit(text.size());
  http::request_parser<http::string_body> parser;
  REQUIRE_FALSE(rrkit::gateway::parse_buffered(parser, buffer));
  parser.eager(true);
  CHECK(rrkit::gateway::parse_buffered(parser, buffer) == http::error::need_more);
  CHECK(buffer.size() == 3);  // "0\r\n" untouched, for Beast's read to give the parser once
  boost::system::error_code ec;
  buffer.consume(parser.put(buffer.data(), ec));
  CHECK(ec == http::error::need_more);
}

TEST_CASE("fuzz regression: daprd's chunked answer is left to Beast's read although the parser is eager from the start",
          "[fuzz][gateway]") {
  // finding_eager_chunked_answer.txt: the Dapr client's response parser is eager from the start, and
  // an eager parser goes on from the header into the body within one put. The chunks were then
  // parsed from the buffer when all there, and their first bytes seen twice when not.
  namespace http = boost::beast::http;
  const std::string header = "HTTP/1.1 500 Internal Server Error\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (const std::string chunks : {"0\r\n", "5\r\nhello\r\n0\r\n\r\n"}) {
    INFO(chunks);
    boost::beast::flat_buffer buffer;
    const std::string text = header + chunks;
    auto room = buffer.prepare(text.size());
    std::memcpy(room.data(), text.data(), text.size());
    buffer.commit(text.size());
    http::response_parser<http::string_body> parser;
    parser.eager(true);
    CHECK(rrkit::gateway::parse_buffered(parser, buffer) == http::error::need_more);
    CHECK(parser.is_header_done());
    CHECK(buffer.size() == chunks.size());  // every chunk byte untouched, for Beast's read
  }
}

TEST_CASE("fuzz regression: a deeply nested Dapr delivery is malformed (DROP), not a crash when answered",
          "[fuzz][gateway]") {
  const auto plain = rrkit::gateway::parse_delivery(
      "{\"correlationId\":\"c-1\",\"payload\":" + deep_json(100000) + "}", "correlationId");
  CHECK_FALSE(plain.delivery);
  CHECK(plain.error.find("nested deeper than") != std::string::npos);
  const auto as_string = rrkit::gateway::parse_delivery(
      nlohmann::json{{"specversion", "1.0"}, {"data", "{\"correlationId\":\"c-1\",\"p\":" + deep_json(100000) + "}"}}
          .dump(),
      "correlationId");
  CHECK_FALSE(as_string.delivery);
  CHECK(as_string.error.find("nested deeper than") != std::string::npos);
}

TEST_CASE("fuzz regression: rr-simulator takes a deeply nested request as not JSON", "[fuzz][simulator]") {
  using namespace rrkit::simulator;
  const auto in = parse_incoming("req", 0, 1, "", "{\"correlationId\":\"c-1\",\"x\":" + deep_json(100000) + "}", {},
                                 IdSource{}, "rep", false);
  CHECK_FALSE(in.body_is_json);
  CHECK(in.id.empty());
  CHECK_FALSE(in.invalid.empty());
}

TEST_CASE("fuzz regression: a non-UTF-8 request body is an invalid request, never echoed", "[fuzz][simulator]") {
  using namespace rrkit::simulator;
  std::string error;
  const auto source = IdSource::parse("key", error);
  REQUIRE(source);
  const auto in = parse_incoming("req", 0, 1, "cid-9", "\xff\xfe not utf-8 \xc3\x28", {}, *source, "rep", false);
  // Before: the echo kept the raw bytes and the reply's dump() threw on the engine's thread.
  // The key still names the request in the decision log.
  CHECK(in.id == "cid-9");
  CHECK_FALSE(in.body_is_json);
  CHECK(in.invalid == "body is neither JSON nor UTF-8 text");
  CHECK(in.request.is_null());
}

TEST_CASE("fuzz regression: a 20-digit list index in a body path or a --set key is absent, not an exception",
          "[fuzz][simulator]") {
  using namespace rrkit::simulator;
  const nlohmann::json body = {{"data", {{"list", {1, 2, 3}}}}};
  const nlohmann::json* found = nullptr;
  REQUIRE_NOTHROW(found = find_path(body, "data.list.99999999999999999999"));
  CHECK(found == nullptr);
  CHECK(find_path(body, "data.list.1") != nullptr);

  std::string error;
  const auto o = parse_override("rules.99999999999999999999.drop=false", error);
  REQUIRE(o);
  ProfileResult r;
  REQUIRE_NOTHROW(r = parse_profile("rules:\n  - {name: a, drop: true}\n", "test", {*o}));
  REQUIRE_FALSE(r);
  REQUIRE(r.error);
  CHECK(r.error->message.find("past the end") != std::string::npos);
}

TEST_CASE("fuzz regression: replay survives a stored answer that nests deeply", "[fuzz][harness]") {
  using namespace rrkit::harness;
  Scenario sc;
  sc.name = "deep";
  rrkit::harness::RequestRecord r;
  r.nonce = "n-1";
  r.correlation_id = "c-1";
  r.outcome = Outcome::ok;
  r.http_status = 200;
  r.sent_us = r.intended_us = 1'000'000;
  r.done_us = 1'002'000;
  r.request_body = "{\"nonce\":\"n-1\"}";
  r.response_body = "{\"response\":{\"payload\":{\"echo\":{\"nonce\":\"n-1\",\"a\":" + std::string(100000, '[') +
                    std::string(100000, ']') + "},\"digest\":\"x\"}}}";
  CheckInput in;
  in.scenario = &sc;
  in.requests.push_back(r);
  ScenarioResult out;
  run_checks(in, out);
  REQUIRE(out.requests.size() == 1);
  CHECK(out.requests[0].classification == Classification::unparseable_answer);
}

TEST_CASE("fuzz regression: a Kafka key that is not UTF-8 is an invalid id, not a reply that cannot be serialised",
          "[fuzz][simulator]") {
  using namespace rrkit::simulator;
  std::string error;
  const auto source = IdSource::parse("key", error);
  REQUIRE(source);
  const auto in = parse_incoming("req", 0, 1, "ci\xff-9", "{\"a\":1}", {}, *source, "rep", false);
  CHECK(in.id.empty());
  CHECK(in.invalid == "correlation id is not UTF-8 text");
}

TEST_CASE("fuzz regression: a scenario body with a collection as a key loads instead of throwing", "[fuzz][harness]") {
  const auto file = std::filesystem::temp_directory_path() / "rrkit-fuzz-regression-collection-key.yaml";
  std::ofstream(file) << "name: k\ntraffic:\n  body: {[a, b]: 1, n: 2}\n";
  std::string error;
  std::optional<rrkit::harness::Scenario> sc;
  REQUIRE_NOTHROW(sc = rrkit::harness::load_scenario(file, error, false));
  std::filesystem::remove(file);
  REQUIRE(sc);
  CHECK(sc->traffic.body_template.size() == 2);
  CHECK(sc->traffic.body_template["n"] == 2);

  // The same where keys are checked: an error naming the key, not an exception.
  std::ofstream(file) << "name: k\ntraffic: {mode: open, [d]: 1}\n";
  REQUIRE_NOTHROW(sc = rrkit::harness::load_scenario(file, error, false));
  std::filesystem::remove(file);
  CHECK_FALSE(sc);
  CHECK(error.find("unknown key") != std::string::npos);
}

TEST_CASE("fuzz regression: replay refuses a run.json whose gateway count would mean millions of reads",
          "[fuzz][harness]") {
  const auto dir = std::filesystem::temp_directory_path() / "rrkit-fuzz-regression-replay";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "run.json") << "{\"gateways\":429496729}\n";
  std::ofstream(dir / "scenario.yaml") << "name: r\n";
  std::ofstream(dir / "history.jsonl") << "";
  std::ofstream(dir / "decisions.jsonl") << "";
  std::string error;
  const auto result = rrkit::harness::replay_run(dir, error);
  std::filesystem::remove_all(dir);
  CHECK_FALSE(result);
  CHECK(error.find("gateways must be an integer between 1 and 8") != std::string::npos);
}

TEST_CASE("fuzz regression: replay ignores a decisions_offset that is not an unsigned integer", "[fuzz][harness]") {
  // Before: 9.8e19 was converted to size_t (undefined behaviour; UBSan reports it in the sanitizer build).
  const auto dir = std::filesystem::temp_directory_path() / "rrkit-fuzz-regression-offset";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "run.json") << "{\"gateways\":1,\"decisions_offset\":9.84467e+19,\"decisions\":\"\","
                                     "\"metrics_errors\":[\"\"],\"baseline_errors\":[],\"pending\":0}\n";
  std::ofstream(dir / "metrics-gw-1.txt") << "";
  std::ofstream(dir / "scenario.yaml") << "name: r\n";
  std::ofstream(dir / "history.jsonl") << "";
  std::ofstream(dir / "decisions.jsonl") << "{\"type\":\"decision\",\"id\":\"c-1\",\"kind\":\"ok\"}\n";
  std::string error;
  const auto result = rrkit::harness::replay_run(dir, error);
  std::filesystem::remove_all(dir);
  REQUIRE(result);
  CHECK(result->simulator_counters.empty() == false);
}
