#include <catch2/catch.hpp>

#include <unordered_map>

#include <set>
#include <thread>
#include <vector>

#include "common/ids.h"

namespace ids_test {

TEST_CASE("correlation ids are distinct UUIDv4 strings") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto id = rrkit::new_uuid_v4();
    REQUIRE(rrkit::looks_like_uuid(id));
    CHECK(id[14] == '4');  // version nibble
    CHECK(std::string("89ab").find(id[19]) != std::string::npos);  // RFC 4122 variant
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
}

TEST_CASE("ids drawn on several threads, across refills of each thread's random bytes, never repeat") {
  // 600 ids per thread use three 4 KiB draws of kernel randomness each.
  std::vector<std::vector<std::string>> drawn(4);
  std::vector<std::thread> threads;
  for (auto& ids : drawn) {
    threads.emplace_back([&ids] {
      for (int i = 0; i < 600; ++i) ids.push_back(rrkit::new_uuid_v4());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> seen;
  for (const auto& ids : drawn) {
    for (const auto& id : ids) {
      CHECK(id.find_first_not_of("0123456789abcdef-") == std::string::npos);  // canonical lowercase
      seen.insert(id);
    }
  }
  CHECK(seen.size() == 4 * 600);
}

TEST_CASE("looks_like_uuid rejects other shapes") {
  CHECK_FALSE(rrkit::looks_like_uuid(""));
  CHECK_FALSE(rrkit::looks_like_uuid("not-a-uuid"));
  CHECK_FALSE(rrkit::looks_like_uuid("0123456789abcdef0123456789abcdef0123"));
}

TEST_CASE("ids: a correlation id keeps its text's hash, and equality and order are the text's") {
  const rrkit::CorrelationId a("00000000-0000-4000-8000-000000000001");
  const rrkit::CorrelationId same(std::string("00000000-0000-4000-8000-000000000001"));
  const rrkit::CorrelationId b("00000000-0000-4000-8000-000000000002");
  CHECK(a == same);
  CHECK(a.hash() == same.hash());
  CHECK(a.hash() == std::hash<std::string_view>{}(a.str()));
  CHECK(rrkit::CorrelationIdHash{}(a) == a.hash());
  CHECK_FALSE(a == b);
  CHECK(a < b);
  CHECK((b <=> a) == std::strong_ordering::greater);
  CHECK(rrkit::CorrelationId().empty());
  CHECK(rrkit::CorrelationId() == rrkit::CorrelationId(""));
  // In a table: found by an equal id built elsewhere, not by another.
  std::unordered_map<rrkit::CorrelationId, int, rrkit::CorrelationIdHash> table{{a, 1}};
  CHECK(table.count(same) == 1);
  CHECK(table.count(b) == 0);
}

TEST_CASE("ids: a correlation id of any length survives copies, moves and assignments whole") {
  const std::string uuid = "00000000-0000-4000-8000-000000000001";  // kept inside the object
  const std::string longer(200, 'x');                              // kept on the heap
  const std::string just_over(rrkit::CorrelationId::kInline + 1, 'y');
  for (const std::string& text : {std::string(), std::string("short"), uuid, just_over, longer}) {
    INFO(text.size() << " characters");
    const rrkit::CorrelationId original(text);
    CHECK(original.str() == text);
    CHECK(original.hash() == std::hash<std::string_view>{}(text));

    rrkit::CorrelationId copy(original);
    CHECK(copy == original);
    CHECK(copy.str() == text);
    rrkit::CorrelationId moved(std::move(copy));
    CHECK(moved.str() == text);
    CHECK(copy.empty());  // NOLINT(bugprone-use-after-move): a moved-from id is the empty id
    CHECK(copy == rrkit::CorrelationId());

    // Assignment over every kind of text, and onto itself.
    for (const std::string& other : {std::string(), uuid, longer}) {
      rrkit::CorrelationId target(other);
      target = original;
      CHECK(target.str() == text);
      rrkit::CorrelationId source(original);
      rrkit::CorrelationId target2(other);
      target2 = std::move(source);
      CHECK(target2 == original);
      CHECK(source.empty());  // NOLINT(bugprone-use-after-move)
    }
    rrkit::CorrelationId self(original);
    const rrkit::CorrelationId& alias = self;
    self = alias;
    CHECK(self.str() == text);
  }
}

}  // namespace ids_test
