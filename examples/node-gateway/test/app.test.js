"use strict";
// The gateway's HTTP behaviour end to end over real sockets, with the publish to daprd replaced
// by a recorder: daprd's part (delivering replies to /onresponse) is played by the test.
const test = require("node:test");
const assert = require("node:assert/strict");
const { once } = require("node:events");
const { Waiters } = require("../lib/waiters");
const { createMetrics } = require("../lib/metrics");
const { clientApp, daprApp } = require("../lib/app");

async function startGateway({ timeoutMs = 60000, publishResult = {} } = {}) {
  const config = { timeoutMs, maxBody: "1mb", pubsub: "rr-pubsub", replyTopic: "rr.replies", appApiToken: "" };
  const waiters = new Waiters();
  const metrics = createMetrics(waiters);
  const published = [];
  let notify = () => {};
  const publish = async (id, event) => {
    published.push({ id, event });
    notify();
    return publishResult;
  };
  const logs = [];
  const deps = { config, waiters, metrics, publish, daprHealthy: async () => true, log: (l) => logs.push(l) };
  const client = clientApp(deps).listen(0, "127.0.0.1");
  const dapr = daprApp(deps).listen(0, "127.0.0.1");
  await Promise.all([once(client, "listening"), once(dapr, "listening")]);
  const base = `http://127.0.0.1:${client.address().port}`;
  const daprBase = `http://127.0.0.1:${dapr.address().port}`;
  return {
    waiters, published, logs, base, daprBase,
    // Resolves once the n-th publish happened (no sleeping).
    publishedCount(n) {
      return new Promise((resolve) => {
        const check = () => (published.length >= n ? resolve() : (notify = check));
        check();
      });
    },
    deliver(body) {
      return fetch(`${daprBase}/onresponse`, {
        method: "POST",
        headers: { "Content-Type": "application/cloudevents+json" },
        body: typeof body === "string" ? body : JSON.stringify(body),
      });
    },
    async metric(series) {
      const text = await (await fetch(`${base}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith(series + " "));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    },
    close() {
      client.closeAllConnections();
      dapr.closeAllConnections();
      client.close();
      dapr.close();
    },
  };
}

function send(base, body = { nonce: "rr-1-1" }) {
  return fetch(`${base}/api/send`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

test("a request is published as {correlationId, payload} and answered with its reply as JSON", async (t) => {
  const g = await startGateway();
  t.after(() => g.close());
  const answer = send(g.base, { nonce: "rr-1-7", action: "x" });
  await g.publishedCount(1);
  const { id, event } = g.published[0];
  assert.deepEqual(event, { correlationId: id, payload: { nonce: "rr-1-7", action: "x" } });
  const payload = JSON.stringify({ echo: event, digest: "d" });
  const ack = await g.deliver({ specversion: "1.0", data: { CorrelationId: id, Payload: payload } });
  assert.deepEqual(await ack.json(), { status: "SUCCESS" });
  const res = await answer;
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-correlation-id"), id);
  assert.deepEqual(await res.json(), { correlationId: id, response: { echo: event, digest: "d" } });
  assert.equal(g.waiters.size, 0);
  assert.equal(await g.metric('rr_node_gateway_replies_total{class="matched"}'), 1);
  assert.equal(await g.metric('rr_node_gateway_requests_total{outcome="ok"}'), 1);
});

test("a timeout answers 504, frees the waiter, and the late reply is counted then a copy is a duplicate", async (t) => {
  const g = await startGateway({ timeoutMs: 50 });
  t.after(() => g.close());
  const res = await send(g.base);
  assert.equal(res.status, 504);
  const body = await res.json();
  assert.equal(body.error, "timeout");
  assert.equal(body.timeoutMs, 50);
  assert.equal(g.waiters.size, 0);
  assert.equal(await g.metric("rr_node_gateway_pending"), 0);
  const late = { specversion: "1.0", data: { CorrelationId: body.correlationId, Payload: "{}" } };
  assert.deepEqual(await (await g.deliver(late)).json(), { status: "SUCCESS" });
  assert.deepEqual(await (await g.deliver(late)).json(), { status: "SUCCESS" });
  assert.equal(await g.metric('rr_node_gateway_replies_total{class="late"}'), 1);
  assert.equal(await g.metric('rr_node_gateway_replies_total{class="duplicate"}'), 1);
  assert.equal(await g.metric('rr_node_gateway_requests_total{outcome="timeout"}'), 1);
});

test("malformed replies are dropped (never an error status daprd would retry) and counted", async (t) => {
  const g = await startGateway();
  t.after(() => g.close());
  for (const bad of [
    { specversion: "1.0", data: { CorrelationId: "x", Payload: { not: "a string" } } },
    { specversion: "1.0", data: { Payload: "x" } },
    "{not json",
  ]) {
    const ack = await g.deliver(bad);
    assert.equal(ack.status, 200);
    assert.deepEqual(await ack.json(), { status: "DROP" });
  }
  assert.equal(await g.metric('rr_node_gateway_replies_total{class="malformed"}'), 3);
  await g.deliver({ specversion: "1.0", data: { CorrelationId: "someone-else", Payload: "{}" } });
  assert.equal(await g.metric('rr_node_gateway_replies_total{class="unknown"}'), 1);
});

test("the reply subscription asks for raw payloads, so daprd delivers even non-JSON replies for the app to drop", async (t) => {
  const g = await startGateway();
  t.after(() => g.close());
  const subs = await (await fetch(`${g.daprBase}/dapr/subscribe`)).json();
  assert.deepEqual(subs, [{ pubsubname: "rr-pubsub", topic: "rr.replies", route: "/onresponse", metadata: { rawPayload: "true" } }]);
  // What daprd then delivers for a reply that is not JSON, and for one that is.
  const raw = (text) => ({ specversion: "1.0", datacontenttype: "application/octet-stream", data_base64: Buffer.from(text).toString("base64") });
  assert.deepEqual(await (await g.deliver(raw("{not json"))).json(), { status: "DROP" });
  assert.deepEqual(await (await g.deliver(raw(JSON.stringify({ CorrelationId: "someone-else", Payload: "{}" })))).json(), { status: "SUCCESS" });
  assert.equal(await g.metric('rr_node_gateway_replies_total{class="malformed"}'), 1);
  assert.equal(await g.metric('rr_node_gateway_replies_total{class="unknown"}'), 1);
});

test("bad client input gets a clear error and publishes nothing", async (t) => {
  const g = await startGateway();
  t.after(() => g.close());
  const post = (body, type = "application/json") =>
    fetch(`${g.base}/api/send`, { method: "POST", headers: { "Content-Type": type }, body });
  assert.equal((await post("{nope")).status, 400);
  assert.equal((await post("[1]")).status, 400);
  assert.equal((await post("{}", "text/plain")).status, 415);
  assert.equal((await post(JSON.stringify({ big: "x".repeat(2 * 1024 * 1024) }))).status, 413);
  assert.equal(g.published.length, 0);
  assert.equal(g.waiters.size, 0);
  assert.equal(await g.metric('rr_node_gateway_requests_total{outcome="bad_request"}'), 4);
});

test("a failed publish answers 503 at once and leaves no waiter", async (t) => {
  const g = await startGateway({ publishResult: { error: new Error("daprd down") } });
  t.after(() => g.close());
  const res = await send(g.base);
  assert.equal(res.status, 503);
  assert.equal((await res.json()).error, "dapr_unavailable");
  assert.equal(g.waiters.size, 0);
  assert.equal(await g.metric('rr_node_gateway_requests_total{outcome="publish_failed"}'), 1);
});

test("a client that goes away frees its waiter before the deadline", async (t) => {
  const g = await startGateway();
  t.after(() => g.close());
  const ac = new AbortController();
  const stays = send(g.base);
  const aborted = fetch(`${g.base}/api/send`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: "{}", signal: ac.signal,
  }).catch(() => "aborted");
  await g.publishedCount(2);
  ac.abort();
  assert.equal(await aborted, "aborted");
  // The server sees the close asynchronously: wait for it on the metric, with a deadline.
  const deadline = Date.now() + 10000;
  while ((await g.metric('rr_node_gateway_requests_total{outcome="client_gone"}')) !== 1) {
    assert.ok(Date.now() < deadline, "the gateway never noticed the client leave");
    await new Promise((r) => setImmediate(r));
  }
  assert.equal(g.waiters.size, 1, "only the other request still waits");
  g.waiters.close();
  assert.equal((await stays).status, 503);
});
