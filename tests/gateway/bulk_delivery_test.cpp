// The bulk reply route: each entry of a batch obeys the single delivery's rules, and the batch is
// answered so that daprd never retries (every entry named, or a 404 that drops the whole batch).
#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>

#include <map>
#include <string>
#include <vector>

#include "common/base64.h"
#include "common/json_limits.h"
#include "gateway/bulk_delivery.h"
#include "gateway/dapr_client.h"
#include "gateway/deliveries.h"
#include "gateway/readiness.h"
#include "gateway/state.h"

namespace bulk_delivery_test {

using namespace rrkit;
using namespace rrkit::gateway;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

std::string reply_bytes(const std::string& id) { return json{{"correlationId", id}, {"status", "ok"}}.dump(); }

// An entry as daprd writes it for a rawPayload subscription.
json raw_entry(const std::string& entry_id, const std::string& bytes,
               const std::string& content_type = "application/octet-stream") {
  return {{"entryId", entry_id},
          {"event", base64_encode(bytes)},
          {"contentType", content_type},
          {"metadata", {{"partition", "0"}}}};
}

std::string envelope(const json& entries) {
  return json{{"id", "b-1"},
              {"type", "com.dapr.event.sent.bulk"},
              {"topic", "rr.replies"},
              {"pubsubname", "rr-pubsub"},
              {"metadata", {{"pubsubName", "rr-pubsub"}}},
              {"entries", entries}}
      .dump();
}

// A gateway's reply side without sockets: the route handler over a real pending table.
struct Harness {
  explicit Harness(bool bulk = true)
      : state(make_config(bulk), log::make("test", "off")), dapr(ioc, {}), readiness(state, dapr),
        deliveries(state, readiness) {}

  static Config make_config(bool bulk) {
    Config c;
    c.reply_bulk_subscribe = bulk;
    c.instance_id = "inst1";
    return c;
  }

  // A waiting request; the vector gets its reply when one is matched.
  void wait_for(const std::string& id) {
    REQUIRE(state.table.insert(CorrelationId(id), Clock::now(), [this](Completion c) {
      answered.push_back(json::parse(c.reply));
    }) == PendingTable::Insert::inserted);
  }

  Answer post(std::string body) {
    Request req{http::verb::post, "/dapr/replies", 11};
    req.body() = std::move(body);
    req.prepare_payload();
    return deliveries.handle(req, true);
  }

  double count(ReplyClass c) const { return state.metrics.replies(c); }

  boost::asio::io_context ioc;
  State state;
  DaprClient dapr;
  Readiness readiness;
  Deliveries deliveries;
  std::vector<json> answered;
};

// entryId -> status of a 200 bulk answer.
// The body of an answer, rendered or not.
std::string body_of(const Answer& answer) {
  if (const auto* rendered = std::get_if<Rendered>(&answer)) {
    const auto end = rendered->wire.find("\r\n\r\n");
    REQUIRE(end != std::string::npos);
    return rendered->wire.substr(end + 4);
  }
  return std::get<Response>(answer).body();
}

std::map<std::string, std::string> statuses(const Answer& answer) {
  REQUIRE(std::holds_alternative<Response>(answer));
  const Response& res = std::get<Response>(answer);
  REQUIRE(res.result() == http::status::ok);
  const json body = parse_bounded(res.body()).value;
  std::map<std::string, std::string> out;
  for (const auto& s : body.at("statuses")) out[s.at("entryId").get<std::string>()] = s.at("status").get<std::string>();
  return out;
}

}  // namespace

