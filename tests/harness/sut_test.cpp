#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <unistd.h>

#include "common/gateway_metrics.h"
#include "harness/scenario.h"
#include "harness/sut.h"

namespace sut_test {

namespace fs = std::filesystem;
using namespace rrkit::harness;
using nlohmann::json;

namespace {

const fs::path kSource = "/suts/demo/sut.yaml";

constexpr const char* kMinimal = "name: demo\nstart:\n  argv: [node, \"{{sut_dir}}/server.js\"]\n";

SutLoad parse(const std::string& text) { return parse_sut(text, kSource); }

// The error of text, which must not load.
SutLoad refused(const std::string& text) {
  auto r = parse(text);
  INFO(text);
  REQUIRE_FALSE(r.ok());
  REQUIRE(r.error.rfind(kSource.string() + ":", 0) == 0);
  return r;
}

// A minimal valid file plus extra top-level text.
std::string with(const std::string& extra) { return std::string(kMinimal) + extra; }

fs::path rr_gateway_sut() { return fs::path(RRKIT_SOURCE_DIR) / "sut" / "rr-gateway.yaml"; }

SutInstanceVars instance_vars(int instance) {
  SutInstanceVars v;
  v.instance = instance;
  v.port = 41001;
  v.app_port = 41002;
  v.dapr_http_port = 41003;
  v.dapr_grpc_port = 41004;
  v.timeout = "2s";
  v.timeout_ms = 2000;
  v.pubsub = "rr-pubsub";
  v.request_topic = "rr.requests";
  v.reply_topic = "rr.replies";
  v.reply_mode = "broadcast";
  v.sut_dir = "/suts/demo";
  v.bin_dir = "/opt/rrkit/bin";
  v.run_dir = "/runs/happy-seed1";
  v.app_api_token = "s3cret";
  return v;
}

NonceLookup run_nonces(std::set<std::string> nonces) {
  return [nonces = std::move(nonces)](std::string_view n) { return nonces.count(std::string(n)) > 0; };
}

}  // namespace

TEST_CASE("a minimal SUT file loads with the documented defaults") {
  const auto r = parse(kMinimal);
  REQUIRE(r.ok());
  const Sut& s = *r.sut;
  CHECK(s.name == "demo");
  CHECK(s.dir == fs::path("/suts/demo"));
  CHECK(s.start.argv == std::vector<std::string>{"node", "{{sut_dir}}/server.js"});
  CHECK(s.start.env.empty());
  CHECK_FALSE(s.start.scenario_args);
  CHECK(s.start.stop_grace == std::chrono::seconds(10));
  CHECK(s.dapr.app_id == "{{name}}-{{instance}}");
  CHECK(s.dapr.app_port == AppPortMode::separate);
  REQUIRE(s.ready.http);
  CHECK(s.ready.http->path == "/healthz");
  CHECK(s.ready.http->status == 200);
  CHECK(s.ready.subscription);
  CHECK(s.ready.timeout == std::chrono::seconds(60));
  CHECK(s.ready.warmup == std::chrono::microseconds(0));
  CHECK(s.request.method == "POST");
  CHECK(s.request.path == "/api/send");
  CHECK(s.request.headers == EnvList{{"Content-Type", "application/json"}});
  CHECK(s.request.body == json("{{body}}"));
  CHECK(s.answer.ok_status == 200);
  CHECK(s.answer.timeout_status == 504);
  CHECK(s.answer.correlation_id == IdSource::none);
  CHECK(s.answer.echo == EchoMode::body);
  CHECK_FALSE(s.metrics);
  CHECK(s.contract_yaml.empty());
}

TEST_CASE("a complete SUT file loads with its values") {
  const auto r = parse(R"(name: node-gateway
description: the seed's design done right
start:
  argv: [node, "{{sut_dir}}/server.js", --timeout-ms, "{{timeout_ms}}"]
  env: {PORT: "{{port}}", DAPR_HTTP_PORT: "{{dapr_http_port}}", APP_ID: "{{app_id}}"}
  cwd: "{{sut_dir}}/work"
  scenario_args: false
  stop_grace: 3s
dapr:
  app_id: "node-{{instance}}"
  app_port: same
ready:
  http: {path: /ready, status: 204}
  subscription: false
  timeout: 20s
  warmup: 8s
request:
  method: PUT
  path: /send
  headers: {Content-Type: application/json, X-Client: rrkit}
  body: '{"payload": "{{body}}", "seq": "{{seq}}"}'
answer:
  ok_status: 201
  timeout_status: 408
  correlation_id: {json: /correlationId}
  echo: /response/payload
metrics:
  path: /prom
  series:
    pending: node_pending
    replies_late: 'node_replies_total{class="late"}'
contract:
  request_id: /correlationId
  reply:
    body: {CorrelationId: "{{id}}", Payload: "{{payload_string}}"}
)");
  REQUIRE(r.ok());
  const Sut& s = *r.sut;
  CHECK(s.description == "the seed's design done right");
  CHECK(s.start.argv.size() == 4);
  CHECK(s.start.env == EnvList{{"PORT", "{{port}}"}, {"DAPR_HTTP_PORT", "{{dapr_http_port}}"}, {"APP_ID", "{{app_id}}"}});
  CHECK(s.start.cwd == "{{sut_dir}}/work");
  CHECK(s.start.stop_grace == std::chrono::seconds(3));
  CHECK(s.dapr.app_port == AppPortMode::same);
  CHECK(s.ready.http->path == "/ready");
  CHECK(s.ready.http->status == 204);
  CHECK_FALSE(s.ready.subscription);
  CHECK(s.ready.timeout == std::chrono::seconds(20));
  CHECK(s.ready.warmup == std::chrono::seconds(8));
  CHECK(s.request.method == "PUT");
  CHECK(s.request.headers.size() == 2);
  CHECK(s.request.body == json{{"payload", "{{body}}"}, {"seq", "{{seq}}"}});
  CHECK(s.answer.ok_status == 201);
  CHECK(s.answer.timeout_status == 408);
  CHECK(s.answer.correlation_id == IdSource::json);
  CHECK(s.answer.correlation_id_at == "/correlationId");
  CHECK(s.answer.echo == EchoMode::pointer);
  CHECK(s.answer.echo_pointer == "/response/payload");
  REQUIRE(s.metrics);
  CHECK(s.metrics->path == "/prom");
  CHECK(s.metrics->series.at("pending").name == "node_pending");
  CHECK(s.metrics->series.at("pending").label.empty());
  CHECK(s.metrics->series.at("replies_late").name == "node_replies_total");
  CHECK(s.metrics->series.at("replies_late").label == "class");
  CHECK(s.metrics->series.at("replies_late").value == "late");
  CHECK(s.contract_yaml.find("request_id: /correlationId") != std::string::npos);
  CHECK(s.contract_yaml.find("{{payload_string}}") != std::string::npos);
}

TEST_CASE("SUT errors name file:line:col and the key") {
  const auto r = refused("name: demo\nstart:\n  argv: [node]\n  colour: blue\n");
  CHECK(r.key == "start.colour");
  CHECK(r.line == 4);
  CHECK(r.column == 3);
  CHECK(r.error.rfind(kSource.string() + ":4:3: start.colour: unknown key", 0) == 0);
}

TEST_CASE("SUT file: an unknown key is refused at every level") {
  CHECK(refused(with("colour: blue\n")).key == "colour");
  CHECK(refused(with("dapr: {app_idd: x}\n")).key == "dapr.app_idd");
  CHECK(refused(with("ready: {http: {path: /h, code: 200}}\n")).key == "ready.http.code");
  CHECK(refused(with("request: {verb: GET}\n")).key == "request.verb");
  CHECK(refused(with("answer: {timeout: 504}\n")).key == "answer.timeout");
  CHECK(refused(with("answer: {correlation_id: {body: /id}}\n")).key == "answer.correlation_id.body");
  CHECK(refused(with("metrics: {series: {pending: p}, url: /m}\n")).key == "metrics.url");
}

TEST_CASE("SUT file: a wrong type is refused") {
  CHECK(refused("name: [a]\nstart: {argv: [x]}\n").key == "name");
  CHECK(refused("name: demo\nstart: [x]\n").key == "start");
  CHECK(refused("name: demo\nstart: {argv: x}\n").key == "start.argv");
  CHECK(refused("name: demo\nstart: {argv: [[x]]}\n").key == "start.argv");
  CHECK(refused(with("  env: [A]\n")).key == "start.env");
  CHECK(refused(with("  env: {A: {b: c}}\n")).key == "start.env.A");
  CHECK(refused(with("  scenario_args: yes please\n")).key == "start.scenario_args");
  CHECK(refused(with("  stop_grace: soon\n")).key == "start.stop_grace");
  CHECK(refused(with("ready: {subscription: 1}\n")).key == "ready.subscription");
  CHECK(refused(with("ready: {timeout: -3s}\n")).key == "ready.timeout");
  CHECK(refused(with("ready: {warmup: a while}\n")).key == "ready.warmup");
  CHECK(refused(with("ready: {warmup: 0s}\n")).key == "ready.warmup");
  CHECK(refused(with("request: {body: {a: \"{{body}}\"}}\n")).key == "request.body");
  CHECK(refused(with("metrics: {series: {pending: [p]}}\n")).key == "metrics.series.pending");
  CHECK(refused(with("contract: [a]\n")).key == "contract");
  CHECK(refused("- a\n- b\n").key == "(file)");
}

TEST_CASE("SUT file: name is required and restricted") {
  CHECK(refused("start: {argv: [x]}\n").key == "name");
  CHECK(refused("name: Demo\nstart: {argv: [x]}\n").key == "name");
  CHECK(refused("name: -demo\nstart: {argv: [x]}\n").key == "name");
  CHECK(refused("name: de_mo\nstart: {argv: [x]}\n").key == "name");
  CHECK(parse("name: 9demo-2\nstart: {argv: [x]}\n").ok());
}

TEST_CASE("SUT file: start and a non-empty argv are required") {
  CHECK(refused("name: demo\n").key == "start");
  CHECK(refused("name: demo\nstart: {env: {A: b}}\n").key == "start.argv");
  const auto empty = refused("name: demo\nstart: {argv: []}\n");
  CHECK(empty.key == "start.argv");
  CHECK(empty.error.find("non-empty") != std::string::npos);
  CHECK(refused("name: demo\nstart: {argv: [\"\", x]}\n").key == "start.argv");
}

TEST_CASE("SUT file: an unknown placeholder is refused where placeholders are read") {
  const auto argv = refused("name: demo\nstart: {argv: [x, \"{{prot}}\"]}\n");
  CHECK(argv.key == "start.argv");
  CHECK(argv.error.find("unknown placeholder {{prot}}") != std::string::npos);
  CHECK(argv.error.find("{{port}}") != std::string::npos);  // the known ones are listed
  CHECK(refused(with("  env: {A: \"{{nope}}\"}\n")).key == "start.env.A");
  CHECK(refused(with("  cwd: \"{{home}}\"\n")).key == "start.cwd");
  CHECK(refused(with("dapr: {app_id: \"x-{{instanse}}\"}\n")).key == "dapr.app_id");
  // Its own value is not known while the app id is being made.
  CHECK(refused(with("dapr: {app_id: \"{{app_id}}\"}\n")).key == "dapr.app_id");
  CHECK(refused("name: demo\nstart: {argv: [\"{{port\"]}\n").error.find("without") != std::string::npos);
  // Headers take no placeholders; the body knows only body, nonce and seq.
  CHECK(refused(with("request: {headers: {X-Port: \"{{port}}\"}}\n")).key == "request.headers.X-Port");
  CHECK(refused(with("request: {body: '{\"a\": \"{{port}}\", \"b\": \"{{body}}\"}'}\n")).key == "request.body");
  // Every documented placeholder is accepted.
  std::string argv_all = "name: demo\nstart:\n  argv:\n";
  for (const auto& p : sut_placeholders()) argv_all += "    - \"{{" + p + "}}\"\n";
  CHECK(parse(argv_all).ok());
}

TEST_CASE("SUT file: the request body must be JSON carrying the nonce, placeholders as whole strings") {
  CHECK(refused(with("request: {body: 'not json'}\n")).key == "request.body");
  CHECK(refused(with("request: {body: '{\"a\": 1}'}\n")).error.find("nonce") != std::string::npos);
  CHECK(refused(with("request: {body: '{\"a\": \"x{{body}}\"}'}\n")).error.find("whole JSON string") != std::string::npos);
  CHECK(refused(with("request: {body: '" + std::string(200, '[') + std::string(200, ']') + "'}\n")).key == "request.body");
  CHECK(parse(with("request: {body: '{\"id\": \"{{nonce}}\", \"n\": \"{{seq}}\"}'}\n")).ok());
  CHECK(refused(with("request: {method: post}\n")).key == "request.method");
  CHECK(refused(with("request: {path: api/send}\n")).key == "request.path");
  CHECK(refused(with("request: {headers: {\"Bad Header\": x}}\n")).key == "request.headers");
}

TEST_CASE("SUT file: a bad JSON pointer is refused") {
  CHECK(refused(with("answer: {correlation_id: {json: correlationId}}\n")).key == "answer.correlation_id.json");
  CHECK(refused(with("answer: {correlation_id: {json: \"/a~2b\"}}\n")).key == "answer.correlation_id.json");
  CHECK(refused(with("answer: {correlation_id: {json: \"\"}}\n")).key == "answer.correlation_id.json");
  CHECK(refused(with("answer: {echo: response/payload}\n")).key == "answer.echo");
  CHECK(refused(with("answer: {echo: \"/a/~\"}\n")).key == "answer.echo");
  CHECK(refused(with("answer: {correlation_id: {header: X, json: /y}}\n")).key == "answer.correlation_id");
  CHECK(refused(with("answer: {correlation_id: sometimes}\n")).key == "answer.correlation_id");
  CHECK(parse(with("answer: {correlation_id: {json: \"/a~1b/0/~0\"}, echo: /x}\n")).ok());
}

TEST_CASE("SUT file: statuses outside 100..599 are refused") {
  for (const char* bad : {"99", "600", "0", "2000", "20x", "-200", "200.0", "[200]"}) {
    CHECK(refused(with(std::string("answer: {ok_status: ") + bad + "}\n")).key == "answer.ok_status");
    CHECK(refused(with(std::string("answer: {timeout_status: ") + bad + "}\n")).key == "answer.timeout_status");
    CHECK(refused(with(std::string("ready: {http: {status: ") + bad + "}}\n")).key == "ready.http.status");
  }
  CHECK(parse(with("answer: {ok_status: 100, timeout_status: 599}\n")).ok());
  CHECK(refused(with("answer: {ok_status: 504}\n")).key == "answer.timeout_status");  // must differ
}

TEST_CASE("SUT file: enumerations and metrics series are checked") {
  CHECK(refused(with("dapr: {app_port: shared}\n")).key == "dapr.app_port");
  CHECK(refused(with("dapr: {app_id: \"\"}\n")).key == "dapr.app_id");
  CHECK(refused(with("metrics: {path: /metrics}\n")).key == "metrics.series");
  const auto unknown = refused(with("metrics: {series: {replies_matchd: x}}\n"));
  CHECK(unknown.key == "metrics.series.replies_matchd");
  CHECK(unknown.error.find("replies_matched") != std::string::npos);
  CHECK(refused(with("metrics: {series: {pending: '9lives'}}\n")).key == "metrics.series.pending");
  CHECK(refused(with("metrics: {series: {pending: 'p{a=\"1\",b=\"2\"}'}}\n")).key == "metrics.series.pending");
  CHECK(refused(with("metrics: {series: {pending: 'p{a=1}'}}\n")).key == "metrics.series.pending");
  CHECK(refused(with("metrics: {series: {pending: 'p x'}}\n")).key == "metrics.series.pending");
  CHECK(parse(with("ready: {http: none}\n")).sut->ready.http == std::nullopt);
}

TEST_CASE("SUT file: YAML syntax errors, empty text and unreadable files are values") {
  const auto syntax = refused("name: [demo\n");
  CHECK(syntax.key == "(syntax)");
  CHECK(syntax.error.find("YAML syntax error") != std::string::npos);
  CHECK(refused("").key == "(file)");
  const auto missing = load_sut("/nonexistent/rrkit/sut.yaml");
  CHECK_FALSE(missing.ok());
  CHECK(missing.error == "/nonexistent/rrkit/sut.yaml: cannot read the file");
}

TEST_CASE("expanding a SUT fills every placeholder for one instance") {
  auto r = parse(R"(name: demo
start:
  argv: [node, "{{sut_dir}}/server.js", "--id={{app_id}}", "{{instance}}", "{{timeout}}", "{{timeout_ms}}",
         "{{pubsub}}/{{request_topic}}/{{reply_topic}}/{{reply_mode}}", "{{bin_dir}}", "{{run_dir}}",
         "{{dapr_grpc_port}}", "{{name}}"]
  env: {PORT: "{{port}}", APP_PORT: "{{app_port}}", DAPR_HTTP_PORT: "{{dapr_http_port}}", TOKEN: "{{app_api_token}}"}
  cwd: work
)");
  REQUIRE(r.ok());
  const auto inst = expand_instance(*r.sut, instance_vars(2), {"--ignored"});
  CHECK(inst.app_id == "demo-2");
  CHECK(inst.app_port == 41002);
  CHECK(inst.argv == std::vector<std::string>{"node", "/suts/demo/server.js", "--id=demo-2", "2", "2s", "2000",
                                              "rr-pubsub/rr.requests/rr.replies/broadcast", "/opt/rrkit/bin",
                                              "/runs/happy-seed1", "41004", "demo"});
  CHECK(inst.env == EnvList{{"PORT", "41001"}, {"APP_PORT", "41002"}, {"DAPR_HTTP_PORT", "41003"}, {"TOKEN", "s3cret"}});
  CHECK(inst.cwd == fs::path("/suts/demo/work"));  // relative to the SUT file's folder
  // A value holding braces is not expanded again.
  CHECK(expand_placeholders("{{a}}-{{b}}", {{"a", "{{b}}"}, {"b", "x"}}) == "{{b}}-x");
  CHECK(expand_placeholders("{{a", {{"a", "x"}}) == "{{a");
}

TEST_CASE("expanding a SUT: app_port same, default cwd, scenario args only when the SUT takes them") {
  auto same = parse(with("  env: {P: \"{{app_port}}\"}\n  scenario_args: true\ndapr: {app_port: same}\n"));
  REQUIRE(same.ok());
  const auto inst = expand_instance(*same.sut, instance_vars(1), {"--max-pending", "5"});
  CHECK(inst.app_port == 41001);
  CHECK(inst.env == EnvList{{"P", "41001"}});
  CHECK(inst.cwd == fs::path("/suts/demo"));
  CHECK(inst.argv == std::vector<std::string>{"node", "/suts/demo/server.js", "--max-pending", "5"});
  const auto plain = expand_instance(*parse(kMinimal).sut, instance_vars(1), {"--max-pending", "5"});
  CHECK(plain.argv == std::vector<std::string>{"node", "/suts/demo/server.js"});
}

TEST_CASE("the app id is per instance with {{instance}}, shared by all instances without it") {
  const auto own = parse(kMinimal);
  REQUIRE(own.ok());
  CHECK_FALSE(app_id_shared(*own.sut));
  CHECK(expand_instance(*own.sut, instance_vars(1)).app_id == "demo-1");
  CHECK(expand_instance(*own.sut, instance_vars(2)).app_id == "demo-2");
  const auto shared = parse(with("dapr: {app_id: \"{{name}}-shared\"}\n"));
  REQUIRE(shared.ok());
  CHECK(app_id_shared(*shared.sut));
  CHECK(expand_instance(*shared.sut, instance_vars(1)).app_id == "demo-shared");
  CHECK(expand_instance(*shared.sut, instance_vars(2)).app_id == "demo-shared");
}

TEST_CASE("sut/rr-gateway.yaml expands to the command line the topology builds for rr-gateway") {
  const auto r = load_sut(rr_gateway_sut());
  INFO(r.error);
  REQUIRE(r.ok());
  const Sut& s = *r.sut;
  CHECK(s.name == "rr-gateway");
  CHECK(s.start.scenario_args);
  CHECK_FALSE(app_id_shared(s));
  CHECK(s.dapr.app_port == AppPortMode::separate);
  auto v = instance_vars(1);
  v.timeout = "1s";
  const std::vector<std::string> gateway_args = {"--max-pending", "50"};
  const auto inst = expand_instance(s, v, gateway_args);
  // Topology::gateway_argv for gateway "gw-1" (harness/topology.cpp), written out by hand.
  const std::vector<std::string> topology_argv = {
      "/opt/rrkit/bin/rr-gateway", "--listen",        "127.0.0.1:41001", "--callback-listen", "127.0.0.1:41002",
      "--dapr-http-port",          "41003",           "--pubsub",        "rr-pubsub",         "--request-topic",
      "rr.requests",               "--reply-topic",   "rr.replies",      "--instance-id",     "gw-1",
      "--reply-mode",              "broadcast",       "--timeout",       "1s",                "--max-pending",
      "50"};
  CHECK(inst.argv == topology_argv);
  CHECK(inst.app_id == "gw-1");
  CHECK(inst.app_port == 41002);
  CHECK(inst.env == EnvList{{"APP_API_TOKEN", "s3cret"}});
  CHECK(expand_instance(s, instance_vars(3)).app_id == "gw-3");
  REQUIRE(s.ready.http);
  CHECK(s.ready.http->path == "/readyz");
  CHECK(s.answer.correlation_id == IdSource::header);
  CHECK(s.answer.correlation_id_at == "X-Correlation-Id");
  CHECK(s.answer.echo_pointer == "/response/payload/echo");
}

TEST_CASE("sut/rr-gateway.yaml names a series for every gateway operand the checker knows") {
  const auto r = load_sut(rr_gateway_sut());
  REQUIRE(r.ok());
  REQUIRE(r.sut->metrics);
  const auto& series = r.sut->metrics->series;
  CHECK(series.count("pending") == 1);
  for (const auto& op : assertion_operands()) {
    if (op.name.rfind("gateway.", 0) != 0) continue;
    INFO(op.name);
    CHECK(series.count(op.name.substr(8)) == 1);
  }
  CHECK(series.size() == sut_metric_keys().size());
}

TEST_CASE("rendering a request puts the scenario body, nonce and seq into the template") {
  const json scenario_body = {{"action", "ping"}, {"nonce", "rr-1-7"}};
  SutRequest plain;
  CHECK(render_request_body(plain, scenario_body, "rr-1-7", 7) == scenario_body);
  auto r = parse(with("request: {body: '{\"payload\": \"{{body}}\", \"id\": \"{{nonce}}\", \"n\": [\"{{seq}}\", 1], "
                      "\"k\": \"{{seq}}x\"}'}\n"));
  // A placeholder inside a longer string is refused at load, so the last key cannot load...
  CHECK_FALSE(r.ok());
  r = parse(with("request: {body: '{\"payload\": \"{{body}}\", \"id\": \"{{nonce}}\", \"n\": [\"{{seq}}\", 1], \"k\": \"x\"}'}\n"));
  REQUIRE(r.ok());
  CHECK(render_request_body(r.sut->request, scenario_body, "rr-1-7", 7) ==
        json{{"payload", scenario_body}, {"id", "rr-1-7"}, {"n", {7, 1}}, {"k", "x"}});
}

TEST_CASE("the correlation id is read from the header, the JSON pointer, or not at all") {
  SutAnswer a;
  const EnvList headers = {{"content-type", "application/json"}, {"x-correlation-id", "abc-1"}};
  CHECK(correlation_id_of(a, headers, "{}").errc == AnswerErrc::not_configured);
  a.correlation_id = IdSource::header;
  a.correlation_id_at = "X-Correlation-Id";
  const auto h = correlation_id_of(a, headers, "");
  CHECK(h.ok());
  CHECK(h.id == "abc-1");
  CHECK(correlation_id_of(a, {}, "").errc == AnswerErrc::absent);
  a.correlation_id = IdSource::json;
  a.correlation_id_at = "/meta/correlationId";
  CHECK(correlation_id_of(a, {}, R"({"meta": {"correlationId": "id-9"}})").id == "id-9");
  CHECK(correlation_id_of(a, {}, R"({"meta": {"correlationId": 42}})").id == "42");
  CHECK(correlation_id_of(a, {}, R"({"meta": {"correlationId": {"x": 1}}})").errc == AnswerErrc::wrong_type);
  CHECK(correlation_id_of(a, {}, R"({"meta": {}})").errc == AnswerErrc::absent);
  CHECK(correlation_id_of(a, {}, R"({"meta": "text"})").errc == AnswerErrc::absent);
  CHECK(correlation_id_of(a, {}, "Response timeout").errc == AnswerErrc::not_json);
  CHECK(correlation_id_of(a, {}, std::string(5000, '[') + std::string(5000, ']')).errc == AnswerErrc::too_deep);
  a.correlation_id_at = "/ids/1";
  CHECK(correlation_id_of(a, {}, R"({"ids": ["a", "b"]})").id == "b");
  CHECK(correlation_id_of(a, {}, R"({"ids": ["a"]})").errc == AnswerErrc::absent);
  a.correlation_id_at = "/a~1b/~0c";
  CHECK(correlation_id_of(a, {}, R"({"a/b": {"~c": "escaped"}})").id == "escaped");
}

TEST_CASE("echo: body finds a nonce only as a whole token") {
  SutAnswer a;  // echo: body
  const auto known = run_nonces({"rr-1-12", "rr-1-123", "rr-1-2"});
  // rr-1-12's own answer holding only rr-1-123: neither its own nonce nor (by text) a prefix match.
  auto c = echo_nonce_check(a, R"({"echo": {"nonce": "rr-1-123"}})", "rr-1-12", known);
  CHECK_FALSE(c.own);
  CHECK(c.others == std::vector<std::string>{"rr-1-123"});
  CHECK_FALSE(c.ok());
  c = echo_nonce_check(a, R"({"echo": {"nonce": "rr-1-12"}})", "rr-1-12", known);
  CHECK(c.own);
  CHECK(c.others.empty());
  CHECK(c.ok());
  CHECK_FALSE(echo_nonce_check(a, "xrr-1-12", "rr-1-12", known).own);
  CHECK_FALSE(echo_nonce_check(a, "rr-1-12_", "rr-1-12", known).own);
  CHECK(echo_nonce_check(a, "rr-1-12.", "rr-1-12", known).own);
  // Both: its own and another request's.
  c = echo_nonce_check(a, "rr-1-12 and rr-1-2, rr-1-2 again", "rr-1-12", known);
  CHECK(c.own);
  CHECK(c.others == std::vector<std::string>{"rr-1-2"});
  // A nonce inside a JSON string inside JSON, after an escaped newline: the escape separates.
  c = echo_nonce_check(a, R"({"Payload": "{\"x\":\"a\nrr-1-12\"}"})", "rr-1-12", known);
  CHECK(c.own);
  // A nonce of no request of this run is not "another request's".
  CHECK(echo_nonce_check(a, "rr-9-1 rr-1-12", "rr-1-12", known).others.empty());
  // Plain-text answers are searched too.
  CHECK_FALSE(echo_nonce_check(a, "Response timeout", "rr-1-12", known).own);
}

TEST_CASE("echo: <pointer> descends through JSON strings that hold JSON") {
  SutAnswer a;
  a.echo = EchoMode::pointer;
  a.echo_pointer = "/response/payload/echo";
  const auto known = run_nonces({"rr-1-1", "rr-1-2"});
  // rr-gateway's shape: objects all the way.
  auto c = echo_nonce_check(a, R"({"response": {"payload": {"echo": {"nonce": "rr-1-1"}}}})", "rr-1-1", known);
  CHECK(c.ok());
  CHECK(c.echoed == "rr-1-1");
  // A DTO with the payload as a JSON string, and the echoed request a JSON string in it.
  const json inner = {{"echo", json(json{{"nonce", "rr-1-2"}}).dump()}};
  const json outer = {{"response", {{"payload", inner.dump()}}}};
  c = echo_nonce_check(a, outer.dump(), "rr-1-1", known);
  CHECK_FALSE(c.own);
  CHECK(c.echoed == "rr-1-2");
  CHECK(c.others == std::vector<std::string>{"rr-1-2"});
  // Another request's nonce appearing elsewhere in the answer does not count: the pointer decides.
  c = echo_nonce_check(a, R"({"note": "rr-1-2", "response": {"payload": {"echo": {"nonce": "rr-1-1"}}}})", "rr-1-1", known);
  CHECK(c.ok());
  CHECK(echo_nonce_check(a, R"({"response": {}})", "rr-1-1", known).errc == AnswerErrc::absent);
  CHECK(echo_nonce_check(a, R"({"response": {"payload": "not json"}})", "rr-1-1", known).errc == AnswerErrc::not_json);
  CHECK(echo_nonce_check(a, R"({"response": {"payload": {"echo": {"id": 1}}}})", "rr-1-1", known).errc ==
        AnswerErrc::absent);
  CHECK(echo_nonce_check(a, R"({"response": {"payload": {"echo": {"nonce": 5}}}})", "rr-1-1", known).errc ==
        AnswerErrc::wrong_type);
  CHECK(echo_nonce_check(a, "Response timeout", "rr-1-1", known).errc == AnswerErrc::not_json);
  // A deep document inside a string is refused like any other outside input.
  const json deep = {{"response", {{"payload", std::string(500, '[') + std::string(500, ']')}}}};
  CHECK(echo_nonce_check(a, deep.dump(), "rr-1-1", known).errc == AnswerErrc::too_deep);
}

TEST_CASE("metrics series are read from a Prometheus text exposition") {
  const auto r = load_sut(rr_gateway_sut());
  REQUIRE(r.ok());
  const std::string scrape =
      "# HELP rr_gateway_pending requests waiting for their reply\n"
      "# TYPE rr_gateway_pending gauge\n"
      "rr_gateway_pending 3\n"
      "rr_gateway_replies_total{class=\"matched\"} 40\n"
      "rr_gateway_replies_total{class=\"late\"} 2\n"
      "rr_gateway_requests_total{outcome=\"ok\"} 40\n"
      "rr_gateway_requests_total{outcome=\"timeout\"} 7\n";
  const auto values = read_metrics(*r.sut->metrics, scrape);
  CHECK(values.at("pending") == 3.0);
  CHECK(values.at("replies_matched") == 40.0);
  CHECK(values.at("replies_late") == 2.0);
  CHECK(values.at("requests_timeout") == 7.0);
  CHECK(values.at("replies_unknown") == std::nullopt);  // no sample: unreadable, not zero
  SutSeries all{"rr_gateway_replies_total", "", "", "rr_gateway_replies_total"};
  CHECK(read_series(all, scrape) == 42.0);
}

TEST_CASE("the README's SUT example loads") {
  std::ifstream in(fs::path(RRKIT_SOURCE_DIR) / "README.md");
  const std::string readme((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto intro = readme.find("A complete file for a Node.js gateway");
  REQUIRE(intro != std::string::npos);
  const auto start = readme.find("```yaml\n", intro);
  REQUIRE(start != std::string::npos);
  const auto end = readme.find("```", start + 8);
  REQUIRE(end != std::string::npos);
  const auto r = parse_sut(readme.substr(start + 8, end - start - 8), "README.md");
  INFO(r.error);
  REQUIRE(r.ok());
  CHECK(r.sut->name == "node-gateway");
  CHECK(r.sut->start.env.size() == 9);
  CHECK(r.sut->metrics->series.size() == 4);
  CHECK_FALSE(r.sut->contract_yaml.empty());
  // The README's example of an error message is the loader's.
  const auto bad = parse_sut("name: demo\nstart:\n  argv: [x]\n  colour: blue\n", "sut.yaml");
  CHECK(readme.find("\n" + bad.error + "\n") != std::string::npos);
}

TEST_CASE("SUT file: a key given twice is refused, in the file and in env and headers") {
  CHECK(refused("name: demo\nname: other\nstart: {argv: [x]}\n").key == "name");
  CHECK(refused(with("  env: {A: x, A: y}\n")).key == "start.env.A");
  CHECK(refused(with("request: {headers: {X-A: x, x-a: y}}\n")).key == "request.headers.x-a");
  CHECK(refused(with("answer: {ok_status: 200, ok_status: 201}\n")).key == "answer.ok_status");
}

TEST_CASE("load_sut reads a file, names it as given, and refuses one far too large") {
  const auto folder = fs::temp_directory_path() / ("rrkit-sut-test-" + std::to_string(::getpid()));
  fs::create_directories(folder);
  const auto file = folder / "sut.yaml";
  std::ofstream(file) << "name: demo\nstart:\n  argv: [x]\n  colour: 1\n";
  const auto bad = load_sut(file);
  CHECK(bad.error.rfind(file.string() + ":4:3: start.colour:", 0) == 0);
  std::ofstream(file) << kMinimal;
  const auto good = load_sut(file);
  REQUIRE(good.ok());
  CHECK(good.sut->dir == folder);
  std::ofstream(file) << std::string(kMaxSutFileBytes + 10, '#');
  const auto big = load_sut(file);
  CHECK_FALSE(big.ok());
  CHECK(big.error.find("larger than") != std::string::npos);
  fs::remove_all(folder);
}

TEST_CASE("sut/rr-gateway.yaml's series are the gateway's typed metric contract") {
  namespace gm = rrkit::gateway_metrics;
  const auto r = load_sut(rr_gateway_sut());
  REQUIRE(r.ok());
  const auto& series = r.sut->metrics->series;
  CHECK(series.at("pending").text == gm::series(gm::kPending));
  for (const auto c : gm::kReplyClasses) {
    const std::string key = "replies_" + std::string(gm::to_string(c));
    INFO(key);
    REQUIRE(series.count(key) == 1);
    CHECK(series.at(key).text == gm::series(c));
  }
  for (const auto& [key, s] : series) {
    if (key.rfind("requests_", 0) != 0) continue;
    INFO(key);
    const auto outcome = key.substr(9);
    const bool known = std::any_of(gm::kOutcomes.begin(), gm::kOutcomes.end(),
                                   [&](gm::Outcome o) { return gm::to_string(o) == outcome; });
    CHECK(known);
    CHECK(s.text == gm::series(gm::kRequests, gm::kOutcomeLabel, outcome));
  }
}

}  // namespace sut_test
