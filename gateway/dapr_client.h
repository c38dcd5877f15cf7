#pragma once
// The client of the local daprd sidecar: the two Dapr calls the gateway makes (publish, health),
// each spelled only here, over a bounded keep-alive connection pool that is a private detail.
// Ownership: one per gateway, shared by all sessions; safe from any thread. With several I/O
// threads each pooled connection lives on its own strand; a call runs there and the caller awaits it.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace rrkit::gateway {

struct DaprClientConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3500;
  std::string api_token;             // sent as dapr-api-token when not empty
  std::size_t max_connections = 64;  // callers queue beyond this
  // One I/O thread runs the io_context: a call then runs on its caller's coroutine, with no
  // strand per connection and no hop to it (executors.h).
  bool single_thread = false;
};

struct DaprResult {
  // busy: no connection free within the acquire wait; abandoned: not sent because the caller
  // had already answered its client (nothing reached daprd).
  enum class Kind { ok, unreachable, rejected, timeout, busy, abandoned };
  Kind kind = Kind::unreachable;
  int status = 0;    // HTTP status when daprd answered
  std::string body;  // daprd's answer (error details on rejection)
  std::string error; // transport error text

  bool ok() const { return kind == Kind::ok; }
};

// Metadata of a publish, in order: (name, value) pairs sent as metadata.<name>=<value>.
using PublishMetadata = std::vector<std::pair<std::string, std::string>>;

// The request target of a publish: /v1.0/publish/{pubsub}/{topic}?metadata.rawPayload=true&metadata.<name>=<value>...
// with every part percent-encoded.
std::string publish_target(const std::string& pubsub, const std::string& topic, const PublishMetadata& metadata);

// One request to daprd as it goes on the wire, in the bytes Beast's serialiser wrote for the same
// message: the start line, Host (host_field is "host:port"), dapr-api-token when not empty,
// Content-Type and Content-Length when there is a body or the method is POST, then the body.
// HTTP/1.1 keeps the connection alive by default: no Connection field.
std::string request_wire(std::string_view method, std::string_view target, std::string_view host_field,
                         std::string_view api_token, std::string_view body);

class DaprClient {
 public:
  DaprClient(boost::asio::io_context& ioc, DaprClientConfig config);
  ~DaprClient();
  DaprClient(const DaprClient&) = delete;
  DaprClient& operator=(const DaprClient&) = delete;

  struct CallOptions {
    // Give up waiting for a free connection at this point (busy); none: wait until the deadline.
    std::optional<std::chrono::steady_clock::time_point> acquire_deadline;
    // Read once a connection is held, just before writing: true means the caller no longer
    // wants the request sent (its client was answered). Must outlive the call.
    const std::atomic<bool>* abandoned = nullptr;
  };

  // Publishes body to pubsub/topic through daprd's publish API, always as a raw payload (the legacy
  // system reads plain JSON, not a CloudEvent envelope); each metadata pair becomes a Kafka header.
  // Finished by `deadline`: a 2xx answer is ok, another answer is rejected, no answer is
  // unreachable (connect failed) or timeout.
  // A plain function, not a coroutine: the target is built before it returns, so the arguments
  // need not outlive the call and no frame of its own is held while the publish is in flight
  // (thousands may be in flight at once).
  boost::asio::awaitable<DaprResult> publish(const std::string& pubsub, const std::string& topic, std::string body,
                                             const PublishMetadata& metadata,
                                             std::chrono::steady_clock::time_point deadline, CallOptions options);
  boost::asio::awaitable<DaprResult> publish(const std::string& pubsub, const std::string& topic, std::string body,
                                             const PublishMetadata& metadata,
                                             std::chrono::steady_clock::time_point deadline);

  // Publishes several requests in one call through daprd's bulk publish API (gateway/bulk_publish.h
  // spells the target and body): a 2xx answer is ok for every entry; a rejection's body names the
  // entries that failed (parse_bulk_failures).
  boost::asio::awaitable<DaprResult> publish_bulk(const std::string& pubsub, const std::string& topic, std::string body,
                                                  std::chrono::steady_clock::time_point deadline, CallOptions options);

  // daprd's health endpoint: ok when daprd is up and its components are initialised.
  boost::asio::awaitable<DaprResult> healthz(std::chrono::steady_clock::time_point deadline);

  // Closes idle connections (shutdown).
  void close_idle();

 private:
  // One HTTP exchange with daprd finished by `deadline`.
  boost::asio::awaitable<DaprResult> call(std::string method, std::string target, std::string body,
                                          std::chrono::steady_clock::time_point deadline, CallOptions options);

  struct Impl;
  std::shared_ptr<Impl> impl_;
};

// Percent-encodes a query parameter value.
std::string url_encode(const std::string& value);

}  // namespace rrkit::gateway
