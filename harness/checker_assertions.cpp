#include "harness/checker_assertions.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "harness/traffic.h"

namespace rrkit::harness {

namespace {

// Resolves one operand: a number, or a name of the table (filled for every name of assertion_operands()).
// A gateway figure that could not be read resolves to its reason, never to a number.
bool resolve_term(const std::string& token, const std::map<std::string, GatewayFigure>& table, double& out,
                  std::string& error, bool& not_applicable) {
  char* end = nullptr;
  const double v = std::strtod(token.c_str(), &end);
  if (!token.empty() && end && *end == '\0') {
    out = v;
    return true;
  }
  const auto it = table.find(token);
  if (it != table.end()) {
    if (!it->second.not_applicable.empty()) {
      error = token + ": " + it->second.not_applicable;
      not_applicable = true;
      return false;
    }
    if (!it->second.ok()) {
      error = token + " could not be read: " + it->second.unreadable;
      return false;
    }
    out = it->second.value;
    return true;
  }
  // class.http_NNN: a status nobody got is a count of zero.
  if (is_known_operand(token)) {
    out = 0;
    return true;
  }
  error = "unknown metric \"" + token + "\"";
  return false;
}

// Evaluates "a", "a / b", "a - b * 2" ...: operands and + - * / separated by spaces, left to right.
bool resolve(const std::string& expr, const std::map<std::string, GatewayFigure>& table, double& out,
             std::string& error, bool& not_applicable) {
  std::istringstream in(expr);
  std::string token;
  if (!(in >> token) || !resolve_term(token, table, out, error, not_applicable)) {
    if (error.empty()) error = "empty expression";
    return false;
  }
  std::string op;
  while (in >> op) {
    double rhs = 0;
    if (!(in >> token) || !resolve_term(token, table, rhs, error, not_applicable)) {
      if (error.empty()) error = "\"" + expr + "\": operator " + op + " needs an operand";
      return false;
    }
    if (op == "+") out += rhs;
    else if (op == "-") out -= rhs;
    else if (op == "*") out *= rhs;
    else if (op == "/") out = rhs == 0 ? 0 : out / rhs;
    else {
      error = "\"" + expr + "\": unknown operator " + op;
      return false;
    }
  }
  return true;
}

bool compare(double a, const std::string& op, double b) {
  if (op == "==") return std::fabs(a - b) < 1e-9;
  if (op == "!=") return std::fabs(a - b) >= 1e-9;
  if (op == ">=") return a >= b;
  if (op == "<=") return a <= b;
  if (op == ">") return a > b;
  return a < b;
}

void add_latency_operands(std::map<std::string, GatewayFigure>& table, const std::string& prefix,
                          const LatencySummary& l) {
  table[prefix + "p50"].value = l.p50;
  table[prefix + "p90"].value = l.p90;
  table[prefix + "p99"].value = l.p99;
  table[prefix + "p999"].value = l.p999;
  table[prefix + "max"].value = l.max;
  table[prefix + "mean"].value = l.mean;
  table[prefix + "count"].value = static_cast<double>(l.count);
}

}  // namespace

// ---- Figures derived for scenario assertions ------------------------------------------------------
// Operands (named in assertion_operands()):
//   expected.disconnects            requests the client was scripted to abandon (traffic.disconnect_*)
//   simulator.replies_out_of_order  confirmed replies produced before the reply to an earlier request
namespace {

// Which requests the client abandons is a pure function of (seed, index), so the count is exact.
double expected_disconnects(const Scenario& sc, const std::vector<RequestRecord>& requests) {
  TrafficPlan plan = sc.traffic;
  plan.seed = sc.seed;  // as the runner does: --seed overrides the file's seed for traffic too
  double n = 0;
  for (const auto& r : requests) n += abandons(plan, r.index) ? 1 : 0;
  return n;
}

// Evidence that the order of replies on Kafka changed, not only that the simulator decided to reorder.
// Requests taken in the order the simulator received them, a reply is out of order when it was handed
// to the producer (`sent_us`) before the reply to an earlier request. Only replies Kafka confirmed count
// (`reply` lines are written from the delivery report), and a request counts once, by its first
// confirmed copy. The producer keeps each partition's log in the order it was handed the replies; the
// delivery reports' own times (`delivered_us`) are no measure of that order, as they come back per
// partition batch: with no reordering at all, 200 of 410 replies were confirmed out of arrival order on
// a 4-partition run, against 0 by hand-over order. A reply to a request with no decision line cannot
// be placed and is skipped.
double replies_out_of_order(const DecisionLines& decisions) {
  // Tables of line positions by the log's string handles: 4 bytes per string, no copy of an id or a time
  // (a table of times and the list of (arrival, sent) pairs held 60 bytes per request at a long run's peak).
  constexpr std::uint32_t kNoLine = 0xFFFFFFFFu;
  const std::vector<DecisionLine>& lines = decisions.lines();
  std::vector<std::uint32_t> arrival(decisions.pool().size(), kNoLine);     // first decision line (a redelivery
  std::vector<std::uint32_t> first_sent(decisions.pool().size(), kNoLine);  // keeps it); earliest confirmed reply
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const DecisionLine& d = lines[i];
    const auto line = static_cast<std::uint32_t>(i);
    if (d.type == DecisionLineType::decision && d.id != 0 && arrival[d.id] == kNoLine) arrival[d.id] = line;
    if (d.type != DecisionLineType::reply || !d.delivered) continue;
    std::uint32_t& first = first_sent[d.request_id];
    if (first == kNoLine || d.sent_us < lines[first].sent_us) first = line;
  }
  std::size_t placed = 0;
  for (std::size_t id = 0; id < arrival.size(); ++id) placed += arrival[id] != kNoLine && first_sent[id] != kNoLine;
  std::vector<std::uint32_t> replies;  // ids, taken in (arrival, sent) order
  replies.reserve(placed);
  for (std::size_t id = 0; id < arrival.size(); ++id) {
    if (arrival[id] != kNoLine && first_sent[id] != kNoLine) replies.push_back(static_cast<std::uint32_t>(id));
  }
  const auto arrived = [&](std::uint32_t id) { return lines[arrival[id]].ts_us; };
  const auto sent_at = [&](std::uint32_t id) { return lines[first_sent[id]].sent_us; };
  std::sort(replies.begin(), replies.end(), [&](std::uint32_t a, std::uint32_t b) {
    return std::pair(arrived(a), sent_at(a)) < std::pair(arrived(b), sent_at(b));
  });
  double out_of_order = 0;
  std::int64_t latest = 0;
  for (const std::uint32_t id : replies) {
    if (sent_at(id) < latest) out_of_order += 1;
    latest = std::max(latest, sent_at(id));
  }
  return out_of_order;
}

void add_derived_operands(const CheckInput& in, const DecisionLines& decisions, const ScenarioResult& out,
                          std::map<std::string, GatewayFigure>& table) {
  table["expected.disconnects"].value = expected_disconnects(*in.scenario, out.requests);
  table["simulator.replies_out_of_order"].value = replies_out_of_order(decisions);
}

}  // namespace
// ---- end of derived figures ------------------------------------------------------------------------

