#pragma once
// The system-under-test (SUT) file: how rr-harness starts, reaches, asks and judges one gateway
// that is not necessarily rr-gateway (the format is described in the README, "Testing your own
// gateway: the SUT file"). Loading validates as strictly as scenarios: an unknown key, a wrong
// type, an unknown {{placeholder}}, an empty argv, a bad JSON pointer or a status outside
// 100..599 is an error naming file:line:col: key. Everything after loading is pure functions
// (expansion, request rendering, answer reading, metrics), so the runner's use of a SUT can be
// tested without a process or a socket. Values only: no function here throws.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace rrkit::harness {

using EnvList = std::vector<std::pair<std::string, std::string>>;

struct SutStart {
  std::vector<std::string> argv;  // templates; never empty in a loaded file
  EnvList env;                    // templates for the values, in file order
  std::string cwd;                // template; empty: the SUT file's folder
  bool scenario_args = false;     // a scenario's stack.gateway_args are appended to argv
  std::chrono::microseconds stop_grace = std::chrono::seconds(10);  // SIGTERM, then SIGKILL
};

enum class AppPortMode { separate, same };  // same: the client port also serves Dapr's callbacks

struct SutDapr {
  std::string app_id = "{{name}}-{{instance}}";  // without {{instance}}: one app id (and group) for all
  AppPortMode app_port = AppPortMode::separate;
};

struct SutHttpCheck {
  std::string path = "/healthz";
  int status = 200;
};

struct SutReady {
  std::optional<SutHttpCheck> http = SutHttpCheck{};  // nullopt: `http: none`
  bool subscription = true;  // daprd lists a subscription to the reply topic
  std::chrono::microseconds timeout = std::chrono::seconds(60);
  // How long the warm-up keeps a closed loop running before a closed-loop scenario (warmup_hold_plan);
  // 0: none. A runtime that compiles under load (V8, the JVM, .NET) answers late for its first seconds
  // of it, which is its cold start, not its timeout's precision.
  std::chrono::microseconds warmup{0};
};

struct SutRequest {
  std::string method = "POST";
  std::string path = "/api/send";
  EnvList headers = {{"Content-Type", "application/json"}};
  // Strings exactly "{{body}}", "{{nonce}}", "{{seq}}" are replaced when a request is rendered.
  nlohmann::json body = "{{body}}";
};

enum class IdSource { none, header, json };
enum class EchoMode { body, pointer };

struct SutAnswer {
  int ok_status = 200;
  int timeout_status = 504;
  IdSource correlation_id = IdSource::none;
  std::string correlation_id_at;  // header name, or JSON pointer into the answer body
  EchoMode echo = EchoMode::body;
  std::string echo_pointer;  // EchoMode::pointer: where the echoed request is
  // The least epsilon timeout_bounds allows this SUT (the larger of it and the scenario's counts): how
  // late, measured from the client, this gateway's timeout answer may come. Zero: the scenario decides.
  std::chrono::microseconds timeout_epsilon{0};
};

// One Prometheus series: a metric name with at most one label (what metric_sample reads).
struct SutSeries {
  std::string name;
  std::string label, value;  // empty: every sample of the name, summed
  std::string text;          // as written, for messages
};

struct SutMetrics {
  std::string path = "/metrics";
  std::map<std::string, SutSeries> series;  // operand key ("pending", "replies_matched", ...) -> series
};

struct Sut {
  std::filesystem::path file;  // where it was loaded from (messages)
  std::filesystem::path dir;   // the file's folder: {{sut_dir}}, the default cwd
  std::string name;
  std::string description;
  SutStart start;
  SutDapr dapr;
  SutReady ready;
  SutRequest request;
  SutAnswer answer;
  std::optional<SutMetrics> metrics;  // nullopt: checks that need gateway metrics are not applicable
  std::string contract_yaml;          // the simulator profile's `contract:` section (empty: none)
};

struct SutLoad {
  std::optional<Sut> sut;
  std::string error;  // "file:line:col: key: message" when sut is empty
  std::string key;    // the key the error is about ("start.argv"), for tests and tools
  int line = 0, column = 0;
  bool ok() const { return sut.has_value(); }
};

// Parses a SUT file's text; source names it in messages and gives {{sut_dir}}.
SutLoad parse_sut(std::string_view text, const std::filesystem::path& source);
// A SUT file is a page of YAML; anything far larger is a wrong path.
inline constexpr std::size_t kMaxSutFileBytes = 1024 * 1024;
// Reads and parses a file (a file that cannot be read is an error value too). Messages name the
// path as given; Sut::dir is made absolute.
SutLoad load_sut(const std::filesystem::path& path);

// The placeholders of start.argv, start.env values, start.cwd and dapr.app_id (without braces).
const std::vector<std::string>& sut_placeholders();
// A JSON pointer (RFC 6901) that points below the root: "/a/b", "~" only as ~0 or ~1.
bool is_json_pointer(const std::string& s);
// Keys a metrics.series map may use: "pending" and every gateway.<key> assertion operand.
std::vector<std::string> sut_metric_keys();

// What the harness picked for one instance. The {{...}} values of the file.
struct SutInstanceVars {
  int instance = 1;  // 1-based
  std::uint16_t port = 0;
  std::uint16_t app_port = 0;  // ignored with `app_port: same` ({{app_port}} is then {{port}})
  std::uint16_t dapr_http_port = 0;
  std::uint16_t dapr_grpc_port = 0;
  std::string timeout = "1s";  // the scenario's gateway timeout as written
  std::int64_t timeout_ms = 1000;
  std::string pubsub, request_topic, reply_topic;
  std::string reply_mode = "broadcast";
  std::filesystem::path sut_dir, bin_dir, run_dir;  // sut_dir: normally Sut::dir
  std::string app_api_token;
};

