#include "harness/checker.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <unordered_map>

#include <fmt/format.h>

#include "common/decision_record.h"
#include "common/gateway_metrics.h"
#include "common/json_limits.h"
#include "common/reply.h"
#include "harness/traffic.h"

namespace rrkit::harness {

namespace {

// Times in a replayed run folder are whatever the file says: arithmetic on them saturates instead
// of overflowing (undefined behaviour).
std::int64_t sat_add(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) return b > 0 ? INT64_MAX : INT64_MIN;
  return r;
}
std::int64_t sat_sub(std::int64_t a, std::int64_t b) {
  std::int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) return b < 0 ? INT64_MAX : INT64_MIN;
  return r;
}

using Json = nlohmann::json;

// How long a reply may take from the simulator's send to the gateway (Kafka + daprd delivery)
// before a 504 for it counts as a lost reply rather than a race with the deadline.
constexpr std::int64_t kDeliveryBudgetUs = 500'000;

std::string str_or_empty(const Json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

bool is_valid_reply_kind(const std::string& kind) { return kind == "ok" || kind == "error" || kind == "wrong_id"; }

// A decision line without a kind is an answer decided "ok" (the simulator's default).
std::string decision_kind(const DecisionRecord& d) { return d.kind.empty() ? "ok" : d.kind; }

std::string describe_decision(const DecisionRecord& d) {
  if (d.drop) return "drop";
  std::string s = decision_kind(d);
  if (d.delay_us > 0) s += fmt::format(" after {:.0f}ms", static_cast<double>(d.delay_us) / 1000.0);
  if (d.copies > 1) s += fmt::format(" x{}", d.copies);
  if (d.reorder) s += " reordered";
  return s;
}

std::int64_t timeout_us_for(const Scenario& sc) {
  return sc.traffic.request_timeout_ms > 0 ? sc.traffic.request_timeout_ms * 1000 : sc.gateway_timeout.count();
}

bool waived(const Scenario& sc, const std::string& invariant) {
  return std::find(sc.allow.begin(), sc.allow.end(), invariant) != sc.allow.end();
}

// Resolves one operand: a number, or a name of the table (filled for every name of assertion_operands()).
// A gateway figure that could not be read resolves to its reason, never to a number.
bool resolve_term(const std::string& token, const std::map<std::string, GatewayFigure>& table, double& out,
                  std::string& error) {
  char* end = nullptr;
  const double v = std::strtod(token.c_str(), &end);
  if (!token.empty() && end && *end == '\0') {
    out = v;
    return true;
  }
  const auto it = table.find(token);
  if (it != table.end()) {
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
             std::string& error) {
  std::istringstream in(expr);
  std::string token;
  if (!(in >> token) || !resolve_term(token, table, out, error)) {
    if (error.empty()) error = "empty expression";
    return false;
  }
  std::string op;
  while (in >> op) {
    double rhs = 0;
    if (!(in >> token) || !resolve_term(token, table, rhs, error)) {
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

std::string num(double v) {
  if (std::fabs(v - std::round(v)) < 1e-9) return fmt::format("{:.0f}", v);
  return fmt::format("{:.3f}", v);
}

}  // namespace

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * static_cast<double>(values.size()));
  const auto idx = static_cast<std::size_t>(std::clamp(rank, 1.0, static_cast<double>(values.size()))) - 1;
  return values[idx];
}

std::optional<double> metric_sample(const std::string& text, const std::string& name, const std::string& label,
                                    const std::string& value) {
  double sum = 0;
  bool found = false;
  std::istringstream in(text);
  std::string line;
  const std::string want_label = label.empty() ? "" : label + "=\"" + value + "\"";
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line.compare(0, name.size(), name) != 0) continue;
    const char next = line.size() > name.size() ? line[name.size()] : '\0';
    if (next != ' ' && next != '{') continue;
    const auto brace_end = line.find('}');
    const std::string labels = next == '{' && brace_end != std::string::npos ? line.substr(name.size(), brace_end - name.size() + 1) : "";
    if (!want_label.empty() && labels.find(want_label) == std::string::npos) continue;
    if (want_label.empty() && !labels.empty() && !label.empty()) continue;
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    char* end = nullptr;
    const double v = std::strtod(line.c_str() + space + 1, &end);
    if (end == line.c_str() + space + 1) continue;  // no number: not a sample
    sum += v;
    found = true;
  }
  if (!found) return std::nullopt;
  return sum;
}