TEST_CASE("bulk delivery: a malformed entry among good ones is DROPped alone and counted") {
  Harness h;
  h.wait_for("c-1");
  h.wait_for("c-2");
  const json entries = json::array({raw_entry("0", reply_bytes("c-1")), raw_entry("1", "{not json"),
                                    raw_entry("2", R"({"status":"ok"})"), raw_entry("3", reply_bytes("c-2")),
                                    raw_entry("4", reply_bytes("c-2")), raw_entry("5", reply_bytes("nobody"))});
  const auto st = statuses(h.post(envelope(entries)));
  CHECK(st == std::map<std::string, std::string>{{"0", "SUCCESS"}, {"1", "DROP"}, {"2", "DROP"},
                                                 {"3", "SUCCESS"}, {"4", "SUCCESS"}, {"5", "SUCCESS"}});
  REQUIRE(h.answered.size() == 2);
  CHECK(h.answered[0].at("correlationId") == "c-1");
  CHECK(h.answered[1].at("correlationId") == "c-2");
  CHECK(h.count(ReplyClass::matched) == 2);
  CHECK(h.count(ReplyClass::malformed) == 2);
  CHECK(h.count(ReplyClass::duplicate) == 1);
  CHECK(h.count(ReplyClass::unknown) == 1);
  CHECK(h.state.table.size() == 0);
}

TEST_CASE("bulk delivery: an entry whose content type cannot carry JSON is malformed, the others taken") {
  Harness h;
  h.wait_for("c-1");
  h.wait_for("c-2");
  const json entries = json::array({raw_entry("a", reply_bytes("c-1"), "text/plain"),
                                    raw_entry("b", reply_bytes("c-2"), "application/json; charset=utf-8")});
  const auto st = statuses(h.post(envelope(entries)));
  CHECK(st == std::map<std::string, std::string>{{"a", "DROP"}, {"b", "SUCCESS"}});
  CHECK(h.count(ReplyClass::malformed) == 1);
  CHECK(h.count(ReplyClass::matched) == 1);
  // The refused one is still waiting: nothing was taken from it.
  CHECK(h.state.table.size() == 1);
}

TEST_CASE("bulk delivery: an empty batch is answered with no statuses and counts nothing") {
  Harness h;
  for (const std::string& body : {envelope(json::array()), envelope(nullptr)}) {
    const auto res = std::get<Response>(h.post(body));
    REQUIRE(res.result() == http::status::ok);
    CHECK(parse_bounded(res.body()).value == json{{"statuses", json::array()}});
  }
  for (auto c : {ReplyClass::malformed, ReplyClass::unknown, ReplyClass::matched}) CHECK(h.count(c) == 0);
}

TEST_CASE("bulk delivery: an unreadable or oversize batch is answered 404, which daprd drops, never retries") {
  Harness h;
  for (const std::string& body : {std::string("{broken"), std::string("[1,2]"), std::string(R"({"entries":{}})"),
                                 std::string(R"({"id":"x"})"),
                                 "{\"entries\":" + std::string(200, '[') + std::string(200, ']') + "}"}) {
    INFO(body.substr(0, 40));
    const auto res = std::get<Response>(h.post(body));
    CHECK(res.result() == http::status::not_found);
    CHECK(parse_bounded(res.body()).value.at("error") == "undeliverable_batch");
  }
  CHECK(h.count(ReplyClass::malformed) == 5);
  const auto oversize = h.deliveries.drop_oversize(11, true, 10u << 20);
  CHECK(oversize.result() == http::status::not_found);
  CHECK(oversize.keep_alive());
  CHECK(h.deliveries.drop_unreadable("header too large").result() == http::status::not_found);
  CHECK(h.count(ReplyClass::malformed) == 7);
}

