// Reports of a suite run: JSON round trip, exit codes, JUnit well-formedness and escaping, the HTML page's
// self-containment and contents, the console summary. The last test case writes a sample HTML report from
// synthetic data to /tmp/rrkit-report-sample.html for looking at (e.g. rendered with headless Chromium).
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "harness/report.h"
#include "harness/result.h"

namespace report_test {

using namespace rrkit::harness;
using nlohmann::json;

namespace {

// Synthetic open-loop run: `n` requests at `rate` per second with a mix of outcomes shaped like a real chaos run
// (daprd killed for two seconds, an overload burst, a few client disconnects). Deterministic for a given seed.
ScenarioResult synthetic_scenario(const std::string& name, std::size_t n, std::uint64_t seed, double rate = 500) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> ok_latency(std::log(18.0), 0.45);
  std::uniform_real_distribution<double> unit(0, 1);
  ScenarioResult s;
  s.name = name;
  s.path = "scenarios/" + name + ".yaml";
  s.description = "Synthetic run: daprd-0 killed at 3 s and restarted at 5 s, an overload burst at 8 s.";
  s.seed = seed;
  s.started_us = 1'700'000'000'000'000;
  s.repro = fmt::format("rr-harness run {} --seed {}", s.path, seed);
  s.run_dir = "runs/20240101T000000Z/" + name;
  s.events = {"t=3.0s kill -9 daprd-0", "t=5.0s restart daprd-0", "t=8.0s set simulator profile overload",
              "t=9.5s set simulator profile happy"};
  const double timeout_ms = 1000;
  for (std::size_t i = 0; i < n; ++i) {
    RequestRecord r;
    r.index = i;
    r.nonce = fmt::format("n-{:06}", i);
    r.correlation_id = fmt::format("cid-{:08x}", static_cast<unsigned>(rng()));
    r.gateway = static_cast<int>(i % 3);
    const double t = static_cast<double>(i) / rate;
    r.intended_us = s.started_us + static_cast<std::int64_t>(t * 1e6);
    r.sent_us = r.intended_us + static_cast<std::int64_t>(unit(rng) * 300);
    double latency = ok_latency(rng);
    const double u = unit(rng);
    if (t >= 3.0 && t < 5.0 && u < 0.8) {
      r.outcome = Outcome::timeout, r.http_status = 504, r.classification = Classification::expected_timeout;
      latency = timeout_ms + unit(rng) * 25;
      r.simulator_action = "no reply (daprd down)";
    } else if (t >= 8.0 && t < 9.5 && u < 0.5) {
      r.outcome = Outcome::rejected, r.http_status = 503, r.classification = Classification::rejected;
      latency = 0.3 + unit(rng) * 2;
    } else if (u < 0.004) {
      r.outcome = Outcome::error, r.http_status = 502, r.classification = Classification::http_answer;
      latency = 2 + unit(rng) * 40;
    } else if (u < 0.006) {
      r.outcome = Outcome::disconnected, r.client_error = "disconnected", r.classification = Classification::disconnected;
      latency = 50;
    } else if (u < 0.0065) {
      r.outcome = Outcome::no_answer, r.classification = Classification::lost_reply;
      latency = -1;
    } else if (u < 0.03) {
      r.outcome = Outcome::timeout, r.http_status = 504, r.classification = Classification::expected_timeout;
      latency = timeout_ms + unit(rng) * 25;
      r.simulator_rule = "late";
      r.simulator_action = "reply after 1300ms";
    } else {
      r.outcome = Outcome::ok, r.http_status = 200, r.classification = Classification::ok;
      r.simulator_rule = "default";
      r.simulator_action = fmt::format("reply after {:.0f}ms", latency);
    }
    r.done_us = latency < 0 ? 0 : r.intended_us + static_cast<std::int64_t>(latency * 1000);
    ++s.counts[to_string(r.outcome)];
    ++s.classifications[r.classification_text()];
    s.requests.push_back(std::move(r));
  }
  s.counts["sent"] = n;
  std::vector<double> l;
  for (const auto& r : s.requests) {
    if (r.done_us > 0) l.push_back(r.latency_ms());
  }
  std::sort(l.begin(), l.end());
  auto pct = [&](double p) { return l.empty() ? 0.0 : l[std::min(l.size() - 1, static_cast<std::size_t>(p * static_cast<double>(l.size())))]; };
  s.latency = {pct(0.5), pct(0.9), pct(0.99), pct(0.999), l.empty() ? 0 : l.back(), 0, l.size()};
  for (const double v : l) s.latency.mean += v / static_cast<double>(l.size());
  s.simulator_counters = {{"late", static_cast<double>(s.classifications["expected_timeout"])}, {"duplicates", 12}};
  s.gateway_counters = {{"replies_late", static_cast<double>(s.classifications["expected_timeout"])},
                        {"replies_duplicate", 11}, {"pending", 0}};
  s.checks = {{"exactly one HTTP answer per request", true, ""},
              {"no 200 carries another request's nonce", true, ""},
              {"every 504 within [timeout, timeout + epsilon]", true, ""},
              {"gateway duplicate counter equals induced duplicates", false,
               "expected replies_duplicate == 12 (simulator induced), gateway counted 11"},
              {"pending back to 0 after settle", true, ""}};
  s.status = ScenarioStatus::fail;
  s.duration_s = static_cast<double>(n) / rate + 2.5;
  return s;
}

SuiteResult sample_suite() {
  SuiteResult suite;
  suite.started_at = "2024-01-01T00:00:00Z";
  suite.duration_s = 123.456;
  suite.machine = "2 cores, 23 GiB, Linux 6.1";
  suite.versions = {{"kafka", "4.3.1"}, {"daprd", "1.18.3"}, {"rrkit", "0.1.0"}};

  ScenarioResult happy;
  happy.name = "happy-path";
  happy.path = "scenarios/happy-path.yaml";
  happy.seed = 1;
  happy.status = ScenarioStatus::pass;
  happy.duration_s = 4.25;
  happy.repro = "rr-harness run scenarios/happy-path.yaml --seed 1";
  happy.counts = {{"sent", 3}, {"ok", 3}};
  happy.latency = {10, 12, 14, 14, 14, 11.5, 3};
  happy.checks = {{"exactly one HTTP answer per request", true, ""}};
  for (std::uint64_t i = 0; i < 3; ++i) {
    RequestRecord r;
    r.index = i;
    r.nonce = fmt::format("n{}", i);
    r.intended_us = r.sent_us = 1'000'000 + static_cast<std::int64_t>(i) * 1000;
    r.done_us = r.sent_us + 10'000 + static_cast<std::int64_t>(i) * 2000;
    r.http_status = 200;
    r.outcome = Outcome::ok;
    r.classification = Classification::ok;
    happy.requests.push_back(r);
  }
  suite.scenarios.push_back(happy);
  suite.scenarios.push_back(synthetic_scenario("daprd-killed", 600, 42));
  return suite;
}

// ----- a tiny XML well-formedness checker: tags balance, attributes quoted, entities valid, no raw controls.

bool valid_entity(std::string_view s, std::size_t amp, std::size_t& end) {
  const auto semi = s.find(';', amp);
  if (semi == std::string_view::npos || semi - amp > 10) return false;
  const auto name = s.substr(amp + 1, semi - amp - 1);
  end = semi + 1;
  if (name == "amp" || name == "lt" || name == "gt" || name == "quot" || name == "apos") return true;
  if (name.size() >= 2 && name[0] == '#') {
    const bool hex = name[1] == 'x';
    const auto digits = name.substr(hex ? 2 : 1);
    if (digits.empty()) return false;
    for (const char c : digits) {
      if (!(hex ? std::isxdigit(static_cast<unsigned char>(c)) : std::isdigit(static_cast<unsigned char>(c)))) return false;
    }
    const auto cp = std::stoul(std::string(digits), nullptr, hex ? 16 : 10);
    return cp == 0x9 || cp == 0xA || cp == 0xD || cp >= 0x20;
  }
  return false;
}

// Returns an error description, or nothing when the document is well-formed (for what reports produce).
std::optional<std::string> xml_problem(std::string_view s) {
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 && c != '\n' && c != '\r' && c != '\t') return fmt::format("raw control character 0x{:02x}", u);
  }
  std::vector<std::string> open;
  std::size_t i = 0;
  bool root_seen = false;
  while (i < s.size()) {
    if (s[i] == '&') {
      std::size_t end = 0;
      if (!valid_entity(s, i, end)) return fmt::format("bad entity at {}", i);
      i = end;
      continue;
    }
    if (s[i] != '<') {
      if (open.empty() && !std::isspace(static_cast<unsigned char>(s[i]))) return fmt::format("text outside root at {}", i);
      ++i;
      continue;
    }
    if (s.substr(i, 2) == "<?") {
      const auto e = s.find("?>", i);
      if (e == std::string_view::npos) return "unterminated processing instruction";
      i = e + 2;
      continue;
    }
    if (s.substr(i, 2) == "</") {
      const auto e = s.find('>', i);
      if (e == std::string_view::npos) return "unterminated end tag";
      const std::string name(s.substr(i + 2, e - i - 2));
      if (open.empty() || open.back() != name) return fmt::format("end tag </{}> does not match", name);
      open.pop_back();
      i = e + 1;
      continue;
    }
    // Start tag: name, then name="value" pairs, then > or />.
    std::size_t j = i + 1;
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '-' || s[j] == '_')) ++j;
    const std::string name(s.substr(i + 1, j - i - 1));
    if (name.empty()) return fmt::format("bad tag at {}", i);
    if (open.empty() && root_seen) return "second root element";
    root_seen = true;
    for (;;) {
      while (j < s.size() && s[j] == ' ') ++j;
      if (j >= s.size()) return "unterminated start tag";
      if (s[j] == '>') {
        open.push_back(name);
        ++j;
        break;
      }
      if (s.substr(j, 2) == "/>") {
        j += 2;
        break;
      }
      const auto eq = s.find('=', j);
      if (eq == std::string_view::npos || s[eq + 1] != '"') return fmt::format("unquoted attribute in <{}>", name);
      const auto close = s.find('"', eq + 2);
      if (close == std::string_view::npos) return "unterminated attribute";
      const auto value = s.substr(eq + 2, close - eq - 2);
      if (value.find('<') != std::string_view::npos) return fmt::format("raw < in attribute of <{}>", name);
      for (std::size_t k = 0; k < value.size(); ++k) {
        std::size_t end = 0;
        if (value[k] == '&' && !valid_entity(value, k, end)) return fmt::format("bad entity in attribute of <{}>", name);
      }
      j = close + 1;
    }
    i = j;
  }
  if (!open.empty()) return fmt::format("<{}> never closed", open.back());
  if (!root_seen) return "no root element";
  return std::nullopt;
}

