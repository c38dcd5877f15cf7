#include "gateway/deliveries.h"

#include <string>

#include "gateway/bulk_delivery.h"
#include "gateway/delivery.h"

namespace rrkit::gateway {

using nlohmann::json;

namespace {
// Written out once: the answer to every delivery is one of these two texts.
const std::string& success() {
  static const std::string kSuccess = json{{"status", "SUCCESS"}}.dump();
  return kSuccess;
}
const std::string& drop() {
  static const std::string kDrop = json{{"status", "DROP"}}.dump();
  return kDrop;
}

// A bulk delivery no entry of which can be answered (an unreadable envelope, an oversize or
// unparseable request). daprd retries every entry a 2xx answer leaves out, and every entry of any
// other status but 404, which it takes as "drop the whole batch": the single route's DROP.
Response drop_batch(std::string_view error, unsigned version, bool keep) {
  return make_response(http::status::not_found, {{"error", "undeliverable_batch"}, {"message", std::string(error)}}, version, keep);
}
}  // namespace

Deliveries::Deliveries(State& state, Readiness& readiness)
    : state_(state),
      readiness_(readiness),
      kept_success_(render_response(http::status::ok, success(), 11, true, {}, state.keep_alive)),
      kept_drop_(render_response(http::status::ok, drop(), 11, true, {}, state.keep_alive)) {}

bool Deliveries::take(DeliveryResult& parsed, std::size_t bytes) {
  if (!parsed.delivery) {
    state_.metrics.reply(ReplyClass::malformed);
    log::warn(state_.logger, "malformed reply dropped", {{"error", parsed.error}, {"bytes", bytes}});
    return false;
  }
  Delivery& d = *parsed.delivery;
  if (d.probe) {
    state_.metrics.reply(ReplyClass::probe);
    readiness_.probe_seen(d.id);
    return true;
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
  return true;
}

Answer Deliveries::handle(const Request& req, bool keep) {
  if (state_.cfg.reply_bulk_subscribe) return handle_bulk(req, keep);
  auto parsed = parse_delivery(req.body(), state_.cfg.id_field);
  const bool taken = take(parsed, req.body().size());
  if (req.version() == 11 && keep) return taken ? kept_success_ : kept_drop_;
  return render_response(http::status::ok, taken ? success() : drop(), req.version(), keep, {}, state_.keep_alive);
}

// Every entry gets the status its single delivery would get, so a batch never makes daprd retry.
Response Deliveries::handle_bulk(const Request& req, bool keep) {
  auto batch = parse_bulk_delivery(req.body(), state_.cfg.id_field);
  if (!batch.ok()) {
    state_.metrics.reply(ReplyClass::malformed);
    log::warn(state_.logger, "unreadable bulk delivery dropped", {{"error", batch.error}, {"bytes", req.body().size()}});
    return drop_batch(batch.error, req.version(), keep);
  }
  json statuses = json::array();
  for (BulkEntry& entry : batch.entries) {
    const bool taken = take(entry.result, req.body().size());
    // An entry without an id cannot be answered; daprd checks ids before it posts, so only a
    // caller other than daprd sends one, and it is counted malformed above.
    if (entry.entry_id.empty()) continue;
    statuses.push_back(json{{"entryId", std::move(entry.entry_id)}, {"status", taken ? "SUCCESS" : "DROP"}});
  }
  return make_response(http::status::ok, {{"statuses", std::move(statuses)}}, req.version(), keep);
}

// A delivery the gateway cannot take is DROPped: daprd retries every other refusal, holding
// the reply partition (and every later reply on it) for as long as it does.
Response Deliveries::drop_oversize(unsigned version, bool keep, std::uint64_t bytes) {
  state_.metrics.reply(ReplyClass::malformed);
  log::warn(state_.logger, "oversize reply dropped", {{"bytes", bytes}, {"limit", state_.cfg.max_reply_body}});
  if (state_.cfg.reply_bulk_subscribe) return drop_batch("delivery over --max-reply-body", version, keep && !state_.stopping);
  return make_response(http::status::ok, drop(), version, keep && !state_.stopping);
}

Response Deliveries::drop_unreadable(std::string_view error) {
  state_.metrics.reply(ReplyClass::malformed);
  log::warn(state_.logger, "unreadable delivery dropped", {{"error", error}});
  if (state_.cfg.reply_bulk_subscribe) return drop_batch(error, 11, false);
  return make_response(http::status::ok, drop(), 11, false);
}

}  // namespace rrkit::gateway
