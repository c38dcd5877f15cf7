// The legacy contract (profile section `contract:`): template rendering, CloudEvent unwrapping, id and
// key location, validation, and the faults on templated replies.
#include <catch2/catch.hpp>

#include "common/base64.h"
#include "testkit/process.h"
#include "common/reply.h"
#include "simulator/contract.h"
#include "simulator/kafka_io.h"
#include "tests/simulator/engine_fixture.h"

namespace contract_test {

using namespace rrkit::simulator;
using namespace std::chrono_literals;
using Json = nlohmann::json;

namespace {

// The seed design's DTO: ResponseDto(string CorrelationId, string Payload).
const char* kDtoContract = R"(
contract:
  request_id: /correlationId
  request_key: /nonce
  reply:
    body: {CorrelationId: "{{id}}", Payload: "{{payload_string}}", Status: "{{status}}"}
    key: "{{id}}"
    headers: {x-reply-of: "reply-{{id}}"}
    content_type: application/json
)";

Contract contract_of(const std::string& yaml) {
  auto r = parse_profile(yaml, "test.yaml");
  if (!r) FAIL(r.error->to_string());
  REQUIRE(r.profile->contract);
  return *r.profile->contract;
}

std::string error_of(const std::string& yaml) {
  auto r = parse_profile(yaml, "test.yaml");
  REQUIRE_FALSE(r);
  return r.error->to_string();
}

// A CloudEvent as Dapr publishes it without rawPayload (data an object).
Json cloud_event(const Json& data) {
  return {{"specversion", "1.0"}, {"id", "ev-1"}, {"source", "gw"}, {"type", "com.dapr.event.sent"},
          {"datacontenttype", "application/json"}, {"topic", "requests"}, {"pubsubname", "pubsub"}, {"data", data}};
}

Incoming incoming(const Json& body, const Contract& c, const std::string& key = "", Headers headers = {}) {
  return parse_incoming("req", 0, 1, key, body.dump(), std::move(headers), IdSource{}, "rep", false, &c);
}

}  // namespace

TEST_CASE("contract: a body template renders values for whole-string placeholders and text inside strings") {
  const ReplyValues v{"c-1", false, "ok", Json{{"echo", {{"a", 1}}}, {"digest", "d"}}, Json{{"a", 1}}};
  const Json tmpl = Json::parse(R"({"CorrelationId":"{{id}}","Payload":"{{payload_string}}","P":"{{payload}}",
    "R":"{{request}}","RS":"{{request_string}}","S":"{{status}}","T":"id={{id}}/{{status}}","n":5,"l":[true,"{{id}}"]})");
  const Json out = render_body(tmpl, v);
  CHECK(out["CorrelationId"] == "c-1");
  CHECK(out["Payload"] == v.payload.dump());
  CHECK(Json::parse(out["Payload"].get<std::string>()) == v.payload);
  CHECK(out["P"] == v.payload);
  CHECK(out["R"] == v.request);
  CHECK(out["RS"] == R"({"a":1})");
  CHECK(out["S"] == "ok");
  CHECK(out["T"] == "id=c-1/ok");
  CHECK(out["n"] == 5);
  CHECK(out["l"] == Json::array({true, "c-1"}));
  CHECK(render_text("k-{{id}}-{{status}}", v) == "k-c-1-ok");

  SECTION("missing_id leaves out the members that are the id") {
    ReplyValues missing = v;
    missing.omit_id = true;
    const Json m = render_body(tmpl, missing);
    CHECK_FALSE(m.contains("CorrelationId"));
    CHECK(m["T"] == "id=c-1/ok");
  }
  SECTION("today's reply is the template {correlationId, status, payload}") {
    const Json today = Json::parse(R"({"correlationId":"{{id}}","status":"{{status}}","payload":"{{payload}}"})");
    CHECK(render_body(today, v) == rrkit::make_reply("c-1", true, v.payload));
  }
}