std::string xml_unescape(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    const auto semi = s.find(';', i);
    const auto name = s.substr(i + 1, semi - i - 1);
    if (name == "amp") out += '&';
    else if (name == "lt") out += '<';
    else if (name == "gt") out += '>';
    else if (name == "quot") out += '"';
    else if (name == "apos" || name == "#39") out += '\'';
    else if (name == "#10") out += '\n';
    else if (name == "#13") out += '\r';
    else if (name == "#9") out += '\t';
    else out += "?";
    i = semi;
  }
  return out;
}

std::string attribute_of(const std::string& doc, const std::string& tag, const std::string& attr) {
  const auto t = doc.find("<" + tag + " ");
  REQUIRE(t != std::string::npos);
  const auto a = doc.find(" " + attr + "=\"", t);
  REQUIRE(a != std::string::npos);
  const auto start = a + attr.size() + 3;
  return xml_unescape(doc.substr(start, doc.find('"', start) - start));
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A private folder for one test case, removed when the test case ends (pass or fail).
struct scratch_dir {
  std::filesystem::path path =
      std::filesystem::temp_directory_path() / fmt::format("rrkit-report-test-{}", ::getpid());
  scratch_dir() { std::filesystem::create_directories(path); }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  scratch_dir(const scratch_dir&) = delete;
  scratch_dir& operator=(const scratch_dir&) = delete;
  std::filesystem::path operator/(const std::string& name) const { return path / name; }
};

}  // namespace

