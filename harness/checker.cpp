#include "harness/checker.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "common/decision_record.h"
#include "common/gateway_metrics.h"
#include "common/json_limits.h"
#include "common/reply.h"
#include "harness/checker_assertions.h"
#include "harness/failover.h"
#include "harness/invariant_evidence.h"
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

// Replies that carry a readable id of a request: the ones a gateway can classify.
bool is_valid_reply_kind(std::string_view kind) {
  const auto k = parse_decision_kind(kind);
  return k == DecisionKind::ok || k == DecisionKind::error || k == DecisionKind::wrong_id;
}

// A decision line without a kind is an answer decided "ok" (the simulator's default).
std::string decision_kind(const DecisionLines& log, const DecisionLine& d) {
  return d.kind == 0 ? std::string(to_string(DecisionKind::ok)) : std::string(log.str(d.kind));
}

std::string describe_decision(const DecisionLines& log, const DecisionLine& d) {
  if (d.drop) return "drop";
  std::string s = decision_kind(log, d);
  if (d.delay_us > 0) s += fmt::format(" after {:.0f}ms", static_cast<double>(d.delay_us) / 1000.0);
  if (d.copies > 1) s += fmt::format(" x{}", d.copies);
  if (d.reorder) s += " reordered";
  return s;
}

std::int64_t timeout_us_for(const Scenario& sc) {
  return sc.traffic.request_timeout_ms > 0 ? sc.traffic.request_timeout_ms * 1000 : sc.gateway_timeout.count();
}

}  // namespace

std::chrono::microseconds timeout_epsilon_for(const Scenario& sc, const SutJudging& sut) {
  return std::max(sc.timeout_epsilon, sut.answer.timeout_epsilon);
}

std::size_t answered_without_decision(const CheckInput& in) {
  const DecisionLines& log = in.decisions;
  std::vector<bool> decided(log.pool().size(), false);
  for (const auto& d : log) {
    if (d.type == DecisionLineType::decision) decided[d.key] = true;
  }
  std::size_t missing = 0;
  for (const auto& r : in.requests) {
    if (r.outcome != Outcome::ok && r.outcome != Outcome::timeout) continue;
    // An empty nonce matches a decision without a key, as the string comparison always did.
    const auto h = r.nonce.empty() ? 0 : log.find(r.nonce);
    if (h == StringPool::kNone || !decided[h]) ++missing;
  }
  return missing;
}

