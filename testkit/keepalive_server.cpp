#include "testkit/keepalive_server.h"

#include <stdexcept>

#include <nlohmann/json.hpp>

#include "common/json_limits.h"
#include "common/small_http_server.h"

namespace rrkit::test {

struct KeepAliveServer::Impl {
  Impl(KeepAliveServer& o, KeepAliveServerOptions opts)
      : owner(o), options(std::move(opts)), server([this](const small_http::Request& r) { return answer(r); }, server_options()) {}
  KeepAliveServer& owner;
  KeepAliveServerOptions options;
  small_http::Server server;

  small_http::Options server_options() {
    small_http::Options o;
    o.read_timeout = std::chrono::seconds(60);
    // Between requests the idle timeout runs; the connection is closed (FIN) when it fires.
    if (options.idle_close) o.idle_timeout = *options.idle_close;
    o.write_timeout = std::chrono::seconds(10);
    o.on_open = [this] {
      ++owner.connections_;
      ++owner.open_;
    };
    o.on_close = [this](small_http::CloseReason why) {
      if (why == small_http::CloseReason::idle_timeout) ++owner.idle_closes_;
      --owner.open_;
    };
    return o;
  }

  small_http::Response answer(const small_http::Request& req) {
    const std::uint64_t nth = ++owner.requests_;
    if (const auto j = parse_bounded(req.body); j.ok() && j.value.is_object()) {
      if (const auto it = j.value.find("nonce"); it != j.value.end() && it->is_string()) {
        std::lock_guard lock(owner.mu_);
        ++owner.seen_[it->get<std::string>()];
      }
    }
    small_http::Response res;
    if (options.stale_after && req.nth_on_connection > 1 && req.idle_before >= *options.stale_after) {
      ++owner.stale_closes_;
      res.close_without_answer = true;  // the request is lost with no answer
      return res;
    }
    if (options.drop_answer_of == nth) {
      res.close_without_answer = true;
      return res;
    }
    if (options.never_answer) {
      res.delay = std::chrono::minutes(10);
      res.close_without_answer = true;
      return res;
    }
    res.delay = options.answer_delay;
    if (!options.keep_alive_header.empty()) res.headers.emplace_back("Keep-Alive", options.keep_alive_header);
    res.body = nlohmann::json{{"correlationId", "id-" + std::to_string(nth)}}.dump();
    return res;
  }
};

KeepAliveServer::KeepAliveServer(KeepAliveServerOptions options)
    : impl_(std::make_unique<Impl>(*this, std::move(options))) {
  std::string error;
  if (!impl_->server.start(error)) throw std::runtime_error("keep-alive test server: " + error);
}

KeepAliveServer::~KeepAliveServer() { impl_->server.stop(); }

std::uint16_t KeepAliveServer::port() const { return impl_->server.port(); }

std::uint64_t KeepAliveServer::times_seen(const std::string& nonce) const {
  std::lock_guard lock(mu_);
  const auto it = seen_.find(nonce);
  return it == seen_.end() ? 0 : it->second;
}

}  // namespace rrkit::test