TEST_CASE("bulk delivery: the single route keeps its answers when bulk subscribe is off") {
  Harness h(/*bulk=*/false);
  CHECK(parse_bounded(body_of(h.post("{broken"))).value == json{{"status", "DROP"}});
  CHECK(h.deliveries.drop_oversize(11, true, 10u << 20).result() == http::status::ok);
  CHECK(parse_bounded(body_of(h.post(reply_bytes("nobody")))).value == json{{"status", "SUCCESS"}});
  // The answers kept rendered for daprd's kept-alive HTTP/1.1 connections are what rendering gives, and
  // another version or a connection that closes gets its own.
  const auto answer = [&](std::string body, unsigned version, bool keep) {
    Request req{http::verb::post, "/dapr/replies", version};
    req.body() = std::move(body);
    req.prepare_payload();
    auto out = h.deliveries.handle(req, keep);
    REQUIRE(std::holds_alternative<Rendered>(out));
    return std::get<Rendered>(std::move(out));
  };
  const std::string success = R"({"status":"SUCCESS"})";
  const std::string drop = R"({"status":"DROP"})";
  CHECK(answer(reply_bytes("nobody"), 11, true).wire ==
        render_response(http::status::ok, success, 11, true, {}, h.state.keep_alive).wire);
  CHECK(answer("{broken", 11, true).wire == render_response(http::status::ok, drop, 11, true, {}, h.state.keep_alive).wire);
  const Rendered closing = answer(reply_bytes("nobody"), 11, false);
  CHECK_FALSE(closing.keep_alive);
  CHECK(closing.wire.find("Connection: close\r\n") != std::string::npos);
  CHECK(answer(reply_bytes("nobody"), 10, true).wire.rfind("HTTP/1.0 200 OK\r\n", 0) == 0);
}

TEST_CASE("bulk delivery: CloudEvent entries, probes and entries without an id") {
  Harness h;
  h.wait_for("c-1");
  const json ce = {{"specversion", "1.0"}, {"datacontenttype", "application/json"},
                   {"data", {{"correlationId", "c-1"}, {"status", "ok"}}}};
  const json entries = json::array(
      {{{"entryId", "0"}, {"event", ce}, {"contentType", "application/cloudevents+json"}},
       raw_entry("1", json{{"correlationId", "probe-inst1-x"}, {"rrkitProbe", true}}.dump()),
       {{"event", base64_encode(reply_bytes("c-9"))}}, json(7), {{"entryId", "4"}, {"event", 12}},
       {{"entryId", "5"}, {"event", "%%not base64"}}, {{"entryId", "6"}}});
  const auto st = statuses(h.post(envelope(entries)));
  CHECK(st == std::map<std::string, std::string>{{"0", "SUCCESS"}, {"1", "SUCCESS"}, {"4", "DROP"},
                                                 {"5", "DROP"}, {"6", "DROP"}});
  CHECK(h.count(ReplyClass::matched) == 1);
  CHECK(h.count(ReplyClass::probe) == 1);
  CHECK(h.count(ReplyClass::malformed) == 5);
  CHECK(h.readiness.status().at("subscriptionLive") == true);
}

TEST_CASE("bulk delivery: a reply nested too deep inside a raw entry is that entry's DROP") {
  const std::string deep = "{\"correlationId\":\"c-1\",\"p\":" + std::string(300, '[') + std::string(300, ']') + "}";
  const auto batch = parse_bulk_delivery(envelope(json::array({raw_entry("0", deep), raw_entry("1", reply_bytes("c-2"))})),
                                         "correlationId");
  REQUIRE(batch.ok());
  REQUIRE(batch.entries.size() == 2);
  CHECK_FALSE(batch.entries[0].result.delivery);
  CHECK(batch.entries[0].result.error.find("nested deeper than") != std::string::npos);
  REQUIRE(batch.entries[1].result.delivery);
  CHECK(batch.entries[1].result.delivery->id == "c-2");
}

TEST_CASE("bulk delivery: content types that can carry a JSON reply") {
  for (const char* t : {"", "application/octet-stream", "application/json", "Application/JSON; charset=utf-8",
                        "application/cloudevents+json", "text/json"}) {
    CHECK(json_content_type(t));
  }
  for (const char* t : {"text/plain", "application/xml", "image/png", "json", "+json"}) CHECK_FALSE(json_content_type(t));
}

}  // namespace bulk_delivery_test
