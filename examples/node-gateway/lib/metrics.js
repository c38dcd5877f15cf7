// Prometheus metrics of the node gateway (prom-client). Names carry the rr_node_gateway_ prefix;
// their meaning matches rr-gateway's (requests by outcome, pending gauge, oldest pending age,
// replies by class, request and publish latency), so one SUT file's `metrics:` block reads either.
"use strict";
const client = require("prom-client");
const { ReplyClass } = require("./waiters");

const Outcome = Object.freeze({
  ok: "ok",
  timeout: "timeout",
  publishFailed: "publish_failed",
  clientGone: "client_gone",
  badRequest: "bad_request",
});

/** @param {import("./waiters").Waiters} waiters */
function createMetrics(waiters) {
  const registry = new client.Registry();
  const requests = new client.Counter({
    name: "rr_node_gateway_requests_total",
    help: "Client requests by outcome",
    labelNames: ["outcome"],
    registers: [registry],
  });
  const replies = new client.Counter({
    name: "rr_node_gateway_replies_total",
    help: "Replies delivered by daprd, by class (matched, late, duplicate, unknown, malformed)",
    labelNames: ["class"],
    registers: [registry],
  });
  new client.Gauge({
    name: "rr_node_gateway_pending",
    help: "Requests waiting for their reply",
    registers: [registry],
    collect() {
      this.set(waiters.size);
    },
  });
  new client.Gauge({
    name: "rr_node_gateway_oldest_pending_seconds",
    help: "Age of the oldest waiting request",
    registers: [registry],
    collect() {
      this.set(waiters.oldestAgeMs() / 1000);
    },
  });
  const requestSeconds = new client.Histogram({
    name: "rr_node_gateway_request_duration_seconds",
    help: "Time from a client request to its answer",
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  const publishSeconds = new client.Histogram({
    name: "rr_node_gateway_publish_duration_seconds",
    help: "Time daprd took to accept a publish",
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
    registers: [registry],
  });
  // Every series exists from the start at 0, so a scraper's difference "after - before" is
  // defined even for a class that never happened.
  for (const o of Object.values(Outcome)) requests.inc({ outcome: o }, 0);
  for (const c of Object.values(ReplyClass)) replies.inc({ class: c }, 0);
  client.collectDefaultMetrics({ register: registry, prefix: "rr_node_gateway_" });
  return { registry, requests, replies, requestSeconds, publishSeconds };
}

module.exports = { createMetrics, Outcome };
