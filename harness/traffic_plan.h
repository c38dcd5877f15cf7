#pragma once
// What a run sends, decided before anything is sent: the plan (closed or open loop, phases, body template,
// keys) and the pure functions of it the client loop (harness/traffic.h), the runner and the checker share.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/clock.h"
#include "harness/sut.h"

namespace rrkit::harness {

class KeptConnections;

class GatewayRoster;  // harness/traffic_roster.h

// One stretch of an open-loop schedule: `rate` requests per second for `duration` (rate 0: idle,
// which lets keep-alive connections age past the server's idle timeout).
struct TrafficPhase {
  std::chrono::microseconds duration{0};
  double rate = 0;
};

struct TrafficPlan {
  enum class Mode { closed, open };
  Mode mode = Mode::closed;
  int concurrency = 4;                   // closed loop workers
  double rate = 100;                     // open loop requests per second
  std::uint64_t requests = 100;          // total to send (0: until duration)
  std::chrono::microseconds duration{0};  // stop sending after this (0: until requests)
  std::vector<TrafficPhase> phases;      // open loop: replaces rate and duration when not empty
  nlohmann::json body_template = nlohmann::json::object();  // "{{seq}}" / "{{nonce}}" strings are substituted
  std::string nonce_field = "nonce";     // field added to every body with a unique value
  std::int64_t request_timeout_ms = 0;   // X-Request-Timeout-Ms when > 0
  std::chrono::microseconds client_timeout{std::chrono::seconds(60)};  // client gives up (outcome no_answer)
  double disconnect_fraction = 0;        // share of requests the client abandons (closes the socket)
  std::chrono::microseconds disconnect_after{std::chrono::milliseconds(200)};
  std::vector<std::uint16_t> gateway_ports;  // requests go round-robin
  // When set (a launched stack), each request picks its instance at send time among the live ones
  // instead: the timeline may add and stop instances while traffic runs. gateway_ports is then unused.
  std::shared_ptr<GatewayRoster> roster;
  std::string host = "127.0.0.1";
  // How the system under test is asked (method, path, headers, body template around the scenario's body)
  // and how it answers (which statuses are ok and timeout, where the correlation id is): its SUT file,
  // rr-gateway's by default.
  SutRequest request;
  SutAnswer answer = rr_gateway_judging().answer;
  std::string id_pointer = "/correlationId";   // JSON pointer into the answer body, used when answer finds no id
  std::uint64_t seed = 1;                // chooses which requests are abandoned; part of each request's key
  // Each request's nonce is its key, "<key_prefix>-<seed>-<index>": the simulator decides on it
  // (--key-field nonce), so the same seed puts the same faults on the same requests in every run.
  std::string key_prefix = "rr";
  // When not empty: send only these request indexes (sorted, unique), each with the key, body and
  // gateway it has in the full run; the open-loop schedule's first offsets pace them.
  std::vector<std::uint64_t> only;
  // A pooled keep-alive connection idle longer than this is closed instead of reused. It must stay
  // below the server's idle timeout (rr-gateway: 120 s), or the server may close the connection while
  // a request is on its way and the client reports the server's normal close as a failure. A
  // `Keep-Alive: timeout=N` answer lowers the bound for that connection.
  std::chrono::milliseconds keepalive_idle{std::chrono::seconds(30)};
  // When set, the run starts with these idle connections and leaves its own idle ones there
  // (harness/connection_pool.h): the warm-up's connections serve the scenario, one round's the next.
  std::shared_ptr<KeptConnections> keep;
};

// Whether the client hangs up on request `index` (after plan.disconnect_after): a pure function of
// plan.seed and index, so the checker can tell how many disconnects a run must show.
bool abandons(const TrafficPlan& plan, std::uint64_t index);

// How many requests the full plan sends (closed loop for a duration: the bound of its records).
std::uint64_t planned_requests(const TrafficPlan& plan);

// The key of request `index` in a run of `seed` (its nonce).
std::string request_key(std::string_view prefix, std::uint64_t seed, std::uint64_t index);
// Whether `key` has the form of one of a plan's keys ("<prefix>-<seed>-<digits>"), whatever its index: the
// keys a run may send, a superset of those it did (an answer checked as it arrives cannot know the rest).
bool is_plan_key(std::string_view key, std::string_view prefix, std::uint64_t seed);

// Parses an index list such as "137", "3,9,40-45" into sorted unique indexes; nullopt (with the
// reason in `error`) for anything else. Ranges are inclusive; at most `max_count` indexes.
std::optional<std::vector<std::uint64_t>> parse_index_list(std::string_view text, std::string& error,
                                                           std::size_t max_count = 100000);

// Fills a body template: strings "{{seq}}" become the request index (a number), "{{nonce}}" the nonce;
// the nonce field is then set. Exposed for tests.
nlohmann::json render_body(const nlohmann::json& templ, std::uint64_t seq, const std::string& nonce,
                           const std::string& nonce_field);

// The request body a record keeps for the history: the scenario's body for its index and nonce (what the echo
// must carry), before the SUT's template wraps it. A record whose answer was verified on arrival drops it; the
// run folder's history renders it again from here, so it keeps every request's body all the same.
std::string recorded_request_body(const TrafficPlan& plan, std::uint64_t index, std::string_view nonce);

// Closed loop for a duration: the bound of its records (enough that the workers cannot run out first).
inline constexpr std::uint64_t kClosedLoopForDuration = 50000;

// Intended send times from the start, in microseconds: the phases one after another (or one phase
// of `rate` for `duration`), capped at `requests` when that is set.
std::vector<std::int64_t> open_loop_offsets(const TrafficPlan& plan);

}  // namespace rrkit::harness
