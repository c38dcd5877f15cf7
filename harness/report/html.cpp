// The self-contained HTML report. Self-contained on purpose (CI artefacts are often opened offline or behind a
// proxy): it carries its CSS and its plots (harness/report/plots.cpp) inline and never names an external URL.
#include <string>

#include <fmt/format.h>

#include "harness/report.h"
#include "harness/report/plots.h"
#include "harness/report/text.h"

namespace rrkit::harness {

using namespace report_detail;

namespace {

constexpr const char* page_css = R"css(
:root { --fg:#1d2330; --muted:#5b6475; --line:#d9dee7; --bg:#f6f7f9; --card:#fff;
        --pass:#0a7d4f; --pass-bg:#e3f5ec; --fail:#b42318; --fail-bg:#fde8e6; --err:#7a2e9c; --err-bg:#f3e8fa; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--fg);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", Arial, sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 24px 28px 60px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 0; }
h3 { font-size: 15px; margin: 22px 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
a { color: #1f5fbf; text-decoration: none; } a:hover { text-decoration: underline; }
.meta { color: var(--muted); margin: 0 0 18px; }
.meta span { margin-right: 18px; white-space: nowrap; }
.totals { display:flex; gap:12px; margin: 14px 0 22px; flex-wrap: wrap; }
.total { background: var(--card); border:1px solid var(--line); border-radius:8px; padding:10px 18px; min-width:120px; }
.total b { display:block; font-size:24px; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 18px 22px;
        margin: 0 0 22px; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { padding: 6px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
th { background: #eef1f5; font-weight: 600; white-space: nowrap; }
td.name { white-space: nowrap; font-weight: 600; }
td.failing { min-width: 190px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tr:last-child td { border-bottom: none; }
.badge { display:inline-block; padding: 1px 9px; border-radius: 10px; font-size: 12px; font-weight: 700;
         letter-spacing: .04em; }
.badge.pass { color: var(--pass); background: var(--pass-bg); }
.badge.fail { color: var(--fail); background: var(--fail-bg); }
.badge.error { color: var(--err); background: var(--err-bg); }
.head { display:flex; align-items:center; gap: 12px; margin-bottom: 6px; }
.desc { margin: 4px 0 10px; }
pre, code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 13px; }
pre { background: #f1f3f6; border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 0;
      white-space: pre-wrap; word-break: break-all; }
pre.error { background: var(--err-bg); border-color: #dcc3ea; }
ul.checks { list-style: none; padding: 0; margin: 0; }
ul.checks li { padding: 4px 0 4px 26px; position: relative; border-bottom: 1px dashed var(--line); }
ul.checks li:last-child { border-bottom: none; }
ul.checks li::before { position: absolute; left: 2px; font-weight: 700; }
ul.checks li.pass::before { content: "\2713"; color: var(--pass); }
ul.checks li.fail::before { content: "\2717"; color: var(--fail); }
ul.checks li.not_applicable::before { content: "\2013"; color: var(--muted); }
ul.checks li.not_applicable .msg { color: var(--muted); }
ul.checks .msg { display:block; color: var(--fail); font-size: 14px; }
ul.checks li.pass .msg { color: var(--muted); }
ol.events { margin: 0; padding-left: 28px; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 13px; }
.grid2 { display:grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 18px; }
svg.plot { width: 100%; height: auto; display: block; background: #fff; }
svg.plot text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif; fill: #333; }
svg.plot .tick { font-size: 12px; fill: #555; }
svg.plot .legend { font-size: 13px; }
svg.plot .note { font-size: 12px; fill: #777; font-style: italic; }
svg.plot .axis-title { font-size: 13px; fill: #333; }
svg.plot .bar-label { font-size: 11px; fill: #444; }
svg.plot .event-label { font-size: 11px; fill: #6a3d9a; font-weight: 700; }
svg.plot .grid { stroke: #e3e6eb; stroke-width: 1; }
svg.plot .grid.minor { stroke: #f0f2f5; }
svg.plot .axis, svg.plot .tickmark { stroke: #555; stroke-width: 1; }
svg.plot .event { stroke: #6a3d9a; stroke-width: 1.2; stroke-dasharray: 4 3; }
svg.plot .strip { fill: #f4f4f4; }
svg.plot .dots circle { fill-opacity: .65; }
.muted { color: var(--muted); }
footer { color: var(--muted); font-size: 13px; margin-top: 30px; }
)css";

std::string anchor_of(std::size_t i) { return fmt::format("s{}", i); }

std::string badge(const std::string& status) {
  const std::string cls = status == "pass" ? "pass" : status == "fail" ? "fail" : "error";
  std::string text = status.empty() ? std::string("UNKNOWN") : status;
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return fmt::format("<span class=\"badge {}\">{}</span>", cls, html(text));
}

void summary_table(std::string& out, const SuiteResult& suite) {
  auto o = std::back_inserter(out);
  out += "<div class=\"card\"><table><thead><tr><th>scenario</th><th>status</th><th class=\"num\">duration</th>"
         "<th class=\"num\">requests</th><th class=\"num\">ok</th><th class=\"num\">timeout</th>"
         "<th class=\"num\">rejected</th><th class=\"num\">error</th><th class=\"num\">other</th>"
         "<th class=\"num\">p50</th><th class=\"num\">p99</th><th class=\"num\">max</th>"
         "<th>failing checks</th></tr></thead><tbody>\n";
  for (std::size_t i = 0; i < suite.scenarios.size(); ++i) {
    const auto& s = suite.scenarios[i];
    const auto c = outcome_counts(s);
    const bool has_latency = s.latency.count > 0;
    std::string failing;
    for (const auto* f : failing_checks(s)) {
      if (!failing.empty()) failing += "<br>";
      failing += html(f->name);
    }
    if (s.status != ScenarioStatus::pass && s.status != ScenarioStatus::fail && !s.error.empty()) {
      if (!failing.empty()) failing += "<br>";
      failing += html(s.error);
    }
    fmt::format_to(o,
                   "<tr><td class=\"name\"><a href=\"#{}\">{}</a></td><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                   "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                   "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>"
                   "<td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"failing\">{}</td></tr>\n",
                   anchor_of(i), html(s.name), badge(to_string(s.status)), format_seconds(s.duration_s), count_of(c, "sent"),
                   count_of(c, "ok"), count_of(c, "timeout"), count_of(c, "rejected"), count_of(c, "error"),
                   other_outcomes(c) - count_of(c, "error"), has_latency ? format_ms(s.latency.p50) : "-",
                   has_latency ? format_ms(s.latency.p99) : "-", has_latency ? format_ms(s.latency.max) : "-",
                   failing.empty() ? "<span class=\"muted\">none</span>" : failing);
  }
  out += "</tbody></table></div>\n";
}

void counter_table(std::string& out, const std::string& title, const std::string& value_title,
                   const std::map<std::string, double>& counters) {
  if (counters.empty()) return;
  auto o = std::back_inserter(out);
  fmt::format_to(o, "<div><h3>{}</h3><table><thead><tr><th>counter</th><th class=\"num\">{}</th></tr></thead><tbody>",
                 html(title), html(value_title));
  for (const auto& [k, v] : counters) {
    fmt::format_to(o, "<tr><td>{}</td><td class=\"num\">{:g}</td></tr>", html(k), v);
  }
  out += "</tbody></table></div>";
}

void scenario_section(std::string& out, const ScenarioResult& s, std::size_t i) {
  auto o = std::back_inserter(out);
  fmt::format_to(o, "<section class=\"card\" id=\"{}\"><div class=\"head\"><h2>{}</h2>{}</div>\n", anchor_of(i),
                 html(s.name), badge(to_string(s.status)));
  fmt::format_to(o, "<div class=\"meta\"><span>file <code>{}</code></span><span>seed <code>{}</code></span>"
                    "<span>duration {}</span>",
                 html(s.path), s.seed, format_seconds(s.duration_s));
  if (!s.run_dir.empty()) fmt::format_to(o, "<span>run folder <code>{}</code></span>", html(s.run_dir));
  out += "</div>\n";
  if (!s.description.empty()) fmt::format_to(o, "<p class=\"desc\">{}</p>\n", html(s.description));
  if (!s.error.empty()) fmt::format_to(o, "<h3>infrastructure error</h3><pre class=\"error\">{}</pre>\n", html(s.error));
  fmt::format_to(o, "<h3>reproduce</h3><pre>{}</pre>\n", html(s.repro));
  for (std::size_t k = 0; k < s.repro_requests.size() && k < s.failing_requests.size(); ++k) {
    fmt::format_to(o, "<p>request #{} alone:</p><pre>{}</pre>\n", s.failing_requests[k], html(s.repro_requests[k]));
  }

  const std::size_t na = not_applicable_checks(s).size();
  fmt::format_to(o, "<h3>checks ({} of {} passed{})</h3><ul class=\"checks\">",
                 s.checks.size() - failing_checks(s).size() - na, s.checks.size(),
                 na > 0 ? fmt::format(", {} not applicable", na) : std::string());
  // Failures first: they are what the reader came for.
  for (const auto state : {CheckState::fail, CheckState::not_applicable, CheckState::pass}) {
    for (const auto& c : s.checks) {
      if (c.state != state) continue;
      fmt::format_to(o, "<li class=\"{}\">{}", to_string(state), html(c.name));
      if (state == CheckState::not_applicable) out += " <span class=\"muted\">(not applicable)</span>";
      if (!c.message.empty()) fmt::format_to(o, "<span class=\"msg\">{}</span>", html(c.message));
      out += "</li>";
    }
  }
  if (s.checks.empty()) out += "<li class=\"muted\">no checks ran</li>";
  out += "</ul>\n";

  fmt::format_to(o, "<h3>per-request timeline</h3>{}\n", timeline_svg(s));
  if (!s.events.empty()) {
    out += "<h3>timeline events</h3><ol class=\"events\">";
    for (const auto& e : s.events) fmt::format_to(o, "<li>{}</li>", html(e));
    out += "</ol>\n";
  }
  if (const auto cost = failover_rows(s.failover); !cost.empty()) {
    out += "<h3>what the faults cost</h3><table class=\"failover\"><tbody>";
    for (const auto& [label, value] : cost) {
      fmt::format_to(o, "<tr><td>{}</td><td class=\"num\">{}</td></tr>", html(label), html(value));
    }
    out += "</tbody></table>\n";
  }
  fmt::format_to(o, "<h3>latency histogram</h3>{}\n", histogram_svg(s));
  if (s.latency.count > 0) {
    const auto& l = s.latency;
    fmt::format_to(o, "<p class=\"muted\">over {} answered requests: p50 {} · p90 {} · p99 {} · p99.9 {} · max {} · mean {}</p>\n",
                   l.count, format_ms(l.p50), format_ms(l.p90), format_ms(l.p99), format_ms(l.p999),
                   format_ms(l.max), format_ms(l.mean));
  }

  out += "<div class=\"grid2\">";
  if (!s.classifications.empty()) {
    out += "<div><h3>checker classification</h3><table><thead><tr><th>class</th><th class=\"num\">requests</th></tr></thead><tbody>";
    for (const auto& [k, v] : s.classifications) {
      fmt::format_to(o, "<tr><td>{}</td><td class=\"num\">{}</td></tr>", html(k), v);
    }
    out += "</tbody></table></div>";
  }
  counter_table(out, "simulator (induced)", "count", s.simulator_counters);
  counter_table(out, "gateway (counted, all instances)", "count", s.gateway_counters);
  out += "</div>\n";

  // The first unusual requests in full, so that a failure can be read without opening the run folder.
  std::vector<const RequestRecord*> unusual;
  std::size_t unusual_total = 0;
  for (const auto& r : s.requests) {
    if (r.classification == Classification::ok || (r.classification == Classification::none && r.outcome == Outcome::ok)) {
      continue;
    }
    ++unusual_total;
    if (unusual.size() < 50) unusual.push_back(&r);
  }
  // A report that lists a sample of the requests counts the unusual ones from the classifications.
  if (s.requests_omitted > 0) {
    unusual_total = 0;
    for (const auto& [name, n] : s.classifications) unusual_total += name == "ok" ? 0 : n;
  }
  if (!unusual.empty()) {
    fmt::format_to(o, "<h3>requests not classified ok ({} of {} shown)</h3><table><thead><tr>"
                      "<th class=\"num\">#</th><th>nonce</th><th>correlation id</th><th class=\"num\">gw</th>"
                      "<th class=\"num\">HTTP</th><th>outcome</th><th>classification</th><th class=\"num\">latency</th>"
                      "<th>simulator</th></tr></thead><tbody>",
                   unusual.size(), unusual_total);
    for (const auto* r : unusual) {
      std::string sim = r->simulator_rule.empty() ? r->simulator_action.str()
                                                  : fmt::format("{}: {}", r->simulator_rule, r->simulator_action);
      std::string outcome = to_string(r->outcome);
      if (!r->client_error.empty()) outcome += " (" + r->client_error + ")";
      // The gateway's answer as a tooltip: what a mis-correlated or malformed reply actually said.
      std::string answer = r->response_text();
      if (answer.size() > 400) answer = answer.substr(0, 400) + "...";
      fmt::format_to(o, "<tr title=\"{}\">", html(answer.empty() ? std::string("no response body") : "response: " + answer));
      fmt::format_to(o,
                     "<td class=\"num\">{}</td><td><code>{}</code></td><td><code>{}</code></td>"
                     "<td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td class=\"num\">{}</td>"
                     "<td>{}</td></tr>",
                     r->index, html(r->nonce), html(r->correlation_id), r->gateway, r->http_status, html(outcome),
                     html(r->classification_text()), format_ms(r->latency_ms()), html(sim));
    }
    out += "</tbody></table>\n";
  }
  out += "</section>\n";
}

std::string html_page(const SuiteResult& suite) {
  std::size_t passed = 0, failed = 0, errors = 0;
  std::uint64_t requests = 0;
  for (const auto& s : suite.scenarios) {
    if (s.status == ScenarioStatus::pass) ++passed;
    else if (s.status == ScenarioStatus::fail) ++failed;
    else ++errors;
    requests += count_of(outcome_counts(s), "sent");
  }
  const char* verdict = suite.exit_code() == 0 ? "pass" : suite.exit_code() == 1 ? "fail" : "error";
  std::string out;
  out.reserve(1 << 20);
  auto o = std::back_inserter(out);
  fmt::format_to(o,
                 "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
                 "<title>rrkit report · {} passed, {} failed{}</title><style>{}</style></head><body><main>\n",
                 passed, failed, errors > 0 ? fmt::format(", {} errors", errors) : std::string(), page_css);
  fmt::format_to(o, "<div class=\"head\"><h1>rrkit scenario report</h1>{}</div>\n", badge(verdict));
  out += "<div class=\"meta\">";
  if (!suite.started_at.empty()) fmt::format_to(o, "<span>started {}</span>", html(suite.started_at));
  fmt::format_to(o, "<span>duration {}</span>", format_seconds(suite.duration_s));
  if (!suite.machine.empty()) fmt::format_to(o, "<span>machine {}</span>", html(suite.machine));
  for (const auto& [k, v] : suite.versions) fmt::format_to(o, "<span>{} {}</span>", html(k), html(v));
  out += "</div>\n";
  fmt::format_to(o,
                 "<div class=\"totals\"><div class=\"total\"><b>{}</b>scenarios</div>"
                 "<div class=\"total\"><b style=\"color:var(--pass)\">{}</b>passed</div>"
                 "<div class=\"total\"><b style=\"color:var(--fail)\">{}</b>failed</div>"
                 "<div class=\"total\"><b style=\"color:var(--err)\">{}</b>errors</div>"
                 "<div class=\"total\"><b>{}</b>requests</div></div>\n",
                 suite.scenarios.size(), passed, failed, errors, requests);
  summary_table(out, suite);
  for (std::size_t i = 0; i < suite.scenarios.size(); ++i) scenario_section(out, suite.scenarios[i], i);
  out += "<footer>Generated by rr-harness. Self-contained: no external resources. Latency is measured from the "
         "intended send time (open loop) or the send time (closed loop).</footer>\n</main></body></html>\n";
  return out;
}

}  // namespace

std::string render_html_report(const SuiteResult& suite) { return html_page(suite); }

void write_html_report(const SuiteResult& suite, const std::filesystem::path& file) {
  write_file_atomically(file, html_page(suite));
}

}  // namespace rrkit::harness