TEST_CASE("suite JSON round trip is exact") {
  SuiteResult suite = sample_suite();
  auto& s = suite.scenarios[1];
  s.seed = UINT64_MAX;                 // needs the unsigned JSON integer
  s.started_us = -5;                   // signed on purpose
  s.error = "quote \" tab \t newline \n unicode é ✓";
  s.requests[0].intended_us = INT64_MIN + 1;
  s.latency.p999 = 0.1 + 0.2;          // not exactly representable: must survive bit for bit
  s.gateway_counters["tiny"] = 1e-300;
  s.failing_requests = {3, 17};
  s.repro_requests = {s.repro + " --only 3", s.repro + " --only 17"};

  const std::string text = to_json(suite).dump();
  const SuiteResult back = suite_from_json(json::parse(text));
  CHECK(to_json(back) == to_json(suite));
  CHECK(back.scenarios[1].failing_requests == s.failing_requests);
  CHECK(back.scenarios[1].repro_requests == s.repro_requests);
  // Every report names each failing request with the command that sends just it.
  std::ostringstream console;
  print_console_summary(suite, console, false);
  CHECK(console.str().find("reproduce request #17: " + s.repro + " --only 17\n") != std::string::npos);
  CHECK(render_junit_report(suite).find("reproduce request #3: ") != std::string::npos);
  CHECK(render_html_report(suite).find("request #17 alone:") != std::string::npos);
  REQUIRE(back.scenarios.size() == 2);
  const auto& b = back.scenarios[1];
  CHECK(b.seed == UINT64_MAX);
  CHECK(b.started_us == -5);
  CHECK(b.error == s.error);
  CHECK(b.latency.p999 == s.latency.p999);
  CHECK(b.gateway_counters.at("tiny") == 1e-300);
  CHECK(b.requests.size() == s.requests.size());
  CHECK(b.requests[0].intended_us == INT64_MIN + 1);
  // Latency is derived from the times, never stored beside them (where it could disagree).
  CHECK_FALSE(to_json(s.requests[1]).contains("latency_ms"));
  CHECK(b.requests[1].latency_ms() == s.requests[1].latency_ms());
  CHECK(b.requests[7].simulator_action == s.requests[7].simulator_action);
  CHECK(b.checks[3].state == CheckState::fail);
  CHECK(b.checks[3].message == s.checks[3].message);
  CHECK(b.events == s.events);
  CHECK(back.versions == suite.versions);
  CHECK(back.exit_code() == suite.exit_code());

  // Through the file writer and reader as well (what `rr-harness replay` and --json use).
  const scratch_dir dir;
  const auto file = dir / "sub" / "report.json";
  write_json_report(suite, file);
  CHECK(to_json(read_json_report(file)) == to_json(suite));
  // One request per line, so the file stays greppable.
  const std::string text_on_disk = slurp(file);
  CHECK(text_on_disk.find("\n    {\"classification\":\"ok\",\"client_error\":\"\",\"correlation_id\"") !=
        std::string::npos);
  // Empty suites and scenarios without requests are written as valid JSON too.
  SuiteResult empty;
  write_json_report(empty, file);
  CHECK(to_json(read_json_report(file)) == to_json(empty));
  empty.scenarios.emplace_back().name = "no requests";
  write_json_report(empty, file);
  CHECK(to_json(read_json_report(file)) == to_json(empty));
  CHECK_FALSE(std::filesystem::exists(file.string() + fmt::format(".tmp.{}", ::getpid())));
}