TEST_CASE("contract: CloudEvent envelopes are unwrapped (data object, data as a JSON string, data_base64)") {
  const Json request{{"correlationId", "c-7"}, {"nonce", "rr-1-7"}, {"action", "x"}};
  std::string error;
  CHECK(unwrap_cloud_event(cloud_event(request), error) == request);
  CHECK(unwrap_cloud_event(cloud_event(request.dump()), error) == request);
  Json b64 = cloud_event(nullptr);
  b64.erase("data");
  b64["data_base64"] = rrkit::base64_encode(request.dump());
  CHECK(unwrap_cloud_event(b64, error) == request);
  CHECK(error.empty());
  // Not an envelope: as it is. Text that is no JSON stays text.
  CHECK(unwrap_cloud_event(request, error) == request);
  CHECK(unwrap_cloud_event(cloud_event("hello"), error) == "hello");
  CHECK(error.empty());
  b64["data_base64"] = "%%% not base64";
  CHECK(unwrap_cloud_event(b64, error).is_null());
  CHECK(error.find("data_base64") != std::string::npos);
}

TEST_CASE("contract: the id and the key are found through the envelope, a header or the Kafka key") {
  const Contract c = contract_of(kDtoContract);
  const Json request{{"correlationId", "c-7"}, {"nonce", "rr-1-7"}, {"action", "x"}};
  for (const Json& body : {request, cloud_event(request), cloud_event(request.dump())}) {
    INFO(body.dump());
    const auto in = incoming(body, c);
    CHECK(in.invalid.empty());
    CHECK(in.id == "c-7");
    CHECK(in.contract_key == "rr-1-7");
    CHECK(in.body() == request);
  }
  SECTION("an envelope without the id is unreadable, exactly as a request without an id today") {
    const auto in = incoming(cloud_event(Json{{"nonce", "rr-1-8"}}), c);
    CHECK(in.id.empty());
    CHECK(in.invalid.find("/correlationId") != std::string::npos);
  }
  SECTION("a header or the key") {
    const Contract by_header = contract_of("contract: {request_id: {header: correlation-id}}");
    CHECK(incoming(cloud_event(request), by_header, "", {{"correlation-id", "h-1"}}).id == "h-1");
    CHECK_FALSE(incoming(cloud_event(request), by_header).invalid.empty());
    const Contract by_key = contract_of("contract: {request_id: {key: true}}");
    CHECK(incoming(cloud_event(request), by_key, "k-1").id == "k-1");
    CHECK_FALSE(incoming(cloud_event(request), by_key).invalid.empty());
  }
  SECTION("JSON pointers: nested, escaped, array indexes") {
    const Json doc = Json::parse(R"({"a":{"b/c":["x","y"],"m~n":"z"}})");
    CHECK(*find_pointer(doc, "/a/b~1c/1") == "y");
    CHECK(*find_pointer(doc, "/a/m~0n") == "z");
    CHECK(find_pointer(doc, "/a/b~1c/01") == nullptr);
    CHECK(find_pointer(doc, "/a/b~1c/9") == nullptr);
    CHECK(find_pointer(doc, "a") == nullptr);
    CHECK(pointer_leaf("/data/nonce") == "nonce");
  }
}

TEST_CASE("contract: validation names file:line:col and the key") {
  CHECK(error_of("contract:\n  request_id: /id\n  bogus: 1\n") ==
        "test.yaml:3:3: contract.bogus: unknown key 'bogus' (allowed: reply, request_id, request_key)");
  CHECK(error_of("contract:\n  reply:\n    body: {Id: \"{{idd}}\"}\n").find("test.yaml:3:16: contract.reply.body.Id: unknown "
                                                                         "placeholder {{idd}}") == 0);
  CHECK(error_of("contract:\n  reply:\n    key: \"{{nope}}\"\n    body: {}\n").find("contract.reply.key: unknown placeholder") !=
        std::string::npos);
  CHECK(error_of("contract:\n  request_id: [a]\n").find("test.yaml:2:15: contract.request_id:") == 0);
  CHECK(error_of("contract:\n  request_id: correlationId\n").find("expected a JSON pointer") != std::string::npos);
  CHECK(error_of("contract:\n  request_key: {a: 1}\n").find("contract.request_key: expected a scalar") != std::string::npos);
  CHECK(error_of("contract:\n  reply:\n    headers: [a]\n    body: {}\n").find("contract.reply.headers:") != std::string::npos);
  CHECK(error_of("contract:\n  reply:\n    key: x\n").find("needs a 'body'") != std::string::npos);
  CHECK(error_of("contract:\n  request_id: {header: a, key: true}\n").find("one of") != std::string::npos);
  CHECK(error_of("contract: 5\n").find("contract: expected a mapping") != std::string::npos);
  // Replies are serialised strictly: bytes that are not UTF-8 are refused when the profile loads.
  CHECK(error_of("contract:\n  reply:\n    body: {a: \"\xff\"}\n").find("contract.reply.body.a: not UTF-8 text") !=
        std::string::npos);
  SECTION("the profile's JSON form reads back as the same contract") {
    auto r = parse_profile(kDtoContract, "test.yaml");
    REQUIRE(r);
    auto again = parse_profile(to_json(*r.profile).dump(), "json");
    REQUIRE(again);
    CHECK(to_json(*again.profile) == to_json(*r.profile));
  }
}