struct SutInstance {
  std::string app_id;
  std::uint16_t app_port = 0;  // the port daprd calls back on
  std::vector<std::string> argv;
  EnvList env;
  std::filesystem::path cwd;
};

// Replaces {{...}} in text; names not in vars are left as written (a loaded file has none).
std::string expand_placeholders(std::string_view text, const std::map<std::string, std::string>& vars);

// The start spec of instance vars.instance, every placeholder filled. scenario_args are appended
// only when start.scenario_args is true (the caller reports "not applicable" otherwise).
SutInstance expand_instance(const Sut& sut, const SutInstanceVars& vars,
                            const std::vector<std::string>& scenario_args = {});

// True when every instance gets the same app id (the template lacks {{instance}}): they then share
// one consumer group, so each instance receives only part of the replies.
bool app_id_shared(const Sut& sut);

// The request body for one request: the template with "{{body}}" replaced by the scenario's body
// (which already carries the nonce), "{{nonce}}" by the nonce and "{{seq}}" by the index (a number).
nlohmann::json render_request_body(const SutRequest& request, const nlohmann::json& scenario_body,
                                   const std::string& nonce, std::uint64_t seq);

enum class AnswerErrc {
  none,
  not_configured,  // correlation_id: none
  absent,          // no such header, or nothing at the pointer
  not_json,        // the body (or a JSON string on the way) is not JSON
  too_deep,        // nested deeper than kMaxJsonDepth
  wrong_type,      // the value is not a string or a number
};
const char* to_string(AnswerErrc errc);

struct IdRead {
  AnswerErrc errc = AnswerErrc::none;
  std::string id;
  bool ok() const { return errc == AnswerErrc::none; }
};

// The correlation id an answer carries, as the SUT's answer.correlation_id says. Header names are
// compared without regard to case; a JSON number is read as its text.
IdRead correlation_id_of(const SutAnswer& answer, const EnvList& headers, std::string_view body);

// True for a nonce of the run (any request's).
using NonceLookup = std::function<bool(std::string_view)>;

struct EchoCheck {
  AnswerErrc errc = AnswerErrc::none;  // echo: <pointer> only: the echoed request could not be read
  bool own = false;                    // this request's nonce is there
  std::vector<std::string> others;     // nonces of other requests of the run, each once
  std::string echoed;                  // echo: <pointer>: the "nonce" field found (if any)
  bool ok() const { return errc == AnswerErrc::none && own && others.empty(); }
};

// Whether an answer body carries this request's nonce and no other request's.
// echo: body — text search: a nonce counts only as a whole token of [A-Za-z0-9_-] ("rr-1-12" is
//   not inside "rr-1-123"); JSON escapes (\n, \", \u0041) separate tokens.
// echo: <pointer> — JSON strings met on the way (and at the end) are parsed as JSON and descended
//   into; the echoed request's "nonce" field is compared.
EchoCheck echo_nonce_check(const SutAnswer& answer, std::string_view body, std::string_view own_nonce,
                           const NonceLookup& is_run_nonce);

// Reads a series from a Prometheus text exposition (nullopt: no such sample).
std::optional<double> read_series(const SutSeries& series, const std::string& exposition);
// Every series of the SUT's metrics map read from one scrape (key -> value, nullopt: no sample).
std::map<std::string, std::optional<double>> read_metrics(const SutMetrics& metrics, const std::string& exposition);

}  // namespace rrkit::harness

namespace rrkit::harness {

// What judging a run needs of its SUT: how answers look and which metrics exist. The run folder keeps
// it (run.json "sut"), so `replay` judges a stored run exactly as the run did.
struct SutJudging {
  std::string name = "rr-gateway";
  bool scenario_args = true;  // start.scenario_args: a scenario's stack.gateway_args reach the gateway
  SutAnswer answer;
  std::optional<SutMetrics> metrics;  // nullopt: metric checks are not applicable
};

SutJudging judging_of(const Sut& sut);
// What sut/rr-gateway.yaml says (a unit test keeps the two equal): the judging of a CheckInput or a
// stored run that names no SUT.
const SutJudging& rr_gateway_judging();
nlohmann::json to_json(const SutJudging& j);
// nullopt (with the reason) on a malformed value; pointers and series are validated as a SUT file's are.
std::optional<SutJudging> sut_judging_from_json(const nlohmann::json& j, std::string& error);

// The series a SUT names for an operand key ("pending", "replies_matched"), or nullptr.
const SutSeries* sut_series(const SutJudging& j, const std::string& key);

// The echoed request an answer carries at its echo pointer (a JSON string there is parsed); nullopt for
// echo: body or when it cannot be read.
std::optional<nlohmann::json> echoed_request_of(const SutAnswer& answer, std::string_view body);

// The simulator's reply payload ({"echo": ..., "digest": ...}) inside an answer: the deepest object
// with both keys on the way to the echo pointer (JSON strings on the way are parsed). nullopt for
// echo: body, or when there is none.
std::optional<nlohmann::json> simulator_payload_of(const SutAnswer& answer, std::string_view body);

}  // namespace rrkit::harness