double metric_value(const std::string& text, const std::string& name, const std::string& label,
                    const std::string& value) {
  return metric_sample(text, name, label, value).value_or(0.0);
}

namespace {

std::string sample_name(const std::string& name, const std::string& label, const std::string& value) {
  return label.empty() ? name : fmt::format("{}{{{}=\"{}\"}}", name, label, value);
}

// Adds one gateway's sample to f, or records why it could not be read (the first reason is kept).
void add_sample(GatewayFigure& f, const std::vector<MetricsScrape>& scrapes, std::size_t i, const char* which,
                const std::string& name, const std::string& label, const std::string& value, double sign) {
  if (!f.ok()) return;
  if (i >= scrapes.size()) {
    f.unreadable = fmt::format("gateway {}: no {}/metrics snapshot", i, which);
    return;
  }
  if (!scrapes[i].error.empty()) {
    f.unreadable = fmt::format("gateway {}: {}/metrics {}", i, which, scrapes[i].error);
    return;
  }
  const auto v = metric_sample(scrapes[i].text, name, label, value);
  if (!v) {
    f.unreadable = fmt::format("gateway {}: {}/metrics has no {} sample", i, which, sample_name(name, label, value));
    return;
  }
  f.value += sign * *v;
}

std::size_t gateway_count(const CheckInput& in) {
  return std::max<std::size_t>(static_cast<std::size_t>(std::max(1, in.gateways)), in.gateway_metrics.size());
}

}  // namespace

GatewayFigure gateway_counter(const CheckInput& in, const std::string& name, const std::string& label,
                              const std::string& value) {
  GatewayFigure f;
  for (std::size_t i = 0; i < gateway_count(in); ++i) {
    add_sample(f, in.gateway_metrics, i, "", name, label, value, 1);
    // No baseline at all means no warm-up: nothing to subtract. A partial one is a failed scrape.
    if (!in.gateway_baseline.empty()) add_sample(f, in.gateway_baseline, i, "baseline ", name, label, value, -1);
  }
  if (!f.ok()) f.value = 0;
  return f;
}

GatewayFigure gateway_gauge(const CheckInput& in, const std::string& name) {
  GatewayFigure f;
  for (std::size_t i = 0; i < gateway_count(in); ++i) add_sample(f, in.gateway_metrics, i, "", name, "", "", 1);
  if (!f.ok()) f.value = 0;
  return f;
}

ExpectedReplies expected_replies(const CheckInput& in) {
  ExpectedReplies e;
  std::unordered_map<std::string, const RequestRecord*> by_id;
  for (const auto& r : in.requests) {
    if (!r.correlation_id.empty()) by_id[r.correlation_id] = &r;
  }
  // Copies per correlation id that the gateways will see.
  std::unordered_map<std::string, int> copies_for;
  const int n = std::max(1, in.gateways);
  // How many instances receive each reply message.
  const int receivers = in.shared_consumer_group || in.reply_mode == "reply-to" ? 1 : n;
  for (const auto& d : decision_records(in.decisions)) {
    if (d.type != DecisionLineType::reply) continue;
    const std::string& kind = d.kind;
    const std::string& reply_id = d.reply_id;
    if (kind == "corrupt" || kind == "missing_id" || reply_id.empty()) {
      e.malformed += receivers;
      continue;
    }
    const auto it = by_id.find(reply_id);
    if (it == by_id.end()) {
      e.unknown += receivers;
      continue;
    }
    // The owner classifies it; in broadcast mode every other instance sees an id it never issued.
    e.unknown += receivers - 1;
    copies_for[reply_id] += 1;
  }
  for (const auto& [id, copies] : copies_for) {
    const RequestRecord& r = *by_id.at(id);
    if (r.outcome == Outcome::ok) {
      e.matched += 1;
      e.duplicate += copies - 1;
    } else {
      e.late += 1;
      e.duplicate += copies - 1;
    }
  }
  return e;
}

