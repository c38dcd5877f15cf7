// RESULTS.md from the results document: one table per section, every figure quoted.
#include <fstream>
#include <iterator>
#include <sstream>

#include <fmt/format.h>

#include "bench/bench.h"
#include "bench/sections.h"

namespace rrkit::bench {

namespace {

using json = nlohmann::json;

double num(const json& j, const char* key) { return j.contains(key) && j[key].is_number() ? j[key].get<double>() : 0; }

std::string ms(const json& j, const char* key) { return fmt::format("{:.2f}", num(j, key)); }

}  // namespace

std::string markdown(const json& r) {
  std::ostringstream o;
  o << "# rrkit benchmark results\n\n"
    << "Produced by `bench/run.sh` (rr-bench) in one run. Figures, not thresholds. The whole stack (Kafka, daprd, "
       "the gateways, the simulator and rr-bench's load) shares the machine's cores, and the load average below says "
       "what else ran: compare ratios within one run rather than absolute numbers across runs.\n\n"
    << "How to run (from a clone, after `scripts/setup.sh` has provisioned Kafka and daprd): `bench/run.sh`. It "
       "builds only rr-bench with scripts/build.sh (in build/ when that is an optimised plain build, else "
       "build-bench/), installs examples/node-gateway with "
       "scripts/examples.sh, then `rr-bench`, which starts the real stack itself and writes bench/results/latest.json and this file. Extra flags go to "
       "rr-bench (`bin/rr-bench --help` in that build folder), e.g. `bench/run.sh --sections latency,rate`. Component logs "
       "stay in /tmp/rr-bench-<time>/.\n\n"
    << "Profiles of rr-gateway (heap per waiting request, CPU) and the fixes they suggest: bench/PROFILING.md.\n\n"
    << "| | |\n|---|---|\n"
    << "| date | " << r.value("date", "") << " |\n"
    << "| machine | " << r.value("machine", "") << " |\n";
  if (r.contains("versions")) {
    for (const auto& [k, v] : r["versions"].items()) o << "| " << k << " | " << v.get<std::string>() << " |\n";
  }
  o << "| run time | " << fmt::format("{:.0f} s", num(r, "duration_s")) << " |\n";
  if (r.contains("load_average_start")) {
    o << "| load average (1, 5, 15 min) at start / end | " << r.value("load_average_start", "") << " / "
      << r.value("load_average_end", "") << " |\n";
  }
  o << "\n";

  if (r.contains("latency")) {
    const auto& l = r["latency"];
    o << "## 1. Round-trip latency at low load (sequential requests)\n\n"
      << "| path | n | p50 ms | p99 ms | p99.9 ms | max ms | how |\n|---|---|---|---|---|---|---|\n";
    for (const auto& [key, label] : {std::pair{"a_raw_kafka", "(a) raw librdkafka ping-pong (floor)"},
                                     std::pair{"b_dapr_floor", "(b) through daprd, no gateway (Dapr floor)"},
                                     std::pair{"b_dapr_floor_grpc", "(b) through daprd over gRPC PublishEvent"},
                                     std::pair{"c_rr_gateway", "(c) rr-gateway + rr-simulator, zero delay"}}) {
      if (!l.contains(key)) continue;
      const auto& p = l[key];
      if (p.contains("skipped")) {
        o << "| " << label << " | | | | | | " << p.value("skipped", "") << " |\n";
        continue;
      }
      o << "| " << label << " | " << p.value("count", 0) << " | " << ms(p, "p50_ms") << " | " << ms(p, "p99_ms")
        << " | " << ms(p, "p999_ms") << " | " << ms(p, "max_ms") << " | " << p.value("how", "") << " |\n";
    }
    if (l.contains("ratios")) {
      const auto& q = l["ratios"];
      o << "\n| ratio | p50 | p99 | p99.9 |\n|---|---|---|---|\n"
        << fmt::format("| c/b | {:.2f} | {:.2f} | {:.2f} |\n", num(q, "c_over_b_p50"), num(q, "c_over_b_p99"),
                       num(q, "c_over_b_p999"))
        << fmt::format("| c/a | {:.2f} | {:.2f} | {:.2f} |\n", num(q, "c_over_a_p50"), num(q, "c_over_a_p99"),
                       num(q, "c_over_a_p999"));
      if (q.contains("c_over_b_grpc_p50")) {
        o << fmt::format("| c/b over gRPC | {:.2f} | {:.2f} | {:.2f} |\n", num(q, "c_over_b_grpc_p50"),
                         num(q, "c_over_b_grpc_p99"), num(q, "c_over_b_grpc_p999"));
      }
      if (q.contains("c_over_best_b_p50")) {
        o << fmt::format("| c / best of the (b) floors | {:.2f} | {:.2f} | {:.2f} |\n", num(q, "c_over_best_b_p50"),
                         num(q, "c_over_best_b_p99"), num(q, "c_over_best_b_p999"));
      }
    }
    if (l.contains("rounds") && !l["rounds"].empty()) {
      o << fmt::format("\nThe paths were measured in turn, {} rounds of {} requests each, and the figures above are "
                       "of every round's samples pooled. Each round alone, c / best of the (b) floors of that round "
                       "(p50 / p99 / p99.9):",
                       l["rounds"].size(), l.value("requests_per_round", 0));
      for (const auto& round : l["rounds"]) {
        if (!round.contains("c_over_best_b")) continue;
        const auto& q = round["c_over_best_b"];
        o << fmt::format(" round {}: {:.2f} / {:.2f} / {:.2f};", round.value("round", 0), num(q, "p50"),
                         num(q, "p99"), num(q, "p999"));
      }
      o.seekp(-1, std::ios_base::cur);
      o << ".\n";
    }
    o << "\n";
  }

  auto sweep = [&](const json& s, const std::string& title) {
    o << "## " << title << "\n\n"
      << fmt::format("Open loop, {:.0f} s per step, latency from the intended send time; sustained = every request "
                     "200 and p99 < {:.0f} ms. **Max sustained: {:.0f} req/s.**\n\n",
                     num(s, "step_seconds"), num(s, "p99_limit_ms"), num(s, "max_sustained_rps"))
      << "| rate req/s | ok | failed | achieved req/s | p50 ms | p99 ms | sustained | CPU µs per request | "
         "gateway CPU ÷ daprd CPU |\n"
      << "|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& st : s["steps"]) {
      std::string cpu;
      const json& per = st["cpu_us_per_request"];
      for (const auto& [k, v] : per.items()) cpu += fmt::format("{}{} {:.0f}", cpu.empty() ? "" : ", ", k, v.get<double>());
      // The gateway of the sweep (rr-gateway, or the peer) against its daprd, in the same step.
      std::string over = "-";
      for (const char* gw : {"gateway", "peer"}) {
        if (per.contains(gw) && per.contains("daprd") && per["daprd"].get<double>() > 0) {
          over = fmt::format("{:.2f}", per[gw].get<double>() / per["daprd"].get<double>());
        }
      }
      o << fmt::format("| {:.0f} | {} | {} | {:.0f} | {} | {} | {} | {} | {} |\n", num(st, "rate"), st.value("ok", 0),
                       st.value("failed", 0), num(st, "achieved_rps"), ms(st["latency"], "p50_ms"),
                       ms(st["latency"], "p99_ms"), st.value("sustained", false) ? "yes" : "no", cpu, over);
    }
    o << "\n";
  };
  if (r.contains("max_rate")) sweep(r["max_rate"], "2. Maximum sustained rate through rr-gateway");

