#include "gateway/deliveries.h"

#include "gateway/delivery.h"

namespace rrkit::gateway {

using nlohmann::json;

namespace {
const json& success() {
  static const json kSuccess = {{"status", "SUCCESS"}};
  return kSuccess;
}
const json& drop() {
  static const json kDrop = {{"status", "DROP"}};
  return kDrop;
}
}  // namespace

Response Deliveries::handle(const Request& req, bool keep) {
  const unsigned v = req.version();
  auto parsed = parse_delivery(req.body(), state_.cfg.id_field);
  if (!parsed.delivery) {
    state_.metrics.reply(ReplyClass::malformed);
    log::warn(state_.logger, "malformed reply dropped", {{"error", parsed.error}, {"bytes", req.body().size()}});
    return make_response(http::status::ok, drop(), v, keep);
  }
  Delivery& d = *parsed.delivery;
  if (d.probe) {
    state_.metrics.reply(ReplyClass::probe);
    readiness_.probe_seen(d.id);
    return make_response(http::status::ok, success(), v, keep);
  }
  auto classified = state_.table.classify_reply(CorrelationId(d.id), Clock::now());
  state_.metrics.reply(classified.cls);
  if (classified.cls == ReplyClass::matched) {
    // Guarded: the fields would otherwise be built for every reply with the line switched off.
    if (state_.logger->should_log(spdlog::level::debug)) log::debug(state_.logger, "reply matched", {{"cid", d.id}});
    classified.notify(Completion{Finish::replied, std::move(d.reply)});
  } else {
    // In broadcast mode every other instance's reply is "unknown" here: expected, so not a warning.
    const bool expected = classified.cls == ReplyClass::unknown && state_.cfg.reply_mode == ReplyMode::broadcast;
    if (state_.logger->should_log(expected ? spdlog::level::debug : spdlog::level::info)) {
      (expected ? log::debug : log::info)(state_.logger, "reply not delivered",
                                          {{"cid", d.id}, {"class", to_string(classified.cls)}});
    }
  }
  return make_response(http::status::ok, success(), v, keep);
}

// A delivery the gateway cannot take is DROPped: daprd retries every other refusal, holding
// the reply partition (and every later reply on it) for as long as it does.
Response Deliveries::drop_oversize(unsigned version, bool keep, std::uint64_t bytes) {
  state_.metrics.reply(ReplyClass::malformed);
  log::warn(state_.logger, "oversize reply dropped", {{"bytes", bytes}, {"limit", state_.cfg.max_reply_body}});
  return make_response(http::status::ok, drop(), version, keep && !state_.stopping);
}

Response Deliveries::drop_unreadable(std::string_view error) {
  state_.metrics.reply(ReplyClass::malformed);
  log::warn(state_.logger, "unreadable delivery dropped", {{"error", error}});
  return make_response(http::status::ok, drop(), 11, false);
}

}  // namespace rrkit::gateway
