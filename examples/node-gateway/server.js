// The node gateway: the seed's design (Express, the Dapr JavaScript SDK, a CloudEvent publish of
// {correlationId, payload}, a reply DTO {CorrelationId, Payload}) done right. Waiters leave the
// table on timeout, late and duplicate replies are counted, each instance runs with its own Dapr
// app id (its own consumer group, so it sees every reply and keeps its own), and /metrics and
// /readyz tell a harness what it needs. Configuration: lib/config.js; README.md explains.
"use strict";
const { DaprClient, CommunicationProtocolEnum } = require("@dapr/dapr");
const { loadConfig } = require("./lib/config");
const { Waiters } = require("./lib/waiters");
const { createMetrics } = require("./lib/metrics");
const { clientApp, daprApp } = require("./lib/app");

function log(line) {
  console.log(`${new Date().toISOString()} node-gateway ${line}`);
}

let config;
try {
  config = loadConfig();
} catch (e) {
  console.error(`node-gateway: ${e.message}`);
  process.exit(2);
}

const dapr = new DaprClient({
  daprHost: "127.0.0.1",
  daprPort: String(config.daprHttpPort),
  communicationProtocol: CommunicationProtocolEnum.HTTP,
  ...(config.daprApiToken ? { daprApiToken: config.daprApiToken } : {}),
});

// Without rawPayload daprd wraps the object in a CloudEvent, as the seed's PublishEventAsync does;
// the partition key keeps one request's messages in order.
function publish(id, event) {
  return dapr.pubsub.publish(config.pubsub, config.requestTopic, event, {
    metadata: { partitionKey: id, correlationId: id },
  });
}

async function daprHealthy() {
  try {
    const res = await fetch(`http://127.0.0.1:${config.daprHttpPort}/v1.0/healthz`, {
      signal: AbortSignal.timeout(1000),
      headers: config.daprApiToken ? { "dapr-api-token": config.daprApiToken } : {},
    });
    return res.status === 204 || res.status === 200;
  } catch {
    return false;
  }
}

const waiters = new Waiters({ lateWindowMs: config.lateWindowMs, lateWindowMax: config.lateWindowMax });
const metrics = createMetrics(waiters);
const deps = { config, waiters, metrics, publish, daprHealthy, log };
const servers = [];

const api = clientApp(deps);
if (config.appPort === config.port) {
  // One port for both: Dapr's routes first, so the client API's error handler does not see them.
  const both = daprApp(deps);
  both.use(api);
  servers.push(both.listen(config.port, config.host));
} else {
  servers.push(api.listen(config.port, config.host));
  servers.push(daprApp(deps).listen(config.appPort, "127.0.0.1"));
}
for (const s of servers) {
  s.keepAliveTimeout = 65000;
  s.on("error", (e) => {
    console.error(`node-gateway: listen: ${e.message}`);
    process.exit(2);
  });
}
log(`listening on ${config.host}:${config.port} (Dapr callbacks on ${config.appPort}), daprd HTTP ${config.daprHttpPort}, ` +
    `${config.pubsub} ${config.requestTopic} -> ${config.replyTopic}, timeout ${config.timeoutMs} ms`);

function shutdown(signal) {
  log(`${signal}: closing, ${waiters.size} pending`);
  waiters.close();
  let open = servers.length;
  for (const s of servers) {
    s.close(() => {
      if (--open === 0) process.exit(0);
    });
    s.closeIdleConnections();
  }
  // Keep-alive clients may hold a socket open; do not outlive the harness's stop grace.
  setTimeout(() => process.exit(0), 3000).unref();
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