TEST_CASE("request bodies stay out of reports but are read when present") {
  RequestRecord r;
  r.index = 4;
  r.request_body = R"({"nonce":"n4"})";
  r.response_body = R"({"correlationId":"c","status":"ok"})";
  const json j = to_json(r);
  CHECK_FALSE(j.contains("request_body"));
  CHECK_FALSE(j.contains("response_body"));
  json with_bodies = j;
  with_bodies["request_body"] = r.request_body;
  with_bodies["response_body"] = r.response_body;
  const RequestRecord back = request_from_json(with_bodies);
  CHECK(back.index == 4);
  CHECK(back.request_body == r.request_body);
  CHECK(back.response_body == r.response_body);
}

TEST_CASE("JSON reader names the bad field and keeps defaults for missing ones") {
  json j = to_json(sample_suite());
  j["scenarios"][1]["requests"][17]["sent_us"] = "yesterday";
  try {
    suite_from_json(j);
    FAIL("a string in sent_us was accepted");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find("scenarios[1].requests[17].sent_us") != std::string::npos);
    CHECK(std::string(e.what()).find("integer") != std::string::npos);
  }
  CHECK_THROWS_WITH(suite_from_json(json{{"format", "rrkit-suite/99"}}), Catch::Contains("rrkit-suite/1"));
  CHECK_THROWS_WITH(suite_from_json(json::array()), Catch::Contains("expected an object"));
  CHECK_THROWS_WITH(scenario_from_json(json{{"seed", -1}}), Catch::Contains("seed"));
  CHECK_THROWS_WITH(scenario_from_json(json{{"counts", {{"ok", "many"}}}}), Catch::Contains("counts.ok"));

  const ScenarioResult minimal = scenario_from_json(json{{"name", "x"}, {"status", "pass"}, {"future_field", 1}});
  CHECK(minimal.name == "x");
  CHECK(minimal.requests.empty());
  CHECK(minimal.latency.count == 0);

  const scratch_dir dir;
  CHECK_THROWS_WITH(read_json_report(dir / "missing.json"), Catch::Contains("missing.json"));
  std::ofstream(dir / "broken.json") << "{\"scenarios\": [";
  CHECK_THROWS_WITH(read_json_report(dir / "broken.json"), Catch::Contains("not valid JSON"));
}

