#include <algorithm>
#include <random>

#include <catch2/catch.hpp>

#include "simulator/decide.h"

namespace decide_test {

using namespace rrkit::simulator;
using namespace std::chrono_literals;

namespace {
std::shared_ptr<const Profile> profile_of(const std::string& yaml) {
  auto r = parse_profile(yaml, "test");
  if (!r) FAIL(r.error->to_string());
  return r.profile;
}

std::vector<double> samples(const std::string& delay, int n, std::uint64_t seed = 42) {
  std::string err;
  const auto spec = parse_delay_short(delay, err);
  REQUIRE(spec);
  std::vector<double> out;
  for (int i = 0; i < n; ++i) {
    Rng rng = stream(seed, "id-" + std::to_string(i), "r", "delay");
    out.push_back(static_cast<double>(sample(*spec, rng, 1s).count()));
  }
  std::sort(out.begin(), out.end());
  return out;
}
double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}
double quantile(const std::vector<double>& sorted, double q) {
  return sorted[static_cast<std::size_t>(q * static_cast<double>(sorted.size() - 1))];
}

const char* kMixed = R"(
default: {delay: 'exponential:20ms'}
rules:
  - {name: lost, fraction: 0.1, drop: true}
  - {name: dup, fraction: 0.1, duplicate: {copies: 3, spacing: 5ms}}
  - {name: bad, fraction: 0.2, corrupt: 0.3, missing_id: 0.3, wrong_id: {mode: random, probability: 0.5}, error: 0.5}
  - {name: slow, match: {field: data.kind, equals: slow}, delay: 'lognormal:100ms,0.5'}
)";
}  // namespace

TEST_CASE("decide: shuffled arrival order gives identical decisions", "[decide]") {
  const auto p = profile_of(kMixed);
  std::vector<std::pair<std::string, nlohmann::json>> requests;
  for (int i = 0; i < 500; ++i) {
    nlohmann::json body{{"correlationId", "cid-" + std::to_string(i)}, {"data", {{"kind", i % 7 == 0 ? "slow" : "fast"}}}};
    requests.emplace_back("cid-" + std::to_string(i), body);
  }
  const auto run = [&](const std::vector<std::pair<std::string, nlohmann::json>>& order, std::uint64_t seed) {
    std::map<std::string, Decision> out;
    for (const auto& [id, body] : order) out[id] = decide(*p, seed, id, RequestView{&body, nullptr});
    return out;
  };
  const auto first = run(requests, 9);
  auto shuffled = requests;
  std::mt19937 g(123);
  std::shuffle(shuffled.begin(), shuffled.end(), g);
  CHECK(run(shuffled, 9) == first);
  // A different seed changes something, so the test above can fail.
  CHECK(run(requests, 10) != first);
  // Every rule was chosen at least once and the fractions are roughly right.
  std::map<std::string, int> by_rule;
  for (const auto& [id, d] : first) ++by_rule[d.rule];
  CHECK(by_rule["lost"] > 25);
  CHECK(by_rule["lost"] < 80);
  CHECK(by_rule["slow"] > 20);
  CHECK(by_rule["default"] > 100);
}

TEST_CASE("decide: a decision depends on seed, id and rule only", "[decide]") {
  const auto p = profile_of(kMixed);
  nlohmann::json a{{"correlationId", "x"}, {"data", {{"kind", "fast"}}}, {"nonce", 1}};
  nlohmann::json b{{"correlationId", "x"}, {"data", {{"kind", "fast"}}}, {"nonce", 2}};
  CHECK(decide(*p, 1, "x", RequestView{&a, nullptr}) == decide(*p, 1, "x", RequestView{&b, nullptr}));
}

TEST_CASE("decide: rule matching on body fields, headers and fractions", "[decide]") {
  const auto p = profile_of(R"(
rules:
  - {name: by-field, match: {field: data.kind, equals: slow}, error: true}
  - {name: by-number, match: {field: data.n, in: [5, 6]}, error: true}
  - {name: by-header, match: {header: x-mode, equals: chaos}, error: true}
  - {name: has-flag, match: {field: flag, exists: true}, error: true}
  - {name: none, fraction: 0, error: true}
  - {name: all, match: {field: data.kind, equals: everything}, fraction: 1, error: true}
)");
  const auto rule_for = [&](const nlohmann::json& body, Headers headers = {}) {
    return decide(*p, 1, "id", RequestView{&body, &headers}).rule;
  };
  CHECK(rule_for({{"data", {{"kind", "slow"}}}}) == "by-field");
  CHECK(rule_for({{"data", {{"kind", "fast"}}}}) == "default");
  CHECK(rule_for({{"data", {{"n", 6}}}}) == "by-number");
  CHECK(rule_for({{"data", {{"n", "5"}}}}) == "by-number");
  CHECK(rule_for({{"data", {{"n", 7}}}}) == "default");
  CHECK(rule_for({{"a", 1}}, {{"x-mode", "chaos"}}) == "by-header");
  CHECK(rule_for({{"flag", nullptr}}) == "has-flag");
  CHECK(rule_for({{"data", {{"kind", "everything"}}}}) == "all");
  CHECK(rule_for(nlohmann::json::array()) == "default");
  // A body that is not JSON only matches header rules.
  Headers h{{"x-mode", "chaos"}};
  CHECK(decide(*p, 1, "id", RequestView{nullptr, &h}).rule == "by-header");
}

