#include "common/decision_record.h"

#include <catch2/catch.hpp>

namespace decision_record_test {

using rrkit::DecisionLineType;
using rrkit::DecisionRecord;

namespace {
// Lines as rr-simulator wrote them before the log had a typed definition: old run folders must replay.
const char* kOldLines[] = {
    R"({"copies":2,"corrupt":false,"delay_us":1500,"drop":false,"error":false,"fields":{"nonce":"rr-1-0"},"id":"c-1","key":"rr-1-0","kind":"ok","missing_id":false,"offset":7,"partition":1,"reorder":true,"request_topic":"requests","rule":"dup","service_us":0,"spacing_us":200,"topic":"replies","ts_us":1000,"type":"decision","wrong_id":"none"})",
    R"({"copies":0,"corrupt":false,"delay_us":0,"drop":true,"error":false,"id":null,"invalid":"no correlation id","kind":"drop","missing_id":false,"offset":8,"partition":0,"reorder":false,"request_topic":"requests","rule":"invalid","service_us":0,"spacing_us":0,"topic":"replies","ts_us":1001,"type":"decision","wrong_id":"none"})",
    R"({"copy":1,"delivered_us":2000,"kind":"ok","planned_us":1500,"reply_id":"c-1","request_id":"c-1","sent_us":1600,"topic":"replies","ts_us":2000,"type":"reply"})",
    R"({"copy":2,"error":"the producer refused it","kind":"corrupt","planned_us":1500,"reply_id":null,"request_id":"c-1","sent_us":1600,"topic":"replies","ts_us":2001,"type":"reply_failed"})",
    R"({"after":3,"for_us":500000,"phase":"start","ts_us":3000,"type":"stall","until_us":503000})",
    R"({"phase":"end","ts_us":4000,"type":"stall"})",
    R"({"after":5,"id":null,"offset":9,"partition":0,"ts_us":5000,"type":"crash"})",
    R"({"ts_us":6000,"type":"pause"})",
    R"({"ts_us":6001,"type":"resume"})",
    R"({"profile":{"seed":1},"seed":42,"source":"default","ts_us":7000,"type":"profile"})",
    R"({"profile":{},"source":"control","ts_us":7001,"type":"profile"})",
};
}  // namespace

TEST_CASE("decision record: every kind of line written before reads and writes back byte for byte") {
  for (const char* text : kOldLines) {
    INFO(text);
    const auto parsed = rrkit::parse_decision_line(text);
    REQUIRE(parsed.ok());
    CHECK(nlohmann::json(parsed.record).dump() == text);
  }
}

TEST_CASE("decision record: the typed members are what the line says") {
  const auto d = rrkit::parse_decision_line(kOldLines[0]).record;
  CHECK(d.type == DecisionLineType::decision);
  CHECK(d.id == "c-1");
  CHECK(d.copies == 2);
  CHECK(d.reorder);
  CHECK(d.delay_us == 1500);
  CHECK(d.request_key() == "rr-1-0");
  CHECK(d.field_string("nonce") == "rr-1-0");
  const auto failed = rrkit::parse_decision_line(kOldLines[3]).record;
  CHECK(failed.type == DecisionLineType::reply_failed);
  CHECK(failed.failure == "the producer refused it");
  CHECK_FALSE(failed.error);
  CHECK(failed.reply_id.empty());
}

TEST_CASE("decision record: bad lines are values, never exceptions") {
  CHECK(rrkit::parse_decision_line("{not json").errc == rrkit::DecisionErrc::not_json);
  CHECK(rrkit::parse_decision_line("[1,2]").errc == rrkit::DecisionErrc::not_object);
  CHECK(rrkit::parse_decision_line(R"({"ts_us":1})").errc == rrkit::DecisionErrc::no_type);
  CHECK(rrkit::parse_decision_line(R"({"type":7})").errc == rrkit::DecisionErrc::no_type);
  CHECK(rrkit::parse_decision_line(std::string(200, '[')).errc == rrkit::DecisionErrc::not_json);
  // A member of an unexpected type reads as its default, as absent.
  const auto odd = rrkit::parse_decision_line(
      R"({"type":"decision","copies":"two","reorder":1,"kind":false,"id":5,"fields":[1],"ts_us":1.5})");
  REQUIRE(odd.ok());
  CHECK(odd.record.copies == 1);
  CHECK_FALSE(odd.record.reorder);
  CHECK(odd.record.kind.empty());
  CHECK(odd.record.id.empty());
  CHECK(odd.record.fields.is_null());
  CHECK(odd.record.ts_us == 0);
  // A type this build does not know keeps its name (the checker counts it as an event).
  const auto future = rrkit::parse_decision_line(R"({"type":"rebalance","ts_us":3})");
  REQUIRE(future.ok());
  CHECK(future.record.type == DecisionLineType::other);
  CHECK(future.record.type_name == "rebalance");
  CHECK(nlohmann::json(future.record).dump() == R"({"ts_us":3,"type":"rebalance"})");
}

TEST_CASE("decision record: decision_records skips what is no decision line") {
  const std::vector<nlohmann::json> lines{nlohmann::json::parse(kOldLines[0]), nlohmann::json(3),
                                          nlohmann::json::object(), nlohmann::json::parse(kOldLines[2])};
  const auto records = rrkit::decision_records(lines);
  REQUIRE(records.size() == 2);
  CHECK(records[0].type == DecisionLineType::decision);
  CHECK(records[1].type == DecisionLineType::reply);
}

TEST_CASE("decision kinds: every kind's name parses back, and an unknown name is none") {
  for (const auto k : rrkit::kDecisionKinds) {
    const auto parsed = rrkit::parse_decision_kind(rrkit::to_string(k));
    REQUIRE(parsed.has_value());
    CHECK(*parsed == k);
  }
  CHECK(rrkit::to_string(rrkit::DecisionKind::missing_id) == "missing_id");
  CHECK_FALSE(rrkit::parse_decision_kind("dropped").has_value());
  CHECK_FALSE(rrkit::parse_decision_kind("").has_value());
}

}  // namespace decision_record_test
