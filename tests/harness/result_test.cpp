// The result model's value tables (every row round-trips through its text form) and reading files written in
// today's format ("rrkit-suite/1" reports, history.jsonl lines): old run folders and reports must keep loading.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/result.h"

namespace result_test {

using namespace rrkit::harness;

namespace {

const std::string data_dir = std::string(RRKIT_SOURCE_DIR) + "/tests/harness/data/";

nlohmann::json read_json(const std::string& file) {
  std::ifstream in(data_dir + file);
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

// Every row: to_string gives the row's name, parse gives the value back, the names are unique, and every
// description says something (except none's may not be empty either: `rr-harness` prints them).
template <typename E, std::size_t N, typename Parse>
void check_table(const std::array<NamedValue<E>, N>& table, Parse parse) {
  std::set<std::string> names;
  for (const auto& row : table) {
    INFO("row \"" << row.name << "\"");
    CHECK(std::string(to_string(row.value)) == row.name);
    CHECK(std::string(describe(row.value)) == row.description);
    CHECK_FALSE(std::string(row.description).empty());
    CHECK(names.insert(row.name).second);
    const auto back = parse(row.name);
    REQUIRE(back.has_value());
    CHECK(*back == row.value);
    std::ostringstream printed;
    printed << row.value;
    CHECK(printed.str() == row.name);
  }
}

}  // namespace

TEST_CASE("outcome table: every row round-trips, other text is refused", "[result]") {
  CHECK(outcome_table.size() == static_cast<std::size_t>(Outcome::not_sent) + 1);
  check_table(outcome_table, parse_outcome);
  CHECK_FALSE(parse_outcome("OK").has_value());
  CHECK_FALSE(parse_outcome("timed_out").has_value());
  CHECK(parse_outcome("") == Outcome::none);
}

TEST_CASE("scenario status table: every row round-trips, other text is refused", "[result]") {
  CHECK(scenario_status_table.size() == static_cast<std::size_t>(ScenarioStatus::interrupted) + 1);
  check_table(scenario_status_table, parse_scenario_status);
  CHECK_FALSE(parse_scenario_status("passed").has_value());
  CHECK(parse_scenario_status("") == ScenarioStatus::none);
}

TEST_CASE("check state table: every row round-trips, other text is refused", "[result]") {
  CHECK(check_state_table.size() == static_cast<std::size_t>(CheckState::not_applicable) + 1);
  check_table(check_state_table, check_state_from_string);
  CHECK_FALSE(check_state_from_string("").has_value());
  CHECK_FALSE(check_state_from_string("n/a").has_value());
}

TEST_CASE("classification table: every row round-trips through its text form, http_answer with its status",
          "[result]") {
  CHECK(classification_table.size() == static_cast<std::size_t>(Classification::http_answer) + 1);
  std::set<std::string> names;
  for (const auto& row : classification_table) {
    INFO("row \"" << row.name << "\"");
    CHECK(std::string(to_string(row.value)) == row.name);
    CHECK(std::string(describe(row.value)) == row.description);
    CHECK_FALSE(std::string(row.description).empty());
    CHECK(names.insert(row.name).second);
    const std::string text = classification_text(row.value, 502);
    if (row.value == Classification::http_answer) {
      CHECK(text == "http_502");
    } else {
      CHECK(text == row.name);  // the status matters to http_answer only
    }
    const auto back = parse_classification(text);
    REQUIRE(back.has_value());
    CHECK(*back == row.value);
  }
  CHECK(classification_text(Classification::http_answer, 500) == "http_500");
  // The pattern is a description, not a value any writer produces.
  CHECK_FALSE(parse_classification("http_NNN").has_value());
  CHECK_FALSE(parse_classification("http_").has_value());
  CHECK_FALSE(parse_classification("http_5x").has_value());
  CHECK_FALSE(parse_classification("late_ok").has_value());
}

TEST_CASE("a suite report of today's format loads, and writes back identical", "[result]") {
  const nlohmann::json saved = read_json("suite-rrkit-suite-1.json");
  const SuiteResult suite = read_json_report(data_dir + "suite-rrkit-suite-1.json");
  REQUIRE(suite.scenarios.size() == 4);
  const ScenarioResult& s = suite.scenarios[0];
  CHECK(s.status == ScenarioStatus::fail);
  CHECK(suite.scenarios[1].status == ScenarioStatus::error);
  CHECK(suite.scenarios[2].status == ScenarioStatus::interrupted);
  CHECK(suite.scenarios[3].status == ScenarioStatus::pass);
  CHECK(suite.exit_code() == 2);
  REQUIRE(s.checks.size() == 3);
  CHECK(s.checks[0].state == CheckState::pass);
  CHECK(s.checks[1].state == CheckState::fail);
  CHECK(s.checks[2].state == CheckState::not_applicable);
  REQUIRE(s.requests.size() == 13);
  const std::vector<std::pair<Outcome, Classification>> want = {
      {Outcome::ok, Classification::ok},
      {Outcome::ok, Classification::mis_correlated},
      {Outcome::ok, Classification::unparseable_answer},
      {Outcome::ok, Classification::unverified_answer},
      {Outcome::timeout, Classification::expected_timeout},
      {Outcome::timeout, Classification::late_reply},
      {Outcome::timeout, Classification::lost_reply},
      {Outcome::timeout, Classification::not_consumed},
      {Outcome::rejected, Classification::rejected},
      {Outcome::error, Classification::http_answer},
      {Outcome::disconnected, Classification::disconnected},
      {Outcome::no_answer, Classification::no_answer},
      {Outcome::interrupted, Classification::interrupted},
  };
  for (std::size_t i = 0; i < want.size(); ++i) {
    INFO("request " << i);
    CHECK(s.requests[i].outcome == want[i].first);
    CHECK(s.requests[i].classification == want[i].second);
  }
  CHECK(s.requests[9].classification_text() == "http_502");
  CHECK(s.classifications.at("http_502") == 1);
  CHECK(s.counts.at("timeout") == 4);
  // Written back, the report is the same JSON value: every name, enum text and number as today's writer put it.
  CHECK(to_json(suite) == saved);
}

TEST_CASE("history lines of today's format load with their bodies and write back identical", "[result]") {
  std::ifstream in(data_dir + "history-rrkit-suite-1.jsonl");
  REQUIRE(in);
  std::vector<RequestRecord> records;
  for (std::string line; std::getline(in, line);) {
    const auto j = nlohmann::json::parse(line);
    records.push_back(request_from_json(j));
    nlohmann::json back = to_json(records.back());
    back["request_body"] = records.back().request_body;
    back["response_body"] = records.back().response_body;
    CHECK(back == j);
  }
  REQUIRE(records.size() == 3);
  CHECK(records[0].outcome == Outcome::ok);
  CHECK(records[0].classification == Classification::ok);
  CHECK(records[0].request_body == "{\"action\":\"echo\",\"nonce\":\"n0\"}");
  CHECK(records[1].outcome == Outcome::error);
  CHECK(records[1].classification_text() == "http_500");
  // A line written before the checker ran (or by the traffic loop alone) has empty texts: none, not an error.
  CHECK(records[2].outcome == Outcome::none);
  CHECK(records[2].classification == Classification::none);
}

TEST_CASE("an enum text no table knows is an error that names the path and the known names", "[result]") {
  nlohmann::json j = read_json("suite-rrkit-suite-1.json");
  j["scenarios"][0]["requests"][3]["outcome"] = "timed_out";
  CHECK_THROWS_WITH(suite_from_json(j), Catch::Contains("scenarios[0].requests[3].outcome: expected one of") &&
                                            Catch::Contains("\"no_answer\"") && Catch::Contains("got \"timed_out\""));
  j = read_json("suite-rrkit-suite-1.json");
  j["scenarios"][1]["status"] = "passed";
  CHECK_THROWS_WITH(suite_from_json(j), Catch::Contains("scenarios[1].status: expected one of"));
  j = read_json("suite-rrkit-suite-1.json");
  j["scenarios"][0]["requests"][0]["classification"] = "http_NNN";
  CHECK_THROWS_WITH(suite_from_json(j), Catch::Contains("scenarios[0].requests[0].classification"));
  j = read_json("suite-rrkit-suite-1.json");
  j["scenarios"][0]["checks"][0]["state"] = "skipped";
  CHECK_THROWS_WITH(suite_from_json(j), Catch::Contains("scenarios[0].checks[0].state: expected one of"));
}

}  // namespace result_test
