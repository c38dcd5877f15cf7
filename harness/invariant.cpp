#include "harness/invariant.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/gateway_metrics.h"
#include "harness/checker_assertions.h"
#include "harness/invariant_evidence.h"
#include "harness/memory.h"

namespace rrkit::harness {

namespace {

InvariantFindings per_request(const Offenders& o) {
  InvariantFindings f;
  f.problems = o.messages;
  f.requests = o.indexes;
  return f;
}

InvariantFindings reply_counters(const InvariantEvidence& e) {
  InvariantFindings f;
  std::vector<std::string> absent;  // reply classes the SUT has no counter for
  auto cmp = [&](gateway_metrics::ReplyClass c, double expected, double slack = 0) {
    const std::string_view cls = gateway_metrics::to_string(c);
    const auto it = e.figures.find("replies_" + std::string(cls));
    const GatewayFigure got = it == e.figures.end() ? GatewayFigure{0, "not read", {}} : it->second;
    if (!got.not_applicable.empty()) {
      absent.push_back(std::string(cls));
    } else if (!got.ok()) {
      f.unreadable.push_back(fmt::format("{}_replies: {}", cls, got.unreadable));
    } else if (!within(got.value, expected, slack)) {
      f.problems.push_back(slack > 0 ? fmt::format("expected {}_replies between {} and {} (up to {} sent by a killed "
                                                   "simulator without confirmation or reaching an instance that "
                                                   "joined or left mid-traffic), gateway counted {}",
                                                   cls, figure_text(expected), figure_text(expected + slack),
                                                   figure_text(slack), figure_text(got.value))
                                     : fmt::format("expected {}_replies == {}, gateway counted {}", cls, figure_text(expected),
                                                   figure_text(got.value)));
    }
  };
  using gateway_metrics::ReplyClass;
  cmp(ReplyClass::matched, e.want.matched, counter_slack(e.want, "matched"));
  cmp(ReplyClass::late, e.want.late, counter_slack(e.want, "late"));
  cmp(ReplyClass::duplicate, e.want.duplicate, counter_slack(e.want, "duplicate"));
  cmp(ReplyClass::unknown, e.want.unknown, counter_slack(e.want, "unknown"));
  cmp(ReplyClass::malformed, e.want.malformed, counter_slack(e.want, "malformed"));
  if (!absent.empty()) {
    std::string classes;
    for (const auto& a : absent) classes += (classes.empty() ? "" : ", ") + a;
    f.not_applicable = fmt::format("the SUT {} exposes no reply counter for {}", e.input.sut.name, classes);
  }
  return f;
}

InvariantFindings pending_drained(const InvariantEvidence& e) {
  InvariantFindings f;
  const CheckInput& in = e.input;
  if (!sut_series(in.sut, "pending")) {
    f.not_applicable = fmt::format("the SUT {} exposes no pending gauge", in.sut.name);
  } else if (!in.pending) {
    f.unreadable.push_back(in.pending_detail.empty() ? std::string("the pending figure was not read") : in.pending_detail);
  } else if (*in.pending != 0) {
    f.problems.push_back(fmt::format("{} request(s) still pending after the settle time", figure_text(*in.pending)));
  }
  return f;
}

// The RSS trend over the traffic rounds, and the pending gauge after each round's settle (harness/memory.h).
InvariantFindings memory_returns(const InvariantEvidence& e) {
  InvariantFindings f;
  const CheckInput& in = e.input;
  auto names = [](const std::vector<Invariant>& list) {
    return std::find(list.begin(), list.end(), Invariant::memory_returns) != list.end();
  };
  const bool named = in.scenario && (names(in.scenario->expect_violations) || names(in.scenario->allow));
  if (!in.scenario || (in.scenario->rounds < 2 && !named)) {
    f.not_asked = true;
    return f;
  }
  const MemoryVerdict v = judge_memory(in.memory, in.scenario ? in.scenario->memory : MemoryJudgeConfig{});
  switch (v.state) {
    case CheckState::pass: break;
    case CheckState::fail: f.problems.push_back(v.detail); break;
    case CheckState::not_applicable: f.not_applicable = v.detail; break;
  }
  f.passed_detail = v.detail;
  return f;
}

const std::vector<InvariantInfo> kTable = {
    {Invariant::one_answer, "one_answer", "exactly one HTTP answer per request",
     "every request got exactly one HTTP answer",
     [](const InvariantEvidence& e) { return per_request(e.unanswered); }},
    {Invariant::no_mis_correlation, "no_mis_correlation", "no 200 carries another request's payload",
     "no 200 carries another request's payload (its nonce belongs to another request of the run)",
     [](const InvariantEvidence& e) { return per_request(e.mis_correlated); }},
    {Invariant::verified_answers, "verified_answers",
     "every 200 carries a readable payload that verifies as its own request's",
     "every 200 carries a readable payload whose nonce, echo and digest verify as its own request's",
     [](const InvariantEvidence& e) { return per_request(e.unverified); }},
    {Invariant::timeout_bounds, "timeout_bounds", "every 504 within [timeout, timeout + {epsilon_ms} ms]",
     "every 504 arrives within [timeout, timeout + epsilon]",
     [](const InvariantEvidence& e) { return per_request(e.out_of_bounds); }},
    {Invariant::no_lost_replies, "no_lost_replies", "no 504 for a reply that was sent in time",
     "no 504 for a request whose reply the simulator sent well in time",
     [](const InvariantEvidence& e) { return per_request(e.lost); }},
    {Invariant::reply_counters, "reply_counters", "gateway reply counters equal what the simulator induced",
     "the gateways' matched/late/duplicate/unknown/malformed counters equal what the decision log induced",
     reply_counters},
    {Invariant::pending_drained, "pending_drained", "pending returns to 0 after the settle time",
     "pending is back to 0 after the settle time", pending_drained},
    {Invariant::no_crash, "no_crash", "no component died unless the scenario crashed it",
     "no component died unless the scenario crashed it",
     [](const InvariantEvidence& e) {
       InvariantFindings f;
       f.problems = e.input.unexpected_deaths;
       return f;
     }},
    {Invariant::memory_returns, "memory_returns", "memory is returned after timed-out requests",
     "gateway RSS does not keep growing round after round with the timed-out requests (traffic.rounds), and the "
     "pending gauge is 0 after each round's settle",
     memory_returns},
};

std::string join(const std::vector<std::string>& items) {
  std::string detail;
  for (std::size_t i = 0; i < items.size() && i < 5; ++i) detail += (i ? "; " : "") + items[i];
  if (items.size() > 5) detail += fmt::format("; ... {} in all", items.size());
  return detail;
}

bool listed(const std::vector<Invariant>& list, Invariant id) {
  return std::find(list.begin(), list.end(), id) != list.end();
}

}  // namespace

CheckResult judge_invariant(const Scenario& sc, Invariant id, const std::string& title, const InvariantFindings& found) {
  const std::string name = to_string(id);
  const auto& problems = found.problems;
  const auto& unreadable = found.unreadable;
  CheckResult c;
  c.name = name + ": " + title;
  const std::string detail = join(problems);
  const std::string cannot_judge = unreadable.empty() ? std::string() : "cannot judge: " + join(unreadable);
  if (listed(sc.expect_violations, id)) {
    c.name = name + ": must be detected (negative control)";
    if (!unreadable.empty()) {
      c.state = CheckState::fail;
      c.message = cannot_judge;
    } else {
      c.state = problems.empty() ? CheckState::fail : CheckState::pass;
      c.message = problems.empty() ? "expected the checker to report " + name + " violations, but it found none" +
                                         (found.not_applicable.empty() ? "" : " (" + found.not_applicable + ")")
                                   : fmt::format("detected as expected: {} violation(s): {}", problems.size(), detail);
    }
  } else if (listed(sc.allow, id)) {
    c.state = CheckState::pass;
    c.message = problems.empty() && unreadable.empty()
                    ? "waived by the scenario (none seen)"
                    : fmt::format("waived by the scenario ({} seen): {}", problems.size() + unreadable.size(),
                                  detail.empty() ? cannot_judge : cannot_judge.empty() ? detail : detail + "; " + cannot_judge);
  } else if (!unreadable.empty()) {
    c.state = CheckState::fail;
    c.message = problems.empty() ? cannot_judge : detail + "; " + cannot_judge;
  } else if (problems.empty() && !found.not_applicable.empty()) {
    c.state = CheckState::not_applicable;
    c.message = found.not_applicable;
  } else {
    c.state = problems.empty() ? CheckState::pass : CheckState::fail;
    c.message = problems.empty() ? (found.passed_detail.empty() ? "ok" : found.passed_detail) : detail;
  }
  return c;
}

const std::vector<InvariantInfo>& invariant_table() { return kTable; }

// Rows are in enum order, one per value (a unit test checks that row k has id k and that the last row
// is the last value), so an enum value indexes its row.
const InvariantInfo& info(Invariant i) { return kTable.at(static_cast<std::size_t>(i)); }

const char* to_string(Invariant i) { return info(i).name; }

std::optional<Invariant> parse_invariant(std::string_view name) {
  for (const auto& row : kTable) {
    if (name == row.name) return row.id;
  }
  return std::nullopt;
}

const std::vector<std::string>& invariant_names() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> n;
    for (const auto& row : kTable) n.emplace_back(row.name);
    return n;
  }();
  return names;
}

}  // namespace rrkit::harness
