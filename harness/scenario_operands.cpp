// The names a scenario's assertions may use (declared in harness/scenario.h): the loader refuses any
// other name, and the checker gives a value to exactly these.
#include <algorithm>
#include <cstdlib>
#include <set>
#include <sstream>

#include "common/decision_record.h"
#include "harness/scenario.h"

namespace rrkit::harness {

namespace {

std::vector<OperandInfo> build_operands() {
  std::vector<OperandInfo> ops = {
      {"requests", "requests sent in the scenario (warm-up excluded)"},
      {"sent", "same as requests"},
  };
  for (const auto& [o, m] : std::vector<std::pair<const char*, const char*>>{
           {"ok", "answered 200"},
           {"timeout", "answered 504"},
           {"rejected", "answered 503"},
           {"error", "another HTTP status, or a transport error after sending"},
           {"disconnected", "the client hung up on purpose (traffic.disconnect_fraction)"},
           {"no_answer", "no HTTP answer before the client's own timeout"},
           {"interrupted", "in flight when the run was interrupted"}}) {
    ops.push_back({std::string("outcome.") + o, std::string("requests ") + m});
  }
  for (const auto& [c, m] : std::vector<std::pair<const char*, const char*>>{
           {"ok", "200 carrying this request's own payload (nonce, echo and digest verified)"},
           {"mis_correlated", "200 carrying the payload of another request of the run"},
           {"unparseable_answer", "200 whose answer or payload cannot be read (not JSON, too deep, no payload)"},
           {"unverified_answer", "200 with a readable payload that is neither this request's nor another's"},
           {"expected_timeout", "504 for a request the simulator did not answer in time by its decision"},
           {"late_reply", "504, and the reply was sent after the deadline"},
           {"lost_reply", "504 although the reply was sent well in time"},
           {"not_consumed", "504 for a request the simulator never saw"},
           {"rejected", "503"},
           {"disconnected", "scripted client disconnect"},
           {"interrupted", "in flight when the run was interrupted"},
           {"no_answer", "no HTTP answer"},
           {"http_NNN", "answered with HTTP status NNN (any other status)"}}) {
    ops.push_back({std::string("class.") + c, std::string("requests the checker classed: ") + m});
  }
  for (const char* c : {"matched", "late", "duplicate", "unknown", "malformed", "forged", "probe"}) {
    ops.push_back({std::string("gateway.replies_") + c,
                   std::string("replies the gateways counted as ") + c + " (summed over instances, less the warm-up)"});
  }
  for (const char* o : {"ok", "timeout", "overloaded", "publish_failed", "client_gone", "bad_request"}) {
    ops.push_back({std::string("gateway.requests_") + o,
                   std::string("requests the gateways counted with outcome ") + o + " (summed, less the warm-up)"});
  }
  ops.push_back({"simulator.requests", "requests the simulator decided on"});
  for (const auto kind : kDecisionKinds) {
    const std::string k(to_string(kind));
    ops.push_back({"simulator." + k, "simulator decisions of kind " + k});
  }
  ops.push_back({"simulator.duplicated", "requests the simulator answered more than once"});
  ops.push_back({"simulator.reordered", "requests whose reply went through the reorder window"});
  ops.push_back({"simulator.replies", "reply messages the simulator sent (confirmed by Kafka)"});
  for (const char* e : {"profile", "stall", "crash", "pause", "resume", "reply_failed"}) {
    ops.push_back({std::string("simulator.events.") + e, std::string("decision-log lines of type ") + e});
  }
  for (const char* c : {"matched", "late", "duplicate", "unknown", "malformed"}) {
    ops.push_back({std::string("expected.") + c,
                   std::string("the gateways' ") + c + " count the history and the decision log imply"});
  }
  ops.push_back({"expected.disconnects",
                 "requests the client abandons (traffic.disconnect_fraction), a pure function of seed and index"});
  ops.push_back({"simulator.replies_out_of_order",
                 "confirmed replies handed to the producer before the reply to a request that arrived earlier"});
  const std::vector<std::pair<const char*, const char*>> stats = {
      {"p50", "median"}, {"p90", "90th percentile"}, {"p99", "99th percentile"}, {"p999", "99.9th percentile"},
      {"max", "maximum"}, {"mean", "mean"}, {"count", "number of requests measured"}};
  for (const auto& [st, m] : stats) {
    ops.push_back({std::string("latency.") + st, std::string(m) + " latency of 200 answers (ms; = latency.ok." + st + ")"});
  }
  for (const char* o : {"ok", "timeout", "rejected", "error"}) {
    for (const auto& [st, m] : stats) {
      ops.push_back({std::string("latency.") + o + "." + st,
                     std::string(m) + " latency (ms, from the intended send time) of requests with outcome " + o});
    }
  }
  return ops;
}

// "class.http_NNN" with three digits in place of NNN.
bool is_http_class(const std::string& name) {
  const std::string prefix = "class.http_";
  return name.size() == prefix.size() + 3 && name.compare(0, prefix.size(), prefix) == 0 &&
         std::all_of(name.begin() + static_cast<std::ptrdiff_t>(prefix.size()), name.end(),
                     [](char c) { return c >= '0' && c <= '9'; });
}

bool is_number(const std::string& token) {
  char* end = nullptr;
  (void)std::strtod(token.c_str(), &end);
  return !token.empty() && end && *end == '\0';
}

}  // namespace

const std::vector<OperandInfo>& assertion_operands() {
  static const std::vector<OperandInfo> ops = build_operands();
  return ops;
}

bool is_known_operand(const std::string& name) {
  static const std::set<std::string> names = [] {
    std::set<std::string> n;
    for (const auto& o : assertion_operands()) {
      if (o.name != "class.http_NNN") n.insert(o.name);  // a family, matched by is_http_class
    }
    return n;
  }();
  return names.count(name) > 0 || is_http_class(name);
}

bool check_expression(const std::string& expr, std::string& error) {
  std::istringstream in(expr);
  std::string token;
  bool want_operand = true;
  while (in >> token) {
    if (want_operand) {
      if (!is_number(token) && !is_known_operand(token)) {
        // Names that share the typo's prefix are the likely intended ones.
        const std::string prefix = token.substr(0, token.find('.') + 1);
        std::string near;
        int shown = 0;
        for (const auto& o : assertion_operands()) {
          if (prefix.size() > 1 && o.name.rfind(prefix, 0) == 0 && shown++ < 12) near += (near.empty() ? "" : ", ") + o.name;
        }
        error = "unknown operand \"" + token + "\"" +
                (near.empty() ? std::string(" (see the assertion reference in the README)") : " (known: " + near + (shown > 12 ? ", ..." : "") + ")");
        return false;
      }
    } else if (token != "+" && token != "-" && token != "*" && token != "/") {
      error = "\"" + expr + "\": unknown operator \"" + token + "\" (use + - * / between operands, with spaces)";
      return false;
    }
    want_operand = !want_operand;
  }
  if (want_operand) {
    error = expr.find_first_not_of(' ') == std::string::npos ? "empty expression"
                                                             : "\"" + expr + "\": an operator needs an operand after it";
    return false;
  }
  return true;
}

}  // namespace rrkit::harness