  auto memory = [&](const json& points) {
    o << "| waiting requests | RSS kB | bytes per pending request (VmRSS) | anonymous bytes per pending (smaps_rollup) "
         "| TCP socket memory, bytes per pending (sockstat) | open fds |\n|---|---|---|---|---|---|\n";
    auto opt = [&](const json& p, const char* key) {
      return p.contains(key) ? fmt::format("{:.0f}", num(p, key)) : std::string("-");
    };
    for (const auto& p : points) {
      o << fmt::format("| {:.0f}{} | {} | {} | {} | {} | {} |\n", num(p, "waiting"),
                       p.contains("target") ? fmt::format(" (target {})", p.value("target", 0)) : "",
                       p.value("rss_kb", 0L), opt(p, "bytes_per_pending"), opt(p, "anonymous_bytes_per_pending"),
                       opt(p, "socket_bytes_per_pending"), p.contains("open_fds") ? std::to_string(p.value("open_fds", 0L)) : "-");
    }
    o << "\n";
  };
  if (r.contains("memory")) {
    o << "## 3. Memory: rr-gateway RSS with requests waiting\n\n"
      << "The simulator drops every request, clients wait (timeout 280 s). Bytes per pending = (RSS − RSS after the "
         "same warm-up with none waiting) / waiting, each read once the RSS has settled; the kernel's TCP buffers are "
         "not in RSS and are given beside it (/proc/net/sockstat `mem`, machine-wide).\n\n";
    memory(r["memory"]["gateway"]);
    o << "Limit: " << r["memory"].value("limit", "") << ".\n\n";
  }
  if (r.contains("timeout_precision")) {
    o << "## 4. Timeout precision\n\n"
      << "The simulator drops every request; deadline = client send time + timeout. Distribution of (504 arrival − "
         "deadline):\n\n"
      << "| rate requested | 504/s | 504s | other answers | timeout ms | min ms | p50 ms | p90 ms | p99 ms | p99.9 ms | "
         "max ms |\n|---|---|---|---|---|---|---|---|---|---|---|\n";
    for (const auto& t : r["timeout_precision"]) {
      const auto& p = t["lateness"];
      o << fmt::format("| {:.0f} | {:.0f} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n", num(t, "rate_requested"),
                       num(t, "rate_504_per_s"), t.value("timeouts", 0), t.value("other_answers", 0),
                       t.value("timeout_ms", 0), ms(p, "min_ms"), ms(p, "p50_ms"), ms(p, "p90_ms"), ms(p, "p99_ms"),
                       ms(p, "p999_ms"), ms(p, "max_ms"));
    }
    o << "\n";
  }
  if (r.contains("harness_capacity")) {
    const auto& h = r["harness_capacity"];
    o << "## 5. Harness capacity\n\n"
      << fmt::format("**{:.0f} requests/s** ({} workers, closed loop); client thread busy {:.0f}% of its core. {}.\n\n",
                     num(h, "requests_per_second"), h.value("concurrency", 0), 100 * num(h, "client_core_busy"),
                     h.value("how", ""));
  }
  if (r.contains("peer")) {
    const auto& p = r["peer"];
    o << "## 6. The peer: examples/node-gateway, the seed design done right with @dapr/dapr + Express (Node.js), "
         "path (c)\n\n"
      << "Latency (sequential, same client as (c)):\n\n"
      << "| n | p50 ms | p99 ms | p99.9 ms | max ms |\n|---|---|---|---|---|\n"
      << fmt::format("| {} | {} | {} | {} | {} |\n\n", p["latency"].value("count", 0), ms(p["latency"], "p50_ms"),
                     ms(p["latency"], "p99_ms"), ms(p["latency"], "p999_ms"), ms(p["latency"], "max_ms"));
    sweep(p["max_rate"], "6b. Maximum sustained rate through the peer");
    o << "Peer memory (node RSS; TIMEOUT_MS=280000 for this measurement only):\n\n";
    memory(p["memory"]);
  }
  if (r.contains("gateway_over_peer")) {
    const auto& v = r["gateway_over_peer"];
    o << "### rr-gateway ÷ peer\n\n| p50 | p99 | max rate | RSS per pending |\n|---|---|---|---|\n"
      << fmt::format("| {:.2f} | {:.2f} | {:.2f} | {:.2f} |\n\n", num(v, "p50"), num(v, "p99"), num(v, "max_rate"),
                     num(v, "bytes_per_pending"))
      << "Below 1 is better for rr-gateway on p50, p99 and RSS; above 1 is better on max rate.\n\n";
  }
  if (r.contains("levers")) {
    o << "## 7. Dapr levers on path (c), side by side\n\n"
      << "Each variant is a fresh rr-gateway + daprd on the same Kafka and rr-simulator, measured the same way: "
         "sequential latency at low load, then the rate ladder.\n\n"
      << "| variant | rr-gateway flags | low-load p50 ms | low-load p99 ms | max sustained req/s | p50 ms at max | "
         "p99 ms at max |\n|---|---|---|---|---|---|---|\n";
    for (const auto& v : r["levers"]["variants"]) {
      std::string args;
      for (const auto& a : v["gateway_args"]) args += (args.empty() ? "" : " ") + a.get<std::string>();
      if (!v.contains("max_rate")) {
        o << "| " << v.value("name", "") << " | " << args << " | failed: " << v.value("error", "") << " | | | | |\n";
        continue;
      }
      const json& at = v["max_rate"]["at_max"];
      const json none = json::object();
      const json& at_lat = at.is_object() && at.contains("latency") ? at["latency"] : none;
      o << fmt::format("| {} | {} | {} | {} | {:.0f} | {} | {} |\n", v.value("name", ""), args.empty() ? "(defaults)" : args,
                       ms(v["latency"], "p50_ms"), ms(v["latency"], "p99_ms"), num(v["max_rate"], "max_sustained_rps"),
                       ms(at_lat, "p50_ms"), ms(at_lat, "p99_ms"));
    }
    o << "\n";
    if (r["levers"].contains("over_off") && !r["levers"]["over_off"].empty()) {
      // The shipped defaults ("off") are the old behaviour, measured in the same run.
      o << "Each lever ÷ off (above 1 is better for max rate, below 1 for latency):\n\n"
        << "| lever | max sustained rate | low-load p50 | low-load p99 |\n|---|---|---|---|\n";
      for (const auto& [name, v] : r["levers"]["over_off"].items()) {
        o << fmt::format("| {} | {:.2f} | {:.2f} | {:.2f} |\n", name, num(v, "max_rate"), num(v, "p50_low_load"),
                         num(v, "p99_low_load"));
      }
      o << "\n";
    }
    for (const auto& v : r["levers"]["variants"]) {
      if (v.contains("max_rate")) sweep(v["max_rate"], "7. rr-gateway, lever " + v.value("name", std::string()));
    }
  }
  return o.str();
}

void write_markdown(const std::string& path, const json& results) {
  if (path.empty()) return;
  std::string kept;
  if (std::ifstream old(path); old) {
    const std::string text((std::istreambuf_iterator<char>(old)), std::istreambuf_iterator<char>());
    if (const auto at = text.find(kKeptTail); at != std::string::npos) kept = text.substr(at);
  }
  write_file(path, markdown(results) + (kept.empty() ? "" : "\n" + kept));
}

}  // namespace rrkit::bench
