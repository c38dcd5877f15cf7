// Measures how a gateway's resident memory follows timed-out requests: sends PHASES rounds of
// COUNT requests that nobody answers (no legacy system consumes the request topic) and prints
// the gateway's RSS from /proc after each round. A gateway that frees its waiters levels off after
// the first round or two (allocator retention); a leaking one keeps growing by the same step.
//
//   node examples/leak-probe.js URL PID [COUNT=5000] [PHASES=4] [CONCURRENCY=64]
"use strict";
const fs = require("fs");
const http = require("http");

const [url, pidArg, countArg = "5000", phasesArg = "4", concArg = "64"] = process.argv.slice(2);
if (!url || !pidArg) {
  console.error("usage: node leak-probe.js URL PID [COUNT] [PHASES] [CONCURRENCY]");
  process.exit(3);
}
const pid = Number(pidArg);
const count = Number(countArg);
const phases = Number(phasesArg);
const concurrency = Number(concArg);
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });

function rssKb() {
  const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]);
}

// A body like the harness's traffic: an action, some data and a nonce (about 200 bytes).
function body(phase, i) {
  return JSON.stringify({ action: "lookup", nonce: `rr-probe-${phase}-${i}`, data: { customer: `c-${i}`, items: [1, 2, 3], note: "x".repeat(120) } });
}

function send(phase, i) {
  return new Promise((resolve) => {
    const payload = body(phase, i);
    const req = http.request(url, { method: "POST", agent, headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) } }, (res) => {
      res.resume();
      res.on("end", () => resolve(res.statusCode));
    });
    req.on("error", (e) => resolve(e.code || "error"));
    req.end(payload);
  });
}

async function round(phase) {
  const statuses = new Map();
  let next = 0;
  async function worker() {
    while (next < count) {
      const s = await send(phase, next++);
      statuses.set(s, (statuses.get(s) || 0) + 1);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker));
  return statuses;
}

(async () => {
  const start = rssKb();
  console.log(`before: RSS ${(start / 1024).toFixed(1)} MB`);
  let prev = start;
  for (let p = 1; p <= phases; p++) {
    const statuses = await round(p);
    const now = rssKb();
    console.log(`round ${p}: ${count} requests ${JSON.stringify(Object.fromEntries(statuses))}, RSS ${(now / 1024).toFixed(1)} MB ` +
      `(+${((now - prev) / 1024).toFixed(1)} MB, ${Math.round(((now - prev) * 1024) / count)} B per request)`);
    prev = now;
  }
  const total = prev - start;
  console.log(`total: +${(total / 1024).toFixed(1)} MB over ${count * phases} timed-out requests, ${Math.round((total * 1024) / (count * phases))} B per request`);
  agent.destroy();
})();