TEST_CASE("exit code: 0 all pass, 1 any fail, 2 any error (error wins)") {
  SuiteResult s;
  CHECK(s.exit_code() == 0);
  auto with = [&](std::initializer_list<const char*> statuses) {
    SuiteResult r;
    for (const char* st : statuses) {
      ScenarioResult sc;
      sc.status = parse_scenario_status(st).value();
      r.scenarios.push_back(sc);
    }
    return r.exit_code();
  };
  CHECK(with({"pass", "pass"}) == 0);
  CHECK(with({"pass", "fail"}) == 1);
  CHECK(with({"fail", "error", "pass"}) == 2);
  CHECK(with({"error", "fail"}) == 2);
  CHECK(with({"pass", ""}) == 2);  // an unknown status is never taken for a pass
}

TEST_CASE("exit code of an interrupted run is 128 + the signal, and the JSON report says interrupted") {
  SuiteResult s;
  ScenarioResult sc;
  sc.name = "x";
  sc.status = ScenarioStatus::interrupted;
  s.scenarios.push_back(sc);
  s.interrupt_signal = 2;  // SIGINT
  CHECK(s.exit_code() == 130);
  const auto j = to_json(s);
  CHECK(j["interrupted"] == true);
  const SuiteResult back = suite_from_json(j);
  CHECK(back.interrupt_signal == 2);
  CHECK(back.exit_code() == 130);
  s.interrupt_signal = 15;  // SIGTERM
  CHECK(s.exit_code() == 143);
}

