// A long run holds one RequestRecord per request: its texts must read as the strings they replace, and
// the record must stay small (a million of them are held while a 1M-request run is judged).
#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <utility>
#include <vector>

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
    reads_as_string<AnswerText>(text);
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
  STATIC_REQUIRE(sizeof(AnswerText) == 8);
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

TEST_CASE("answers that differ only by the correlation id share one text and read back whole", "[unit]") {
  // rr-gateway's 504 body names the request's id and nothing else of it.
  const auto body = [](const std::string& id) { return R"({"correlationId":")" + id + R"(","error":"timeout","timeoutMs":500})"; };
  AnswerPatterns patterns;
  std::vector<std::string> ids;
  std::vector<AnswerText> kept;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(fmt::format("3f1c2a9e-7d4b-4c1e-9a2f-0b8d6e5c4a{:02}", i));
    kept.push_back(patterns.keep(body(ids.back()), ids.back()));
  }
  // The first of a shape keeps its own text; from the second on they share the pattern.
  CHECK_FALSE(kept[0].shared());
  CHECK(kept[0] == body(ids[0]));
  for (std::size_t i = 0; i < kept.size(); ++i) {
    INFO(i);
    CHECK(kept[i].shared() == (i > 0));
    CHECK(kept[i].text(ids[i]) == body(ids[i]));
  }
  // A shared text holds nothing of its own: only text(id) reads it, and copies and moves keep it.
  CHECK(kept[1].empty());
  AnswerText copy = kept[2];
  AnswerText moved = std::move(kept[3]);
  kept.clear();  // the pattern outlives the interner's other holders
  CHECK(copy.text(ids[2]) == body(ids[2]));
  CHECK(moved.text(ids[3]) == body(ids[3]));

  // Anything else keeps its own text: no id, an id absent from the answer or named twice, another shape.
  CHECK_FALSE(patterns.keep(body("x"), "").shared());
  CHECK_FALSE(patterns.keep(R"({"error":"timeout"})", ids[0]).shared());
  const std::string twice = body(ids[0]) + ids[0];
  const AnswerText doubled = patterns.keep(twice, ids[0]);
  CHECK_FALSE(doubled.shared());
  CHECK(doubled.text(ids[0]) == twice);
  const AnswerText other = patterns.keep(R"({"correlationId":")" + ids[1] + R"(","error":"overloaded"})", ids[1]);
  CHECK_FALSE(other.shared());
  CHECK(other.text(ids[1]) == R"({"correlationId":")" + ids[1] + R"(","error":"overloaded"})");
  // The earlier pattern is still shared by the next answer of its shape after a first one of another shape.
  const AnswerText again = patterns.keep(body(ids[4]), ids[4]);
  CHECK(again.shared());
  CHECK(again.text(ids[4]) == body(ids[4]));

  RequestRecord r;
  r.correlation_id = ids[2];
  r.response_body = copy;
  CHECK(r.response_text() == body(ids[2]));
  r.response_body = "own text";
  CHECK(r.response_text() == "own text");
}

}  // namespace compact_text_test
