// The bulk publish call as rr-gateway spells it: each body keeps its bytes inside the array, and
// daprd's answer to a failed call names entries of the call or is taken as naming all of them.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "gateway/bulk_publish.h"

namespace bulk_publish_test {

using rrkit::gateway::bulk_publish_body;
using rrkit::gateway::bulk_publish_target;
using rrkit::gateway::BulkPublishEntry;
using rrkit::gateway::parse_bulk_failures;

TEST_CASE("bulk publish target: daprd's alpha bulk route, encoded, raw payload") {
  CHECK(bulk_publish_target("rr-pubsub", "rr.requests") ==
        "/v1.0-alpha1/publish/bulk/rr-pubsub/rr.requests?metadata.rawPayload=true");
  CHECK(bulk_publish_target("a b", "t/x") == "/v1.0-alpha1/publish/bulk/a%20b/t%2Fx?metadata.rawPayload=true");
}

TEST_CASE("bulk publish body: each body travels as a string whose bytes are the client's") {
  const std::string big = R"({"correlationId":"c1","n":12345678901234567890,"f":2.50,"z":"\u00e9\n","a":[1,{"b":null}]})";
  std::vector<BulkPublishEntry> entries{
      {"0", big, {{"partitionKey", "c1"}, {"correlationId", "c1"}}},
      {"1", R"({"correlationId":"c2"})", {{"partitionKey", "c2"}}},
  };
  const auto doc = nlohmann::json::parse(bulk_publish_body(entries));
  REQUIRE(doc.is_array());
  REQUIRE(doc.size() == 2);
  CHECK(doc[0]["entryId"] == "0");
  CHECK(doc[0]["contentType"] == "text/plain");
  // The string decodes to exactly the bytes given: key order, the big number and 2.50 as written.
  CHECK(doc[0]["event"].get<std::string>() == big);
  CHECK(doc[0]["metadata"] == nlohmann::json{{"partitionKey", "c1"}, {"correlationId", "c1"}});
  CHECK(doc[1]["entryId"] == "1");
  CHECK(doc[1]["event"] == R"({"correlationId":"c2"})");
  CHECK(doc[1]["metadata"] == nlohmann::json{{"partitionKey", "c2"}});
}

TEST_CASE("bulk publish body: none and a body that is not UTF-8") {
  CHECK(bulk_publish_body({}) == "[]");
  std::vector<BulkPublishEntry> bad{{"0", std::string("\xff\xfe", 2), {}}};
  CHECK_THROWS_AS(bulk_publish_body(bad), nlohmann::json::type_error);
}

TEST_CASE("bulk failures: daprd's answer names the entries that failed") {
  const auto f = parse_bulk_failures(
      R"({"failedEntries":[{"entryId":"3","error":"kafka: broker down"},{"entryId":"7"}],"errorCode":"ERR_PUBSUB_PUBLISH_MESSAGE"})");
  CHECK(f.names_entries);
  CHECK(f.problem.empty());
  CHECK(f.error_code == "ERR_PUBSUB_PUBLISH_MESSAGE");
  REQUIRE(f.failed.size() == 2);
  CHECK(f.failed[0].entry_id == "3");
  CHECK(f.failed[0].error == "kafka: broker down");
  CHECK(f.failed[1].entry_id == "7");
  CHECK(f.failed[1].error.empty());
}

TEST_CASE("bulk failures: an answer that names no entry means every entry failed, and says why") {
  struct Case {
    const char* answer;
    const char* problem;
  };
  for (const Case& c : {Case{"", "not JSON"}, Case{"{\"failedEntries\":", "not JSON"}, Case{"[]", "not a JSON object"},
                        Case{R"({"errorCode":"ERR_PUBSUB_NOT_FOUND","message":"pubsub x not found"})", "no failedEntries array"},
                        Case{R"({"failedEntries":{}})", "no failedEntries array"},
                        Case{R"({"failedEntries":[]})", "failedEntries names no entry"},
                        Case{R"({"failedEntries":[1,"x",{"entryId":5},{"error":"e"}]})", "failedEntries names no entry"}}) {
    INFO(c.answer);
    const auto f = parse_bulk_failures(c.answer);
    CHECK_FALSE(f.names_entries);
    CHECK(f.failed.empty());
    CHECK(f.problem == c.problem);
  }
}

TEST_CASE("bulk failures: more failed entries than the call had is not believed") {
  const auto f = parse_bulk_failures(R"({"failedEntries":[{"entryId":"0"},{"entryId":"1"},{"entryId":"2"}]})", 2);
  CHECK_FALSE(f.names_entries);
  CHECK(f.failed.empty());
  CHECK(f.problem == "more failed entries than the call had");
}

}  // namespace bulk_publish_test
