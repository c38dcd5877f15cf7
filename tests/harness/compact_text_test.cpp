// A long run holds one RequestRecord per request: its texts must read as the strings they replace, and
// the record must stay small (a million of them are held while a 1M-request run is judged).
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/compact_text.h"
#include "harness/result.h"

namespace compact_text_test {

using namespace rrkit::harness;

namespace {

template <typename T>
void reads_as_string(const std::string& text) {
  INFO(text.size());
  T t = text;
  CHECK(t == text);
  CHECK(t == std::string_view(text));
  CHECK(t.str() == text);
  CHECK(t.size() == text.size());
  CHECK(t.empty() == text.empty());
  T copy = t;
  CHECK(copy == t);
  T moved = std::move(copy);
  CHECK(moved == text);
  CHECK(copy.empty());  // NOLINT: a moved-from text is empty, as documented
  T assigned;
  assigned = moved;
  CHECK(assigned == text);
  // Assigned from a view of itself: the old text is copied before it is released.
  assigned = std::string_view(assigned).substr(text.empty() ? 0 : 1);
  CHECK(assigned == (text.empty() ? text : text.substr(1)));
  std::ostringstream out;
  out << moved;
  CHECK(out.str() == text);
  CHECK(fmt::format("<{}>", moved) == "<" + text + ">");
  CHECK(nlohmann::json(moved) == text);
  const std::string back = moved;
  CHECK(back == text);
  moved.clear();
  CHECK(moved.empty());
}

}  // namespace

TEST_CASE("compact texts read, copy, move and compare as the strings they hold", "[unit]") {
  for (const std::string& text : {std::string(), std::string("ok"), std::string(15, 'a'), std::string(16, 'b'),
                                  std::string(23, 'c'), std::string(24, 'd'), std::string(39, 'e'),
                                  std::string(40, 'f'), std::string(5000, 'g')}) {
    reads_as_string<InlineText<16>>(text);
    reads_as_string<InlineText<24>>(text);
    reads_as_string<InlineText<40>>(text);
    reads_as_string<HeapText>(text);
  }
  const InlineText<40> id = "3f1c2a9e-7d4b-4c1e-9a2f-0b8d6e5c4a31";
  CHECK(id == "3f1c2a9e-7d4b-4c1e-9a2f-0b8d6e5c4a31");
  CHECK("3f1c2a9e-7d4b-4c1e-9a2f-0b8d6e5c4a31" == id);
  CHECK(id != "3f1c2a9e");
  CHECK(id.find("7d4b") == 9u);
  CHECK(id.find("zz") == InlineText<40>::npos);
  CHECK(InlineText<16>("a") < InlineText<16>("b"));
}

TEST_CASE("a request record is compact: 36-character ids and short texts are held without a heap block", "[unit]") {
  // Before: 288 bytes, plus a 48-byte heap block for every correlation id (std::string's inline room is 15).
  STATIC_REQUIRE(sizeof(RequestRecord) <= 176);
  STATIC_REQUIRE(sizeof(InlineText<40>) == 40);
  STATIC_REQUIRE(sizeof(HeapText) == 8);
  RequestRecord r;
  r.correlation_id = "3f1c2a9e-7d4b-4c1e-9a2f-0b8d6e5c4a31";
  r.nonce = "rr-123456789-1000000";
  r.simulator_rule = "default";
  r.simulator_action = "ok after 1100ms";
  // Inline: the texts live inside the record itself.
  const auto* begin = reinterpret_cast<const char*>(&r);
  const auto* end = begin + sizeof r;
  for (std::string_view t : {std::string_view(r.correlation_id), std::string_view(r.nonce),
                             std::string_view(r.simulator_rule), std::string_view(r.simulator_action)}) {
    CHECK(t.data() >= begin);
    CHECK(t.data() + t.size() <= end);
  }
}

}  // namespace compact_text_test