TEST_CASE("JUnit report is well-formed, escaped and carries the failure text") {
  SuiteResult suite = sample_suite();
  const std::string nasty = "expected \"a\" < 'b' & c > d\x01\x1f end \xff bad utf8";
  suite.scenarios[1].checks[3].message = nasty;
  suite.scenarios[1].name = "name with <angle> & \"quotes\"";
  ScenarioResult broken;
  broken.name = "kafka-paused";
  broken.status = ScenarioStatus::error;
  broken.error = "Kafka did not become ready within 60s";
  broken.repro = "rr-harness run scenarios/kafka-paused.yaml --seed 3";
  broken.run_dir = "runs/x/kafka-paused";
  suite.scenarios.push_back(broken);

  const std::string doc = render_junit_report(suite);
  INFO(doc.substr(0, 3000));
  const auto problem = xml_problem(doc);
  CHECK_FALSE(problem.has_value());
  if (problem) FAIL(*problem);

  CHECK(doc.find("<testsuite name=\"rrkit\" tests=\"3\" failures=\"1\" errors=\"1\"") != std::string::npos);
  CHECK(doc.find("classname=\"rrkit.scenarios\" name=\"happy-path\"") != std::string::npos);
  CHECK(attribute_of(doc, "testcase classname=\"rrkit.scenarios\" name=\"name", "name") ==
        "name with <angle> & \"quotes\"");
  // The failure headline is the first failing check's message, special characters intact after unescaping
  // (control characters shown as \xNN, the invalid byte as U+FFFD).
  CHECK(attribute_of(doc, "failure", "message") == "expected \"a\" < 'b' & c > d\\x01\\x1F end \xEF\xBF\xBD bad utf8");
  CHECK(doc.find("gateway duplicate counter equals induced duplicates: expected &quot;a&quot;") != std::string::npos);
  CHECK(doc.find("<error message=\"Kafka did not become ready within 60s\" type=\"infrastructure\">") !=
        std::string::npos);
  CHECK(doc.find("reproduce: rr-harness run scenarios/daprd-killed.yaml --seed 42") != std::string::npos);
  CHECK(doc.find("run folder: runs/x/kafka-paused") != std::string::npos);
  CHECK(doc.find("<system-out>") != std::string::npos);

  const scratch_dir dir;
  const auto file = dir / "junit.xml";
  write_junit_report(suite, file);
  CHECK(slurp(file) == doc);
}

TEST_CASE("HTML report is self-contained and has the summary, plots and every scenario") {
  SuiteResult suite = sample_suite();
  suite.scenarios[0].repro = "rr-harness run scenarios/happy-path.yaml --gateway-url http://127.0.0.1:8080 --seed 1";
  suite.scenarios[1].events.push_back("t=1.0s note https://example.invalid/x <b>not bold</b>");
  suite.scenarios.push_back(synthetic_scenario("mixed-chaos-soak", 20000, 7, 1000));
  suite.scenarios.back().status = ScenarioStatus::pass;
  const std::string page = render_html_report(suite);

  CHECK(page.find("http://") == std::string::npos);
  CHECK(page.find("https://") == std::string::npos);
  CHECK(page.find("<link") == std::string::npos);
  CHECK(page.find("<script src") == std::string::npos);
  CHECK(page.find("url(") == std::string::npos);
  CHECK(page.find("<b>not bold</b>") == std::string::npos);
  CHECK(page.find("&lt;b&gt;not bold&lt;/b&gt;") != std::string::npos);
  for (const auto& s : suite.scenarios) {
    CHECK(page.find(">" + s.name + "<") != std::string::npos);
    CHECK(page.find("aria-label=\"per-request timeline of " + s.name + "\"") != std::string::npos);
    CHECK(page.find("aria-label=\"latency histogram of " + s.name + "\"") != std::string::npos);
  }
  CHECK(page.find("<th>failing checks</th>") != std::string::npos);
  CHECK(page.find("expected replies_duplicate == 12 (simulator induced), gateway counted 11") != std::string::npos);
  CHECK(page.find("send time since scenario start (s)") != std::string::npos);
  CHECK(page.find("timeout (504)") != std::string::npos);  // legend
  CHECK(page.find("kill -9 daprd-0") != std::string::npos);
  // 20,000 requests are sampled down, and the plot says so.
  CHECK(page.find(fmt::format("showing {} of 20000 requests", html_max_plotted_requests)) != std::string::npos);
  // 600 requests are all drawn, no sampling note for them.
  CHECK(page.find("of 600 requests") == std::string::npos);

  const scratch_dir dir;
  const auto file = dir / "report.html";
  write_html_report(suite, file);
  CHECK(slurp(file) == page);
  // Stays a reasonable size at 20,000 requests.
  CHECK(page.size() < 4'000'000);
}