TEST_CASE("decide: faults are exclusive and a drop sends nothing", "[decide]") {
  const auto p = profile_of("default: {drop: 0.5, corrupt: 0.5, missing_id: 0.5, wrong_id: random, error: 0.5, duplicate: 2}");
  int drops = 0;
  for (int i = 0; i < 200; ++i) {
    const auto d = decide(*p, 3, "id" + std::to_string(i), RequestView{});
    const int faults = (d.corrupt ? 1 : 0) + (d.missing_id ? 1 : 0) + (d.wrong_id != WrongId::none ? 1 : 0) + (d.error ? 1 : 0);
    if (d.drop) {
      ++drops;
      CHECK(d.copies == 0);
      CHECK(faults == 0);
    } else {
      CHECK(d.copies == 2);
      CHECK(faults == 1);
      if (d.wrong_id == WrongId::random) CHECK(d.random_id.size() == 36);
    }
  }
  CHECK(drops > 70);
  CHECK(drops < 130);
}

TEST_CASE("decide: distributions have the right mean and quantiles", "[decide]") {
  const int n = 20000;
  SECTION("constant") { CHECK(mean(samples("constant:7ms", 100)) == 7000); }
  SECTION("uniform") {
    const auto s = samples("uniform:10ms,30ms", n);
    CHECK(mean(s) == Approx(20000).epsilon(0.02));
    CHECK(s.front() >= 10000);
    CHECK(s.back() <= 30000);
    CHECK(quantile(s, 0.25) == Approx(15000).epsilon(0.03));
  }
  SECTION("normal") {
    const auto s = samples("normal:100ms,10ms", n);
    CHECK(mean(s) == Approx(100000).epsilon(0.01));
    CHECK(quantile(s, 0.5) == Approx(100000).epsilon(0.01));
    CHECK(quantile(s, 0.8413) == Approx(110000).epsilon(0.02));
  }
  SECTION("normal is clamped at zero") { CHECK(samples("normal:1ms,10ms", 2000).front() == 0); }
  SECTION("lognormal") {
    const auto s = samples("lognormal:50ms,0.5", n);
    CHECK(quantile(s, 0.5) == Approx(50000).epsilon(0.03));
    CHECK(mean(s) == Approx(50000 * std::exp(0.125)).epsilon(0.03));
  }
  SECTION("exponential") {
    const auto s = samples("exponential:20ms", n);
    CHECK(mean(s) == Approx(20000).epsilon(0.03));
    CHECK(quantile(s, 0.5) == Approx(20000 * std::log(2.0)).epsilon(0.04));
  }
  SECTION("pareto") {
    const auto s = samples("pareto:10ms,3", n);
    CHECK(s.front() >= 10000);
    CHECK(mean(s) == Approx(15000).epsilon(0.05));  // scale * alpha / (alpha - 1)
    CHECK(quantile(s, 0.5) == Approx(10000 * std::pow(2.0, 1.0 / 3)).epsilon(0.03));
  }
  SECTION("timeout plus") { CHECK(samples("timeout+250ms", 10).front() == 1250000); }
  SECTION("same seed, same samples; other seed, other samples") {
    CHECK(samples("exponential:20ms", 100, 1) == samples("exponential:20ms", 100, 1));
    CHECK(samples("exponential:20ms", 100, 1) != samples("exponential:20ms", 100, 2));
  }
}

TEST_CASE("decide: a match on a list index too large for any integer does not match (and does not throw)", "[decide]") {
  const auto p = profile_of(R"(
rules:
  - {name: far, match: {field: items.99999999999999999999, exists: true}, drop: true}
  - {name: near, match: {field: items.1, equals: b}, error: true}
)");
  const nlohmann::json body{{"items", {"a", "b"}}};
  const RequestView view{&body, nullptr};
  CHECK(find_path(body, "items.99999999999999999999") == nullptr);
  CHECK(find_path(body, "items.18446744073709551615") == nullptr);
  const auto d = decide(*p, 1, "id-1", view);
  CHECK(d.rule == "near");
  CHECK(d.error);
}

}  // namespace decide_test
