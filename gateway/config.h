#pragma once
// rr-gateway's one typed configuration, filled by CLI11 from flags, RR_GATEWAY_* environment
// variables and an optional config file (--config), printable with --print-config.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "common/endpoint.h"

namespace CLI {
class App;
}

namespace rrkit::gateway {

enum class ReplyMode { broadcast, reply_to };

using rrkit::Endpoint;

// "HOST:PORT" (host may be empty for 0.0.0.0); nullopt when malformed.
std::optional<Endpoint> parse_endpoint(const std::string& text);

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string callback_listen = "127.0.0.1:8081";
  std::string dapr_host = "127.0.0.1";
  std::uint16_t dapr_http_port = 3500;
  std::string pubsub = "rr-pubsub";
  std::string request_topic = "rr.requests";
  std::string reply_topic = "rr.replies";
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds max_timeout{60000};
  std::size_t max_pending = 10000;
  std::size_t max_body = 1048576;
  // Deliveries carry the reply in a (possibly base64) CloudEvent: room for a reply that echoes a
  // --max-body request. A bigger delivery is DROPped (daprd would retry any refusal forever).
  std::size_t max_reply_body = 4 * 1048576;
  // Open connections per listener; lowered at startup to fit the descriptor limit while keeping
  // descriptors for the daprd pool and the callback listener. 0 clients: whatever is left.
  std::size_t max_client_connections = 0;
  std::size_t max_callback_connections = 256;
  // A request's header must arrive within header_timeout of its first byte (and a new connection
  // must send its first byte within it); a keep-alive connection may idle for idle_timeout.
  std::chrono::milliseconds header_timeout{10000};
  std::chrono::milliseconds idle_timeout{120000};
  // How long a publish may wait for a free daprd connection before 503 dapr_busy.
  std::chrono::milliseconds dapr_acquire_timeout{100};
  std::chrono::milliseconds late_window{60000};
  std::size_t late_window_max = 100000;
  std::string instance_id;
  ReplyMode reply_mode = ReplyMode::broadcast;
  std::string id_field = "correlationId";
  // Bulk subscribe on the reply subscription: daprd posts up to reply_bulk_max_messages replies of a
  // partition in one request, or what it has after reply_bulk_max_await. Off by default: at low load
  // each reply may wait up to reply_bulk_max_await for its batch (bench/RESULTS.md has both figures).
  bool reply_bulk_subscribe = false;
  unsigned reply_bulk_max_messages = 100;
  std::chrono::milliseconds reply_bulk_max_await{5};
  // Bulk publish of queued requests: requests that arrive while publish_bulk_calls publishes are
  // in flight wait and go together, up to publish_bulk_max per call (a request alone goes as a plain
  // publish, so a lone request waits for nothing). 0: off, every request its own publish. On by
  // default with one I/O thread, off by default with more (it needs one; bench/RESULTS.md section 7).
  unsigned publish_bulk_max = 100;
  unsigned publish_bulk_calls = 1;
  unsigned threads = 1;
  // One I/O thread: connections need no strands, daprd calls no hop, the io_context no locks (executors.h).
  bool single_thread() const { return threads == 1; }
  std::size_t dapr_connections = 64;
  std::string log_level = "info";
  // Secrets come from the environment only (APP_API_TOKEN / DAPR_API_TOKEN) and are never printed.
  std::string app_api_token;
  std::string dapr_api_token;

  // The topic this instance's replies arrive on: the shared reply topic (broadcast) or its own (reply-to).
  std::string subscribed_reply_topic() const {
    return reply_mode == ReplyMode::reply_to ? reply_topic + "." + instance_id : reply_topic;
  }
};

// Text form of the options before validation; CLI11 binds to these.
struct ConfigText {
  std::string timeout = "5s";
  std::string max_timeout = "60s";
  std::string late_window = "60s";
  std::string header_timeout = "10s";
  std::string idle_timeout = "120s";
  std::string dapr_acquire_timeout = "100ms";
  std::string reply_bulk_max_await = "5ms";
  std::string reply_mode = "broadcast";
  bool print_config = false;
};

// Registers every rr-gateway option on app, bound to cfg/text.
void add_options(CLI::App& app, Config& cfg, ConfigText& text);

// Converts the text fields, applies DAPR_HTTP_PORT / tokens from the environment and checks
// cross-field rules. Returns an error message, or nullopt when the configuration is usable.
std::optional<std::string> finalize(CLI::App& app, Config& cfg, const ConfigText& text);

// rr-gateway's command line: registers the options, parses argv and finalizes cfg/text. Returns the exit
// code when the program is done (--help, --version, --print-config: ok; bad flags: usage, with the error
// on stderr), nullopt when the gateway should run. Here rather than in main.cpp because CLI11 is
// header-only and costs seconds of compile time in each translation unit that uses it.
std::optional<int> parse_command_line(int argc, char** argv, Config& cfg, ConfigText& text);

}  // namespace rrkit::gateway