TEST_CASE("HTML report copes with empty and unanswered scenarios") {
  SuiteResult suite;
  ScenarioResult empty;
  empty.name = "empty";
  empty.status = ScenarioStatus::error;
  empty.error = "simulator did not start";
  suite.scenarios.push_back(empty);
  ScenarioResult lost;
  lost.name = "all-lost";
  lost.status = ScenarioStatus::fail;
  for (std::uint64_t i = 0; i < 10; ++i) {
    RequestRecord r;
    r.index = i;
    r.intended_us = r.sent_us = 1'000'000 * static_cast<std::int64_t>(i + 1);
    r.outcome = Outcome::no_answer;
    lost.requests.push_back(r);
  }
  suite.scenarios.push_back(lost);
  const std::string page = render_html_report(suite);
  CHECK(page.find("no requests") != std::string::npos);
  CHECK(page.find("no answered requests") != std::string::npos);
  CHECK(page.find("no answer") != std::string::npos);
  CHECK(page.find("simulator did not start") != std::string::npos);
  CHECK(page.find("nan") == std::string::npos);
  CHECK(page.find("inf\"") == std::string::npos);
}

TEST_CASE("console summary: table, failing checks with repro, totals line last") {
  SuiteResult suite = sample_suite();
  std::ostringstream plain;
  print_console_summary(suite, plain, false);
  const std::string out = plain.str();
  INFO(out);
  CHECK(out.find("scenario") == 0);
  for (const char* col : {"result", "time", "sent", "ok", "504", "503", "other", "p50", "p99"}) {
    CHECK(out.substr(0, out.find('\n')).find(col) != std::string::npos);
  }
  CHECK(out.find("happy-path") != std::string::npos);
  CHECK(out.find("gateway duplicate counter equals induced duplicates: expected replies_duplicate == 12") !=
        std::string::npos);
  CHECK(out.find("  reproduce: rr-harness run scenarios/daprd-killed.yaml --seed 42\n") != std::string::npos);
  CHECK(out.find("\x1b[") == std::string::npos);
  const std::string last_line = "scenarios: 1 passed, 1 failed\n";
  REQUIRE(out.size() > last_line.size());
  CHECK(out.substr(out.size() - last_line.size()) == last_line);
  CHECK(out[out.size() - last_line.size() - 1] == '\n');

  // Rows line up: every table line has the same width up to the p99 column.
  std::istringstream lines(out);
  std::string header, row1, row2;
  std::getline(lines, header);
  std::getline(lines, row1);
  std::getline(lines, row2);
  CHECK(header.size() == row1.size());
  CHECK(row1.size() == row2.size());

  ScenarioResult err;
  err.name = "broken";
  err.status = ScenarioStatus::error;
  err.error = "daprd exited with code 1";
  err.repro = "rr-harness run scenarios/broken.yaml --seed 9";
  suite.scenarios.push_back(err);
  std::ostringstream coloured;
  print_console_summary(suite, coloured, true);
  const std::string c = coloured.str();
  CHECK(c.find("\x1b[") != std::string::npos);
  CHECK(c.find("error: daprd exited with code 1") != std::string::npos);
  CHECK(c.find("reproduce: rr-harness run scenarios/broken.yaml --seed 9") != std::string::npos);
  const std::string totals = "\nscenarios: 1 passed, 1 failed, 1 errors\n";
  CHECK(c.substr(c.size() - totals.size()) == totals);
}