void join_ids_by_nonce(CheckInput& in) {
  std::unordered_map<std::string, std::string> id_for_nonce;
  for (const auto& d : decision_records(in.decisions)) {
    if (d.type != DecisionLineType::decision) continue;
    const std::string nonce = d.field_string("nonce");
    if (!nonce.empty() && !d.id.empty()) id_for_nonce.emplace(nonce, d.id);
  }
  for (auto& r : in.requests) {
    if (!r.correlation_id.empty()) continue;
    if (const auto it = id_for_nonce.find(r.nonce); it != id_for_nonce.end()) r.correlation_id = it->second;
  }
}

namespace {

LatencySummary summarize(std::vector<double> values) {
  LatencySummary l;
  l.count = values.size();
  if (values.empty()) return l;
  l.p50 = percentile(values, 50);
  l.p90 = percentile(values, 90);
  l.p99 = percentile(values, 99);
  l.p999 = percentile(values, 99.9);
  l.max = *std::max_element(values.begin(), values.end());
  double sum = 0;
  for (double v : values) sum += v;
  l.mean = sum / static_cast<double>(values.size());
  return l;
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
double replies_out_of_order(const std::vector<DecisionRecord>& decisions) {
  std::unordered_map<std::string, std::int64_t> arrived;
  for (const auto& d : decisions) {
    if (d.type != DecisionLineType::decision) continue;
    if (!d.id.empty()) arrived.emplace(d.id, d.ts_us);  // a redelivery keeps the first arrival
  }
  std::unordered_map<std::string, std::int64_t> first_sent;
  for (const auto& d : decisions) {
    if (d.type != DecisionLineType::reply || d.delivered_us <= 0) continue;
    const auto sent = d.sent_us;
    const auto [it, fresh] = first_sent.emplace(d.request_id, sent);
    if (!fresh) it->second = std::min(it->second, sent);
  }
  std::vector<std::pair<std::int64_t, std::int64_t>> replies;  // (arrived, sent)
  for (const auto& [id, sent] : first_sent) {
    if (const auto it = arrived.find(id); it != arrived.end()) replies.emplace_back(it->second, sent);
  }
  std::sort(replies.begin(), replies.end());
  double out_of_order = 0;
  std::int64_t latest = 0;
  for (const auto& [arrival, sent] : replies) {
    if (sent < latest) out_of_order += 1;
    latest = std::max(latest, sent);
  }
  return out_of_order;
}

void add_derived_operands(const CheckInput& in, const std::vector<DecisionRecord>& decisions, const ScenarioResult& out,
                          std::map<std::string, GatewayFigure>& table) {
  table["expected.disconnects"].value = expected_disconnects(*in.scenario, out.requests);
  table["simulator.replies_out_of_order"].value = replies_out_of_order(decisions);
}

}  // namespace
// ---- end of derived figures ------------------------------------------------------------------------

void run_checks(const CheckInput& in, ScenarioResult& out) {
  const Scenario& sc = *in.scenario;
  out.requests = in.requests;
  out.events = in.events;
  out.checks.clear();
  out.counts.clear();
  out.classifications.clear();
  out.latency_by_outcome.clear();

  // Decisions and replies by correlation id.
  const std::vector<DecisionRecord> decisions = decision_records(in.decisions);
  std::unordered_map<std::string, const DecisionRecord*> decision_for;
  std::unordered_map<std::string, std::vector<const DecisionRecord*>> replies_for;
  std::map<std::string, double> sim;
  for (const auto& d : decisions) {
    if (d.type == DecisionLineType::decision) {
      if (!d.id.empty() && !decision_for.count(d.id)) decision_for[d.id] = &d;
      sim["simulator.requests"] += 1;
      sim["simulator." + decision_kind(d)] += 1;
      if (d.copies > 1) sim["simulator.duplicated"] += 1;
      if (d.reorder) sim["simulator.reordered"] += 1;
    } else if (d.type == DecisionLineType::reply) {
      replies_for[d.reply_id].push_back(&d);
      sim["simulator.replies"] += 1;
    } else {
      sim["simulator.events." + d.type_name] += 1;
    }
  }

  // Which request of the run each nonce belongs to: a 200 is mis-correlated only when its payload carries
  // another request's nonce; a payload that cannot be read or belongs to nobody is a different defect.
  std::unordered_map<std::string, std::uint64_t> owner_of_nonce;
  for (const auto& r : out.requests) {
    if (!r.nonce.empty()) owner_of_nonce.emplace(r.nonce, r.index);
  }

  const std::int64_t timeout_us = timeout_us_for(sc);
  // Per-request violations: the message, and which request (a failing run names them in its repro lines).
  struct Offenders {
    std::vector<std::string> messages;
    std::vector<std::uint64_t> indexes;
    void push_back(std::uint64_t index, std::string message) {
      indexes.push_back(index);
      messages.push_back(std::move(message));
    }
  };
  Offenders mis, unverified, bounds, lost, unanswered;
  std::map<std::string, std::vector<double>> latency_of;
  for (auto& r : out.requests) {
    out.counts[to_string(r.outcome)] += 1;
    if (const auto it = decision_for.find(r.correlation_id); it != decision_for.end()) {
      r.simulator_rule = it->second->rule;
      r.simulator_action = describe_decision(*it->second);
    }
    if (r.done_us > 0 && (r.outcome == Outcome::ok || r.outcome == Outcome::timeout || r.outcome == Outcome::rejected ||
                         r.outcome == Outcome::error)) {
      latency_of[to_string(r.outcome)].push_back(r.latency_ms());
    }
    if (r.outcome == Outcome::ok) {
      // Bounded parsing: an answer nested 100,000 levels deep parses, but comparing or dumping it
      // recurses once per level and would overflow the stack; it is an unparseable answer instead.
      const auto body = parse_bounded(r.response_body);
      const auto request = parse_bounded(r.request_body);
      if (!body.ok() || !request.ok()) {
        r.classification = Classification::unparseable_answer;
        const auto& bad = body.ok() ? request : body;
        unverified.push_back(r.index, fmt::format("request #{} ({}): the 200 {} cannot be checked: {}", r.index, r.correlation_id,
                                         body.ok() ? "request body" : "answer",
                                         bad.errc == rrkit::JsonErrc::too_deep
                                             ? fmt::format("nested deeper than {} levels", rrkit::kMaxJsonDepth)
                                             : std::string("not JSON")));
        out.classifications[r.classification_text()] += 1;
        continue;
      }
      const Json* payload = nullptr;
      if (body.value.is_object() && body.value.contains("response") && body.value["response"].is_object() &&
          body.value["response"].contains("payload")) {
        payload = &body.value["response"]["payload"];
      }
      // The legacy system echoes the request as it was published: the client body plus the id field.
      // A nonce that is not a string is no nonce (value() would throw on it).
      const Json* echo = payload && payload->is_object() && payload->contains("echo") && (*payload)["echo"].is_object()
                             ? &(*payload)["echo"]
                             : nullptr;
      const std::string nonce = echo ? str_or_empty(*echo, "nonce") : std::string();
      if (nonce.empty()) {
        r.classification = Classification::unparseable_answer;
        unverified.push_back(r.index, fmt::format("request #{} ({}): the 200 carries no payload with an echoed nonce", r.index,
                                         r.correlation_id));
      } else if (nonce == r.nonce) {
        bool mine = payload_matches(*echo, *payload);
        if (mine && request.value.is_object()) {
          for (const auto& [k, v] : request.value.items()) {
            if (!echo->contains(k) || (*echo)[k] != v) mine = false;
          }
        }
        r.classification = mine ? Classification::ok : Classification::unverified_answer;
        if (!mine) {
          unverified.push_back(r.index, fmt::format("request #{} ({}): the 200 carries its own nonce, but the echo or the digest "
                                           "does not match the request",
                                           r.index, r.correlation_id));
        }
      } else if (const auto owner = owner_of_nonce.find(nonce); owner != owner_of_nonce.end()) {
        r.classification = Classification::mis_correlated;
        mis.push_back(r.index, fmt::format("request #{} ({}) got the payload of request #{}", r.index, r.correlation_id,
                                  owner->second));
      } else {
        r.classification = Classification::unverified_answer;
        unverified.push_back(r.index, fmt::format("request #{} ({}): the 200's payload nonce \"{}\" belongs to no request of "
                                         "the run",
                                         r.index, r.correlation_id, nonce.substr(0, 80)));
      }
    } else if (r.outcome == Outcome::timeout) {
      const std::int64_t took = sat_sub(r.done_us, r.sent_us);
      const std::int64_t timeout_for_r = timeout_us;
      if (took < timeout_for_r || took > sat_add(timeout_for_r, sc.timeout_epsilon.count())) {
        bounds.push_back(r.index, fmt::format("request #{} ({}): 504 after {:.1f} ms, expected [{:.0f}, {:.0f}] ms", r.index,
                                     r.correlation_id, static_cast<double>(took) / 1000.0,
                                     static_cast<double>(timeout_for_r) / 1000.0,
                                     static_cast<double>(sat_add(timeout_for_r, sc.timeout_epsilon.count())) / 1000.0));
      }
      // Was a good reply for this id sent well before the deadline? Then the gateway lost it.
      std::int64_t first_good = 0;
      for (const DecisionRecord* rep : replies_for[r.correlation_id]) {
        if (!is_valid_reply_kind(rep->kind)) continue;
        const auto sent = rep->sent_us;
        if (first_good == 0 || sent < first_good) first_good = sent;
      }
      if (first_good > 0 && sat_add(first_good, kDeliveryBudgetUs) < sat_add(r.sent_us, timeout_for_r)) {
        r.classification = Classification::lost_reply;
        lost.push_back(r.index, fmt::format("request #{} ({}): reply sent {:.0f} ms after the request, yet 504 at {:.0f} ms",
                                   r.index, r.correlation_id,
                                   (static_cast<double>(first_good) - static_cast<double>(r.sent_us)) / 1000.0,
                                   static_cast<double>(took) / 1000.0));
      } else if (first_good > 0) {
        r.classification = Classification::late_reply;
      } else if (decision_for.count(r.correlation_id)) {
        r.classification = Classification::expected_timeout;
      } else {
        r.classification = Classification::not_consumed;
      }
    } else if (r.outcome == Outcome::rejected) {
      r.classification = Classification::rejected;
    } else if (r.outcome == Outcome::disconnected) {
      r.classification = Classification::disconnected;
    } else if (r.outcome == Outcome::not_sent) {
      r.classification = Classification::not_sent;
    } else if (r.outcome == Outcome::interrupted) {
      // The run was stopped (Ctrl-C) with the request in flight: no verdict either way.
      r.classification = Classification::interrupted;
    } else {
      r.classification = r.http_status > 0 ? Classification::http_answer : Classification::no_answer;
      if (r.http_status == 0) {
        unanswered.push_back(r.index, fmt::format("request #{}: no HTTP answer ({})", r.index, r.client_error));
      }
    }
    out.classifications[r.classification_text()] += 1;
  }
  out.counts["sent"] = out.requests.size();

  // Latency summaries: over 200 answers (the plain latency.* operands), and per outcome.
  out.latency = summarize(latency_of["ok"]);
  for (const char* o : {"ok", "timeout", "rejected", "error"}) out.latency_by_outcome[o] = summarize(latency_of[o]);

  // Gateway counters (summed over instances) and what the decision log says they must be.
  const ExpectedReplies want = expected_replies(in);
  out.gateway_counters.clear();
  std::map<std::string, GatewayFigure> figures;
  namespace gm = gateway_metrics;
  for (const gm::ReplyClass cls : gm::kReplyClasses) {
    const std::string name(gm::to_string(cls));
    figures["replies_" + name] = gateway_counter(in, gm::kReplies, gm::kClassLabel, name);
  }
  for (const gm::Outcome outcome : {gm::Outcome::ok, gm::Outcome::timeout, gm::Outcome::overloaded,
                                    gm::Outcome::publish_failed, gm::Outcome::client_gone, gm::Outcome::bad_request}) {
    const std::string name(gm::to_string(outcome));
    figures["requests_" + name] = gateway_counter(in, gm::kRequests, gm::kOutcomeLabel, name);
  }
  // Only figures that were read are reported as numbers: an unreadable one is not a zero.
  for (const auto& [k, f] : figures) {
    if (f.ok()) out.gateway_counters[k] = f.value;
  }
  out.simulator_counters = sim;

  // The built-in invariants. A negative control lists in expect.violations what MUST be found.
  // `unreadable`: figures the invariant needs and could not read. Such an invariant cannot pass, and a
  // negative control cannot be satisfied by it either; only the scenario's own waiver (allow) passes it.
  auto invariant = [&](const std::string& name, const std::string& title, const std::vector<std::string>& problems,
                       const std::vector<std::string>& unreadable = {}) {
    CheckResult c;
    c.name = name + ": " + title;
    const bool expected_violation =
        std::find(sc.expect_violations.begin(), sc.expect_violations.end(), name) != sc.expect_violations.end();
    auto join = [](const std::vector<std::string>& items) {
      std::string detail;
      for (std::size_t i = 0; i < items.size() && i < 5; ++i) detail += (i ? "; " : "") + items[i];
      if (items.size() > 5) detail += fmt::format("; ... {} in all", items.size());
      return detail;
    };
    const std::string detail = join(problems);
    const std::string cannot_judge = unreadable.empty() ? std::string() : "cannot judge: " + join(unreadable);
    // Precedence: a negative control must find its violation (an allow cannot excuse it from that);
    // otherwise an allow waives the invariant, whatever was seen; otherwise problems fail it.
    if (expected_violation) {
      c.name = name + ": must be detected (negative control)";
      if (!unreadable.empty()) {
        c.state = CheckState::fail;
        c.message = cannot_judge;
      } else {
        c.state = problems.empty() ? CheckState::fail : CheckState::pass;
        c.message = problems.empty() ? "expected the checker to report " + name + " violations, but it found none"
                                     : fmt::format("detected as expected: {} violation(s): {}", problems.size(), detail);
      }
    } else if (waived(sc, name)) {
      c.state = CheckState::pass;
      c.message = problems.empty() && unreadable.empty()
                      ? "waived by the scenario (none seen)"
                      : fmt::format("waived by the scenario ({} seen): {}", problems.size() + unreadable.size(),
                                    detail.empty() ? cannot_judge : cannot_judge.empty() ? detail : detail + "; " + cannot_judge);
    } else if (!unreadable.empty()) {
      c.state = CheckState::fail;
      c.message = problems.empty() ? cannot_judge : detail + "; " + cannot_judge;
    } else {
      c.state = problems.empty() ? CheckState::pass : CheckState::fail;
      c.message = problems.empty() ? "ok" : detail;
    }
    out.checks.push_back(std::move(c));
  };

  // A per-request invariant that fails names its requests, for the narrowed repro lines.
  auto per_request = [&](const std::string& name, const std::string& title, const Offenders& o) {
    invariant(name, title, o.messages);
    if (out.checks.back().failed()) {
      out.failing_requests.insert(out.failing_requests.end(), o.indexes.begin(), o.indexes.end());
    }
  };
  per_request("one_answer", "exactly one HTTP answer per request", unanswered);
  per_request("no_mis_correlation", "no 200 carries another request's payload", mis);
  per_request("verified_answers", "every 200 carries a readable payload that verifies as its own request's", unverified);
  per_request("timeout_bounds",
              fmt::format("every 504 within [timeout, timeout + {} ms]", sc.timeout_epsilon.count() / 1000), bounds);
  per_request("no_lost_replies", "no 504 for a reply that was sent in time", lost);
  std::sort(out.failing_requests.begin(), out.failing_requests.end());
  out.failing_requests.erase(std::unique(out.failing_requests.begin(), out.failing_requests.end()),
                             out.failing_requests.end());
  {
    std::vector<std::string> problems, unreadable;
    auto cmp = [&](gateway_metrics::ReplyClass c, double expected) {
      const std::string_view cls = gateway_metrics::to_string(c);
      const GatewayFigure& got = figures["replies_" + std::string(cls)];
      if (!got.ok()) {
        unreadable.push_back(fmt::format("{}_replies: {}", cls, got.unreadable));
      } else if (std::fabs(got.value - expected) > 1e-9) {
        problems.push_back(fmt::format("expected {}_replies == {}, gateway counted {}", cls, num(expected), num(got.value)));
      }
    };
    using gateway_metrics::ReplyClass;
    cmp(ReplyClass::matched, want.matched);
    cmp(ReplyClass::late, want.late);
    cmp(ReplyClass::duplicate, want.duplicate);
    cmp(ReplyClass::unknown, want.unknown);
    cmp(ReplyClass::malformed, want.malformed);
    invariant("reply_counters", "gateway reply counters equal what the simulator induced", problems, unreadable);
  }
  {
    std::vector<std::string> problems, unreadable;
    if (!in.pending) {
      unreadable.push_back(in.pending_detail.empty() ? std::string("the pending figure was not read") : in.pending_detail);
    } else if (*in.pending != 0) {
      problems.push_back(fmt::format("{} request(s) still pending after the settle time", num(*in.pending)));
    }
    invariant("pending_drained", "pending returns to 0 after the settle time", problems, unreadable);
  }
  invariant("no_crash", "no component died unless the scenario crashed it", in.unexpected_deaths);

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
  for (const auto& [k, f] : figures) table["gateway." + k] = f;
  table["expected.matched"].value = want.matched;
  table["expected.late"].value = want.late;
  table["expected.duplicate"].value = want.duplicate;
  table["expected.unknown"].value = want.unknown;
  table["expected.malformed"].value = want.malformed;
  add_latency_operands(table, "latency.", out.latency);
  for (const auto& [o, l] : out.latency_by_outcome) add_latency_operands(table, "latency." + o + ".", l);
  add_derived_operands(in, decisions, out, table);
  for (const auto& a : sc.assertions) {
    CheckResult c;
    c.name = "assert: " + a.text;
    double lhs = 0, rhs = 0;
    std::string error;
    if (!resolve(a.lhs, table, lhs, error) || !resolve(a.rhs, table, rhs, error)) {
      c.state = CheckState::fail;
      c.message = fmt::format("{}:{}: {}", sc.path, a.line, error);
    } else {
      c.state = compare(lhs, a.op, rhs) ? CheckState::pass : CheckState::fail;
      c.message = c.passed() ? fmt::format("{} = {}", a.lhs, num(lhs))
                             : fmt::format("expected {} {} {}, got {} = {}", a.lhs, a.op, num(rhs), a.lhs, num(lhs));
    }
    out.checks.push_back(std::move(c));
  }
  for (const auto& e : in.infra_errors) {
    out.checks.push_back({"timeline action", CheckState::fail, e});
  }

  // not_applicable checks do not fail a scenario; they are reported as such, never as passed.
  const bool any_failed = std::any_of(out.checks.begin(), out.checks.end(), [](const CheckResult& c) { return c.failed(); });
  if (out.status != ScenarioStatus::error) out.status = any_failed ? ScenarioStatus::fail : ScenarioStatus::pass;
}

}  // namespace rrkit::harness
