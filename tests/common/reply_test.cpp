#include <catch2/catch.hpp>

#include "common/base64.h"
#include "common/digest.h"
#include "common/reply.h"

namespace reply_test {

TEST_CASE("sha256 matches a known vector") {
  CHECK(rrkit::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("reply payload is a deterministic function of the request") {
  const auto req = nlohmann::json::parse(R"({"action":"x","data":{"n":1},"nonce":"abc"})");
  const auto same = nlohmann::json::parse(R"({"nonce":"abc","data":{"n":1},"action":"x"})");
  CHECK(rrkit::reply_payload_for(req) == rrkit::reply_payload_for(same));
  CHECK(rrkit::payload_matches(same, rrkit::reply_payload_for(req)));
  const auto other = nlohmann::json::parse(R"({"action":"x","data":{"n":1},"nonce":"abd"})");
  CHECK_FALSE(rrkit::payload_matches(other, rrkit::reply_payload_for(req)));
  CHECK_FALSE(rrkit::payload_matches(req, nlohmann::json("not an object")));
}

TEST_CASE("reply envelope carries id and status") {
  const auto r = rrkit::make_reply("id-1", false, nlohmann::json::object());
  CHECK(r["correlationId"] == "id-1");
  CHECK(r["status"] == "error");
}


TEST_CASE("base64 round-trips and rejects garbage") {
  for (std::string s : {"", "a", "ab", "abc", "abcd", "{\"nonce\":\"x\"}"}) {
    CHECK(rrkit::base64_decode(rrkit::base64_encode(s)) == s);
  }
  CHECK(rrkit::base64_encode("{\"a\":1}") == "eyJhIjoxfQ==");
  CHECK(rrkit::base64_decode("YW\nJj") == std::string("abc"));
  // MIME-style wrapping anywhere, the padding included, is not part of the data.
  CHECK(rrkit::base64_decode(" YW\tJj\r\n") == std::string("abc"));
  CHECK(rrkit::base64_decode("YQ=\r\n=") == std::string("a"));
  CHECK(rrkit::base64_decode(" \n") == std::string());
  CHECK_FALSE(rrkit::base64_decode("YW J"));
  CHECK_FALSE(rrkit::base64_decode("abc"));
  CHECK_FALSE(rrkit::base64_decode("!!!!"));
}

}  // namespace reply_test
