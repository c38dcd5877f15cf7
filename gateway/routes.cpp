#include "gateway/routes.h"

#include <openssl/crypto.h>

#include <string>

#include "gateway/limits.h"

namespace rrkit::gateway {

using nlohmann::json;

Routes::Routed Routes::route(const Request& req, unsigned roles, Clock::time_point started) {
  if (route_of(req.target(), roles) == Route::send && req.method() == http::verb::post) {
    auto prepared = send_.prepare(req, started);
    if (auto* p = std::get_if<Prepared>(&prepared)) return std::move(*p);
    return Answer(std::get<Response>(std::move(prepared)));
  }
  return dispatch(req, roles, started);
}

// Every route but POST /api/send.
Answer Routes::dispatch(const Request& req, unsigned roles, Clock::time_point started) {
  const std::string target(req.target());
  const std::string path = target.substr(0, target.find('?'));
  const unsigned v = req.version();
  const bool keep = req.keep_alive() && !state_.stopping;
  auto method_not_allowed = [&](const char* allow) {
    Response r = make_response(http::status::method_not_allowed,
                               {{"error", "method_not_allowed"}, {"message", std::string("use ") + allow}}, v, keep);
    r.set(http::field::allow, allow);
    return r;
  };

  if ((roles & kClient) && path == "/api/send") {
    state_.metrics.request(Outcome::bad_request, seconds_since(started));
    return method_not_allowed("POST");
  }
  if (path == "/healthz" || path == "/readyz" || path == "/metrics") {
    if (req.method() != http::verb::get) return method_not_allowed("GET");
    if (path == "/healthz") return make_response(http::status::ok, {{"status", "ok"}}, v, keep);
    if (path == "/readyz") {
      const json status = readiness_.status();
      return make_response(status["ready"].get<bool>() ? http::status::ok : http::status::service_unavailable, status,
                           v, keep);
    }
    Response r{http::status::ok, v};
    r.set(http::field::content_type, "text/plain; version=0.0.4");
    r.keep_alive(keep);
    r.body() = state_.metrics.render(state_.table.size(),
                                     std::chrono::duration<double>(state_.table.oldest_age(Clock::now())).count(),
                                     state_.client_open.load(), state_.callback_open.load());
    r.prepare_payload();
    return r;
  }
  if ((roles & kCallback) && (path == "/dapr/subscribe" || path == kReplyRoute)) {
    if (!callback_authorised(req)) {
      state_.metrics.reply(ReplyClass::forged);
      log::warn(state_.logger, "callback rejected: bad dapr-api-token", {{"path", path}});
      return make_response(http::status::unauthorized,
                           {{"error", "unauthorized"}, {"message", "missing or wrong dapr-api-token"}}, v, keep);
    }
    if (path == "/dapr/subscribe") {
      if (req.method() != http::verb::get) return method_not_allowed("GET");
      return make_response(http::status::ok, subscriptions(), v, keep);
    }
    if (req.method() != http::verb::post) return method_not_allowed("POST");
    return deliveries_.handle(req, keep);
  }
  return make_response(http::status::not_found, {{"error", "not_found"}, {"message", "no route " + path}}, v, keep);
}

bool Routes::callback_authorised(const Request& req) const {
  const std::string& token = state_.cfg.app_api_token;
  if (token.empty()) return true;
  const auto it = req.find("dapr-api-token");
  const std::string given = it == req.end() ? std::string() : std::string(it->value());
  // Constant time: the token must not leak through how long a wrong guess takes.
  return given.size() == token.size() && CRYPTO_memcmp(given.data(), token.data(), given.size()) == 0;
}

json Routes::subscriptions() const {
  const Config& cfg = state_.cfg;
  json sub = {{"pubsubname", cfg.pubsub},
              {"topic", cfg.subscribed_reply_topic()},
              {"route", kReplyRoute},
              {"metadata", {{"rawPayload", "true"}}}};
  if (cfg.reply_bulk_subscribe) {
    sub["bulkSubscribe"] = {{"enabled", true},
                            {"maxMessagesCount", cfg.reply_bulk_max_messages},
                            {"maxAwaitDurationMs", cfg.reply_bulk_max_await.count()}};
  }
  return json::array({std::move(sub)});
}

}  // namespace rrkit::gateway