TEST_CASE("contract: faults act on templated replies (wrong id, corruption, missing id, error, duplicates)") {
  test::Fixture f(std::string(kDtoContract) + R"(
rules:
  - {name: w, match: {field: data.kind, equals: wrong}, wrong_id: random}
  - {name: m, match: {field: data.kind, equals: missing}, missing_id: true}
  - {name: c, match: {field: data.kind, equals: corrupt}, corrupt: true}
  - {name: e, match: {field: data.kind, equals: error}, error: true}
  - {name: d, match: {field: data.kind, equals: dup}, duplicate: {copies: 2}, delay: 10ms}
)");
  const auto send = [&](int i, const std::string& kind) {
    const Json request{{"correlationId", "id-" + std::to_string(i)}, {"nonce", "n-" + std::to_string(i)},
                       {"data", {{"kind", kind}}}};
    f.engine->on_message(
        parse_incoming("req", 0, i, "", cloud_event(request).dump(), {}, IdSource{}, "rep", false, &*f.engine->profile()->contract));
  };
  send(0, "wrong");
  send(1, "missing");
  send(2, "corrupt");
  send(3, "error");
  send(4, "dup");
  send(5, "plain");
  REQUIRE(rrkit::proc::wait_until([&] { return f.sink.count() == 7; }, 5s, 5ms));
  f.deliver_all();
  REQUIRE(rrkit::proc::wait_until([&] { return f.log_lines("reply").size() == 7; }, 5s, 5ms));
  auto by_request = f.replies_by_request();
  // The decision key and the logged field come from the contract's request_key.
  for (const auto& d : f.log_lines("decision")) {
    const std::string id = d["id"];
    CHECK(d["key"] == "n-" + id.substr(3));
    CHECK(d["fields"]["nonce"] == "n-" + id.substr(3));
  }
  int dup_copies = 0;
  for (const auto& s : f.sink.snapshot()) {
    const auto j = Json::parse(s.body, nullptr, false);
    if (j.is_discarded()) {
      // Corruption acts on the rendered bytes; the key still names the request.
      CHECK(s.key == "id-2");
      CHECK(by_request["id-2"]["kind"] == "corrupt");
      continue;
    }
    REQUIRE(j["Payload"].is_string());
    const Json payload = Json::parse(j["Payload"].get<std::string>());
    const std::string own = payload["echo"]["correlationId"];
    CHECK(payload == rrkit::reply_payload_for(payload["echo"]));
    CHECK(s.headers == Headers{{"x-reply-of", "reply-" + s.key}, {"content-type", "application/json"}});
    if (own == "id-0") {
      CHECK(j["CorrelationId"] != "id-0");
      CHECK(j["CorrelationId"] == by_request["id-0"]["reply_id"]);
      CHECK(s.key == j["CorrelationId"]);
    } else if (own == "id-1") {
      CHECK_FALSE(j.contains("CorrelationId"));
      CHECK(by_request["id-1"]["reply_id"].is_null());
    } else if (own == "id-3") {
      CHECK(j["Status"] == "error");
    } else {
      if (own == "id-4") ++dup_copies;
      CHECK(j["CorrelationId"] == own);
      CHECK(j["Status"] == "ok");
    }
  }
  CHECK(dup_copies == 2);

  SECTION("a request without the id is counted and logged as unreadable") {
    f.engine->on_message(parse_incoming("req", 0, 9, "", cloud_event(Json{{"nonce", "n-9"}}).dump(), {}, IdSource{}, "rep",
                                        false, &*f.engine->profile()->contract));
    CHECK(f.engine->stats()["invalid"] == 1);
    const auto lines = f.log_lines("decision");
    REQUIRE_FALSE(lines.empty());
    CHECK(lines.back()["rule"] == "invalid");
    CHECK(lines.back()["id"].is_null());
  }
}

}  // namespace contract_test