TEST_CASE("sample HTML report from synthetic data") {
  SuiteResult suite = sample_suite();
  suite.scenarios.push_back(synthetic_scenario("mixed-chaos-soak", 8000, 7, 800));
  suite.scenarios.back().status = ScenarioStatus::pass;
  for (auto& c : suite.scenarios.back().checks) c.state = CheckState::pass;
  const ScenarioResult& soak = suite.scenarios.back();

  // What the files say, checked in a private folder (other runs may write the shared sample at the same time).
  const scratch_dir dir;
  write_html_report(suite, dir / "report.html");
  write_json_report(suite, dir / "report.json");
  write_junit_report(suite, dir / "report.xml");
  const std::string page = slurp(dir / "report.html");
  CHECK(page == render_html_report(suite));
  CHECK(page.find("<title>rrkit report · 2 passed, 1 failed</title>") != std::string::npos);
  // Totals: 3 scenarios, 3 + 600 + 8000 requests.
  CHECK(page.find("<b>3</b>scenarios") != std::string::npos);
  CHECK(page.find("<b>8603</b>requests") != std::string::npos);
  for (const auto& s : suite.scenarios) {
    INFO(s.name);
    CHECK(page.find("aria-label=\"per-request timeline of " + s.name + "\"") != std::string::npos);
    CHECK(page.find("aria-label=\"latency histogram of " + s.name + "\"") != std::string::npos);
    CHECK(page.find("<pre>" + s.repro + "</pre>") != std::string::npos);
  }
  CHECK(page.find("<h3>checks (4 of 5 passed)</h3>") != std::string::npos);  // daprd-killed's one failure
  CHECK(page.find("<h3>checks (5 of 5 passed)</h3>") != std::string::npos);  // the soak, all passed
  CHECK(page.find(fmt::format("showing {} of 8000 requests", html_max_plotted_requests)) != std::string::npos);
  CHECK(page.find(fmt::format("over {} answered requests", soak.latency.count)) != std::string::npos);
  std::size_t unusual = 0;
  for (const auto& r : soak.requests) unusual += r.classification == Classification::ok ? 0 : 1;
  CHECK(page.find(fmt::format("requests not classified ok (50 of {} shown)", unusual)) != std::string::npos);
  CHECK(to_json(read_json_report(dir / "report.json")) == to_json(suite));
  const std::string junit = slurp(dir / "report.xml");
  CHECK_FALSE(xml_problem(junit).has_value());
  CHECK(junit.find("<testsuite name=\"rrkit\" tests=\"3\" failures=\"1\" errors=\"0\"") != std::string::npos);
  std::ostringstream console;
  print_console_summary(suite, console, false);
  const std::string totals = "\nscenarios: 2 passed, 1 failed\n";
  CHECK(console.str().substr(console.str().size() - totals.size()) == totals);

  // The shared sample, for looking at (e.g. rendered with headless Chromium).
  write_html_report(suite, "/tmp/rrkit-report-sample.html");
  write_json_report(suite, "/tmp/rrkit-report-sample.json");
  write_junit_report(suite, "/tmp/rrkit-report-sample.xml");
  std::ofstream("/tmp/rrkit-report-sample.txt") << console.str();
}

}  // namespace report_test