void join_ids_by_nonce(CheckInput& in) {
  const DecisionLines& log = in.decisions;
  std::vector<DecisionLine::Handle> id_for_nonce(log.pool().size(), 0);
  for (const auto& d : log) {
    if (d.type != DecisionLineType::decision) continue;
    if (d.nonce != 0 && d.id != 0 && id_for_nonce[d.nonce] == 0) id_for_nonce[d.nonce] = d.id;
  }
  for (auto& r : in.requests) {
    if (!r.correlation_id.empty()) continue;
    const auto h = handle_of(log, r.nonce);
    if (h != StringPool::kNone && id_for_nonce[h] != 0) {
      r.correlation_id = log.str(id_for_nonce[h]);
      r.id_from_log = true;
    }
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


// The timeline's actions are the faults; the window stays open for one request timeout after the last.
FailoverInput failover_input(const CheckInput& in, const std::vector<RequestRecord>& requests, std::int64_t started_us,
                             const GatewayFigure& duplicates) {
  FailoverInput f;
  f.requests = &requests;
  f.started_us = started_us;
  for (const auto& a : in.scenario->timeline) f.fault_at.push_back(a.at);
  f.request_timeout_us = timeout_us_for(*in.scenario);
  if (duplicates.ok()) f.duplicate_replies = duplicates.value;
  return f;
}

}  // namespace


namespace {

// Which request of the run each nonce belongs to (the first one that carries it). Most nonces are in the
// decision log's string pool already, so they are found by its handle in a table of 4 bytes per string; a
// hash map of a million views held about 56 bytes per request at a run's peak. Nonces the log never names
// (requests the simulator did not see) go to a map of their own.
class NonceOwners {
 public:
  NonceOwners() = default;
  NonceOwners(const DecisionLines& log, const std::vector<RequestRecord>& requests)
      : log_(&log), requests_(&requests), by_handle_(log.pool().size(), kNobody) {
    for (std::size_t i = 0; i < requests.size(); ++i) {
      const std::string_view n = requests[i].nonce;
      if (n.empty()) continue;
      const auto h = log.find(n);
      if (h != StringPool::kNone) {
        if (by_handle_[h] == kNobody) by_handle_[h] = static_cast<std::uint32_t>(i);
      } else {
        unlogged_.emplace(n, i);
      }
    }
  }
  // The index of the request that carries nonce n, if one does.
  std::optional<std::uint64_t> owner(std::string_view n) const {
    if (log_ == nullptr || n.empty()) return std::nullopt;
    const auto h = log_->find(n);
    if (h != StringPool::kNone) {
      if (by_handle_[h] == kNobody) return std::nullopt;
      return (*requests_)[by_handle_[h]].index;
    }
    const auto it = unlogged_.find(n);
    if (it == unlogged_.end()) return std::nullopt;
    return (*requests_)[it->second].index;
  }

 private:
  static constexpr std::uint32_t kNobody = 0xFFFFFFFFu;
  const DecisionLines* log_ = nullptr;
  const std::vector<RequestRecord>* requests_ = nullptr;  // not resized while this is used
  std::vector<std::uint32_t> by_handle_;                 // handle -> position in *requests_
  std::unordered_map<std::string_view, std::size_t> unlogged_;
};

std::string unreadable_reason(AnswerErrc errc) {
  return errc == AnswerErrc::too_deep ? fmt::format("nested deeper than {} levels", rrkit::kMaxJsonDepth)
         : errc == AnswerErrc::not_json ? std::string("not JSON")
                                        : std::string(to_string(errc));
}

// Classifies one answered request from the SUT's answer spec: its own nonce and no other request's
// (echo_nonce_check); where the answer carries the echoed request and the simulator's payload, they must
// match the request too (fields and digest).
// The answer was checked as it arrived (compact_verified_answer) and found to be the request's own.
void verify_answer(const SutAnswer& spec, RequestRecord& r, const NonceLookup& is_run_nonce,
                   const NonceOwners& owner_of_nonce, Offenders& unverified, Offenders& mis) {
  if (r.answer_verified) {
    r.classification = Classification::ok;
    return;
  }
  // Bounded parsing: an answer nested 100,000 levels deep parses, but comparing or dumping it
  // recurses once per level and would overflow the stack; it is an unparseable answer instead.
  const auto request = parse_bounded(r.request_body);
  const EchoCheck echo = echo_nonce_check(spec, r.response_body, r.nonce, is_run_nonce);
  if (echo.errc != AnswerErrc::none || !request.ok()) {
    r.classification = Classification::unparseable_answer;
    const bool answer_bad = echo.errc != AnswerErrc::none;
    const std::string why = answer_bad ? (echo.errc == AnswerErrc::absent || echo.errc == AnswerErrc::wrong_type
                                              ? "carries no payload with an echoed nonce"
                                              : "answer cannot be checked: " + unreadable_reason(echo.errc))
                                       : "request body cannot be checked: " +
                                             unreadable_reason(request.errc == rrkit::JsonErrc::too_deep ? AnswerErrc::too_deep
                                                                                                         : AnswerErrc::not_json);
    unverified.push_back(r.index, fmt::format("request #{} ({}): the 200 {}", r.index, r.correlation_id, why));
    return;
  }
  if (!echo.others.empty()) {
    const auto owner = owner_of_nonce.owner(echo.others.front());
    r.classification = Classification::mis_correlated;
    mis.push_back(r.index, fmt::format("request #{} ({}) got the payload of request #{}", r.index, r.correlation_id,
                                       owner.value_or(0)));
    return;
  }
  if (!echo.own) {
    r.classification = spec.echo == EchoMode::pointer && echo.echoed.empty() ? Classification::unparseable_answer
                                                                             : Classification::unverified_answer;
    unverified.push_back(r.index, echo.echoed.empty()
                                      ? fmt::format("request #{} ({}): the 200 carries no nonce of the run", r.index,
                                                    r.correlation_id)
                                      : fmt::format("request #{} ({}): the 200's payload nonce \"{}\" belongs to no "
                                                    "request of the run",
                                                    r.index, r.correlation_id, echo.echoed.substr(0, 80)));
    return;
  }
  // The legacy system echoes the request as it was published: the client body plus its own fields.
  bool mine = true;
  if (const auto echoed = echoed_request_of(spec, r.response_body); echoed && request.value.is_object()) {
    for (const auto& [k, v] : request.value.items()) {
      if (!echoed->contains(k) || (*echoed)[k] != v) mine = false;
    }
  }
  if (const auto payload = simulator_payload_of(spec, r.response_body)) mine = mine && payload_matches((*payload)["echo"], *payload);
  r.classification = mine ? Classification::ok : Classification::unverified_answer;
  if (!mine) {
    unverified.push_back(r.index, fmt::format("request #{} ({}): the 200 carries its own nonce, but the echo or the digest "
                                              "does not match the request",
                                              r.index, r.correlation_id));
  }
}

}  // namespace

bool compact_verified_answer(const SutAnswer& spec, RequestRecord& r, const NonceLookup& may_be_run_nonce) {
  if (r.outcome != Outcome::ok || r.answer_verified) return r.answer_verified;
  RequestRecord probe;
  probe.index = r.index;
  probe.nonce = r.nonce;
  probe.request_body = r.request_body;
  probe.response_body = r.response_body;
  Offenders unverified, mis;
  verify_answer(spec, probe, may_be_run_nonce, {}, unverified, mis);
  if (probe.classification != Classification::ok) return false;
  r.answer_verified = true;
  r.response_body.clear();
  r.response_body.shrink_to_fit();
  return true;
}

namespace {

// run_checks on out.requests, which the caller has filled with in's requests (copied or moved).
void judge(const CheckInput& in, ScenarioResult& out) {
  const Scenario& sc = *in.scenario;
  out.events = in.events;
  out.checks.clear();
  out.counts.clear();
  out.classifications.clear();
  out.latency_by_outcome.clear();

  // Decisions and replies by correlation id, as tables indexed by the log's string handles.
  const DecisionLines& log = in.decisions;
  constexpr std::uint32_t kNoLine = 0xFFFFFFFFu;
  std::vector<std::uint32_t> decision_for(log.pool().size(), kNoLine);  // first decision line per id
  // Per reply id: when the first reply of a kind a gateway can classify was sent (0: none).
  std::vector<std::int64_t> first_good_for(log.pool().size(), 0);
  std::map<std::string, double> sim;
  for (std::size_t i = 0; i < log.size(); ++i) {
    const DecisionLine& d = log.lines()[i];
    if (d.type == DecisionLineType::decision) {
      if (d.id != 0 && decision_for[d.id] == kNoLine) decision_for[d.id] = static_cast<std::uint32_t>(i);
      sim["simulator.requests"] += 1;
      sim["simulator." + decision_kind(log, d)] += 1;
      if (d.copies > 1) sim["simulator.duplicated"] += 1;
      if (d.reorder) sim["simulator.reordered"] += 1;
    } else if (d.type == DecisionLineType::reply) {
      if (is_valid_reply_kind(log.str(d.kind))) {
        std::int64_t& first = first_good_for[d.reply_id];
        if (first == 0 || d.sent_us < first) first = d.sent_us;
      }
      sim["simulator.replies"] += 1;
    } else {
      sim["simulator.events." + std::string(log.str(d.type_name))] += 1;
    }
  }

  // Which request of the run each nonce belongs to: a 200 is mis-correlated only when its payload carries
  // another request's nonce; a payload that cannot be read or belongs to nobody is a different defect.
  // By position in out.requests, which is not resized while it is used: no copy per request.
  NonceOwners owner_of_nonce(log, out.requests);
  const NonceLookup is_run_nonce = [&](std::string_view n) { return owner_of_nonce.owner(n).has_value(); };
  const std::int64_t timeout_us = timeout_us_for(sc);
  const std::int64_t epsilon_us = timeout_epsilon_for(sc, in.sut).count();
  InvariantEvidence ev{in, {}, {}, {}, {}, {}, {}, {}};
  Offenders& mis = ev.mis_correlated;
  Offenders& unverified = ev.unverified;
  Offenders& bounds = ev.out_of_bounds;
  Offenders& lost = ev.lost;
  Offenders& unanswered = ev.unanswered;
  std::map<std::string, std::vector<double>> latency_of;
  for (auto& r : out.requests) {
    out.counts[to_string(r.outcome)] += 1;
    // An empty id is handle 0, as the string tables keyed "" before: replies that carry no id are its replies.
    const auto id = r.correlation_id.empty() ? 0 : log.find(r.correlation_id);
    const std::uint32_t decided = id == StringPool::kNone ? kNoLine : decision_for[id];
    if (decided != kNoLine) {
      r.simulator_rule = std::string(log.str(log.lines()[decided].rule));
      r.simulator_action = describe_decision(log, log.lines()[decided]);
    }
    if (r.done_us > 0 && (r.outcome == Outcome::ok || r.outcome == Outcome::timeout || r.outcome == Outcome::rejected ||
                         r.outcome == Outcome::error)) {
      latency_of[to_string(r.outcome)].push_back(r.latency_ms());
    }
    if (r.outcome == Outcome::ok) {
      verify_answer(in.sut.answer, r, is_run_nonce, owner_of_nonce, unverified, mis);
    } else if (r.outcome == Outcome::timeout) {
      const std::int64_t took = sat_sub(r.done_us, r.sent_us);
      const std::int64_t timeout_for_r = timeout_us;
      const std::int64_t earliest = sat_sub(timeout_for_r, kTimerResolutionUs);
      if (took < earliest || took > sat_add(timeout_for_r, epsilon_us)) {
        bounds.push_back(r.index, fmt::format("request #{} ({}): 504 after {:.1f} ms, expected [{:.0f}, {:.0f}] ms", r.index,
                                     r.correlation_id, static_cast<double>(took) / 1000.0,
                                     static_cast<double>(earliest) / 1000.0,
                                     static_cast<double>(sat_add(timeout_for_r, epsilon_us)) / 1000.0));
      }
      // Was a good reply for this id sent well before the deadline? Then the gateway lost it.
      const std::int64_t first_good = id == StringPool::kNone ? 0 : first_good_for[id];
      if (first_good > 0 && sat_add(first_good, kDeliveryBudgetUs) < sat_add(r.sent_us, timeout_for_r)) {
        r.classification = Classification::lost_reply;
        lost.push_back(r.index, fmt::format("request #{} ({}): reply sent {:.0f} ms after the request, yet 504 at {:.0f} ms",
                                   r.index, r.correlation_id,
                                   (static_cast<double>(first_good) - static_cast<double>(r.sent_us)) / 1000.0,
                                   static_cast<double>(took) / 1000.0));
      } else if (first_good > 0) {
        r.classification = Classification::late_reply;
      } else if (decided != kNoLine) {
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
  // The per-request tables are done with: freed before expected_replies builds its own, which would
  // otherwise raise a long run's peak by theirs.
  std::vector<std::uint32_t>().swap(decision_for);
  std::vector<std::int64_t>().swap(first_good_for);
  owner_of_nonce = NonceOwners();

  // Latency summaries: over 200 answers (the plain latency.* operands), and per outcome.
  out.latency = summarize(latency_of["ok"]);
  for (const char* o : {"ok", "timeout", "rejected", "error"}) out.latency_by_outcome[o] = summarize(latency_of[o]);

  // Gateway counters (summed over instances) and what the decision log says they must be.
  const ExpectedReplies want = expected_replies(in, out.requests);
  out.gateway_counters.clear();
  std::map<std::string, GatewayFigure> figures;
  for (const auto& key : sut_metric_keys()) {
    if (key != "pending") figures[key] = sut_counter(in, key);
  }
  // Only figures that were read are reported as numbers: an unreadable one is not a zero.
  for (const auto& [k, f] : figures) {
    if (f.ok()) out.gateway_counters[k] = f.value;
  }
  out.simulator_counters = sim;
  out.failover = failover_cost(failover_input(in, out.requests, out.started_us, figures["replies_duplicate"]));

  ev.figures = figures;
  ev.want = want;
  for (const auto& row : invariant_table()) {
    const InvariantFindings found = row.judge(ev);
    if (found.not_asked) continue;
    const std::string title = fmt::format(fmt::runtime(row.title), fmt::arg("epsilon_ms", timeout_epsilon_for(sc, in.sut).count() / 1000));
    out.checks.push_back(judge_invariant(sc, row.id, title, found));
    // A per-request invariant that fails names its requests, for the narrowed repro lines.
    if (out.checks.back().failed()) {
      out.failing_requests.insert(out.failing_requests.end(), found.requests.begin(), found.requests.end());
    }
  }
  std::sort(out.failing_requests.begin(), out.failing_requests.end());
  out.failing_requests.erase(std::unique(out.failing_requests.begin(), out.failing_requests.end()),
                             out.failing_requests.end());

  check_assertions(in, {sim, figures, want, log}, out);
  if (!sc.gateway_args.empty() && !in.sut.scenario_args) {
    std::string args;
    for (const auto& a : sc.gateway_args) args += (args.empty() ? "" : " ") + a;
    out.checks.push_back({"stack.gateway_args", CheckState::not_applicable,
                          fmt::format("not applied: the SUT {} takes no scenario arguments (start.scenario_args: false), "
                                      "so \"{}\" did not reach the gateway",
                                      in.sut.name, args)});
  }
  for (const auto& e : in.infra_errors) {
    out.checks.push_back({"timeline action", CheckState::fail, e});
  }

  // not_applicable checks do not fail a scenario; they are reported as such, never as passed.
  const bool any_failed = std::any_of(out.checks.begin(), out.checks.end(), [](const CheckResult& c) { return c.failed(); });
  if (out.status != ScenarioStatus::error) out.status = any_failed ? ScenarioStatus::fail : ScenarioStatus::pass;
}

}  // namespace

void run_checks(const CheckInput& in, ScenarioResult& out) {
  out.requests = in.requests;
  judge(in, out);
}

void run_checks_moving(CheckInput& in, ScenarioResult& out) {
  out.requests = std::move(in.requests);
  in.requests.clear();
  judge(in, out);
}

}  // namespace rrkit::harness