std::string figure_text(double v) {
  if (std::fabs(v - std::round(v)) < 1e-9) return fmt::format("{:.0f}", v);
  return fmt::format("{:.3f}", v);
}

void check_assertions(const CheckInput& in, const AssertionFigures& figures, ScenarioResult& out) {
  const Scenario& sc = *in.scenario;
  const auto& sim = figures.simulator;
  const auto& want = figures.want;
  // Scenario assertions over counts, ratios and latency percentiles: every name of assertion_operands()
  // gets a value here (counts that never occurred are a real 0; gateway figures may be unreadable).
  std::map<std::string, GatewayFigure> table;
  for (const auto& op : assertion_operands()) table[op.name];
  table.erase("class.http_NNN");
  for (const auto& [k, v] : sim) table[k].value = v;
  table["sent"].value = static_cast<double>(out.requests.size());
  table["requests"].value = table["sent"].value;
  for (const auto& [k, v] : out.counts) table["outcome." + k].value = static_cast<double>(v);
  for (const auto& [k, v] : out.classifications) table["class." + k].value = static_cast<double>(v);
  for (const auto& [k, f] : figures.gateway) table["gateway." + k] = f;
  table["expected.matched"].value = want.matched;
  table["expected.late"].value = want.late;
  table["expected.duplicate"].value = want.duplicate;
  table["expected.unknown"].value = want.unknown;
  table["expected.malformed"].value = want.malformed;
  add_latency_operands(table, "latency.", out.latency);
  for (const auto& [o, l] : out.latency_by_outcome) add_latency_operands(table, "latency." + o + ".", l);
  add_derived_operands(in, figures.decisions, out, table);
  for (const auto& a : sc.assertions) {
    CheckResult c;
    c.name = "assert: " + a.text;
    double lhs = 0, rhs = 0;
    std::string error;
    bool not_applicable = false;
    if (!resolve(a.lhs, table, lhs, error, not_applicable) || !resolve(a.rhs, table, rhs, error, not_applicable)) {
      // A gateway figure the SUT does not expose cannot be judged: not applicable, never a pass.
      c.state = not_applicable ? CheckState::not_applicable : CheckState::fail;
      c.message = fmt::format("{}:{}: {}", sc.path, a.line, error);
    } else {
      c.state = compare(lhs, a.op, rhs) ? CheckState::pass : CheckState::fail;
      c.message = c.passed() ? fmt::format("{} = {}", a.lhs, figure_text(lhs))
                             : fmt::format("expected {} {} {}, got {} = {}", a.lhs, a.op, figure_text(rhs), a.lhs,
                                           figure_text(lhs));
    }
    out.checks.push_back(std::move(c));
  }}

}  // namespace rrkit::harness
