// What the decision log says the gateways' reply counters must show (expected_replies), and the lives of
// gateway instances it is judged by. Part of the checker (harness/checker.h).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "common/decision_record.h"
#include "harness/checker.h"

namespace rrkit::harness {

// Every table is indexed by the log's string handles: a run's ids are never copied into hash maps.
ExpectedReplies expected_replies(const CheckInput& in, const std::vector<RequestRecord>& requests) {
  ExpectedReplies e;
  const DecisionLines& log = in.decisions;
  constexpr std::uint32_t kNoRequest = 0xFFFFFFFFu;
  std::vector<std::uint32_t> by_id(log.pool().size(), kNoRequest);  // handle -> position in requests
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const auto h = handle_of(log, requests[i].correlation_id);
    if (h != StringPool::kNone) by_id[h] = static_cast<std::uint32_t>(i);
  }
  // Copies per correlation id that the gateways will see.
  std::vector<std::uint32_t> copies_for(log.pool().size(), 0);  // at most one per line of the log
  const int n = std::max(1, in.gateways);
  const bool broadcast = !(in.shared_consumer_group || in.reply_mode == "reply-to");
  // How many instances receive each reply message.
  const int receivers = broadcast ? n : 1;
  // In broadcast mode, how many of them served part of the run only: each may or may not have counted a copy.
  int partial = 0;
  for (int g = 0; broadcast && g < n; ++g) partial += life_of(in, static_cast<std::size_t>(g)) != GatewayLife::throughout;
  const int sure = receivers - partial;
  auto partial_owner = [&](const RequestRecord& r) {
    const auto life = life_of(in, static_cast<std::size_t>(std::max(0, r.gateway)));
    return broadcast && (life == GatewayLife::left || life == GatewayLife::joined_and_left);
  };
  for (const auto& d : log) {
    if (d.type != DecisionLineType::reply) continue;
    if (const auto k = parse_decision_kind(log.str(d.kind)); k == DecisionKind::corrupt || k == DecisionKind::missing_id || d.reply_id == 0) {
      e.malformed += sure;
      e.unobserved_malformed += partial;
      continue;
    }
    if (by_id[d.reply_id] == kNoRequest) {
      e.unknown += sure;
      e.unobserved_unknown += partial;
      continue;
    }
    // The owner classifies it; in broadcast mode every other instance sees an id it never issued. An
    // instance that joined was ready before any request was sent to it, so it sees all its own replies.
    const RequestRecord& owner = requests[by_id[d.reply_id]];
    const bool owner_partial = broadcast && life_of(in, static_cast<std::size_t>(std::max(0, owner.gateway))) !=
                                                GatewayLife::throughout;
    e.unknown += sure - (owner_partial ? 0 : 1);
    e.unobserved_unknown += partial - (owner_partial ? 1 : 0);
    copies_for[d.reply_id] += 1;
  }
  // Replies planned by a decision that was made again later (the request was redelivered after the
  // simulator died) and never confirmed: they may have reached Kafka all the same.
  std::vector<std::int64_t> planned(log.pool().size(), 0);
  std::vector<std::uint32_t> confirmed(log.pool().size(), 0), decided(log.pool().size(), 0);
  for (const auto& d : log) {
    if (d.type == DecisionLineType::decision && d.id != 0) {
      decided[d.id] += 1;
      if (!d.drop) planned[d.id] += std::max<std::int64_t>(1, d.copies);
    } else if ((d.type == DecisionLineType::reply || d.type == DecisionLineType::reply_failed) && d.request_id != 0) {
      confirmed[d.request_id] += 1;
    }
  }
  for (std::size_t id = 0; id < decided.size(); ++id) {
    if (decided[id] < 2 || by_id[id] == kNoRequest) continue;
    const std::int64_t missing = planned[id] - static_cast<std::int64_t>(confirmed[id]);
    if (missing <= 0) continue;
    e.unconfirmed_duplicate += static_cast<double>(missing);
    e.unconfirmed_unknown += static_cast<double>(missing * (receivers - 1));
  }
  for (std::size_t id = 0; id < copies_for.size(); ++id) {
    const std::uint32_t copies = copies_for[id];
    if (copies == 0) continue;
    const RequestRecord& r = requests[by_id[id]];
    // An owner stopped mid-traffic was last read before its SIGTERM: what it counted after is unseen.
    const bool unseen = partial_owner(r);
    (r.outcome == Outcome::ok ? (unseen ? e.unobserved_matched : e.matched) : (unseen ? e.unobserved_late : e.late)) += 1;
    (unseen ? e.unobserved_duplicate : e.duplicate) += static_cast<double>(copies) - 1;
  }
  return e;
}

ExpectedReplies expected_replies(const CheckInput& in) { return expected_replies(in, in.requests); }

double counter_slack(const ExpectedReplies& e, std::string_view reply_class) {
  if (reply_class == "matched") return e.unobserved_matched;
  if (reply_class == "late") return e.unobserved_late;
  if (reply_class == "duplicate") return e.unconfirmed_duplicate + e.unobserved_duplicate;
  if (reply_class == "unknown") return e.unconfirmed_unknown + e.unobserved_unknown;
  if (reply_class == "malformed") return e.unobserved_malformed;
  return 0;
}

GatewayLife life_of(const RunFacts& facts, std::size_t g) {
  return g < facts.gateway_life.size() ? facts.gateway_life[g] : GatewayLife::throughout;
}

namespace {
constexpr std::pair<GatewayLife, const char*> kLives[] = {{GatewayLife::throughout, "throughout"},
                                                           {GatewayLife::joined, "joined"},
                                                           {GatewayLife::left, "left"},
                                                           {GatewayLife::joined_and_left, "joined_and_left"}};
}  // namespace

const char* to_string(GatewayLife l) {
  for (const auto& [life, name] : kLives) {
    if (life == l) return name;
  }
  return "throughout";
}

std::optional<GatewayLife> parse_gateway_life(std::string_view name) {
  for (const auto& [life, text] : kLives) {
    if (name == text) return life;
  }
  return std::nullopt;
}

}  // namespace rrkit::harness
