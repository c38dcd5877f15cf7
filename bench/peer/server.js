// The peer rr-gateway is measured against: the seed's design written plainly, as a user might
// pick it instead of rr-gateway. Express serves the client API and the Dapr callbacks on one port;
// the Dapr JavaScript SDK publishes; a Map of correlation id -> pending promise with a timeout
// waits for the reply that daprd delivers from the reply topic.
//
// Environment: PEER_PORT (listen, 127.0.0.1), DAPR_HTTP_PORT (daprd), PEER_PUBSUB (rr-pubsub),
// PEER_REQUEST_TOPIC (rr.requests), PEER_REPLY_TOPIC (rr.replies), PEER_TIMEOUT_MS (5000).
"use strict";
const crypto = require("crypto");
const express = require("express");
const { DaprClient, CommunicationProtocolEnum } = require("@dapr/dapr");

const port = Number(process.env.PEER_PORT || 8090);
const pubsub = process.env.PEER_PUBSUB || "rr-pubsub";
const requestTopic = process.env.PEER_REQUEST_TOPIC || "rr.requests";
const replyTopic = process.env.PEER_REPLY_TOPIC || "rr.replies";
const timeoutMs = Number(process.env.PEER_TIMEOUT_MS || 5000);

const client = new DaprClient({
  daprHost: "127.0.0.1",
  daprPort: String(process.env.DAPR_HTTP_PORT || 3500),
  communicationProtocol: CommunicationProtocolEnum.HTTP,
});

// correlation id -> { resolve, timer }
const pending = new Map();

const app = express();
app.use(express.json({ type: ["application/json", "application/cloudevents+json"], limit: "1mb" }));

app.get("/healthz", (_req, res) => res.json({ pending: pending.size }));

app.get("/dapr/subscribe", (_req, res) =>
  res.json([{ pubsubname: pubsub, topic: replyTopic, route: "/replies", metadata: { rawPayload: "true" } }]));

// A delivery is a CloudEvent with data_base64 (raw payload), with data, or the plain reply.
function replyOf(body) {
  if (body && typeof body.data_base64 === "string") return JSON.parse(Buffer.from(body.data_base64, "base64").toString());
  if (body && body.data !== undefined) return typeof body.data === "string" ? JSON.parse(body.data) : body.data;
  return body;
}

app.post("/replies", (req, res) => {
  let reply;
  try {
    reply = replyOf(req.body);
  } catch (_e) {
    return res.json({ status: "DROP" });
  }
  const id = reply && reply.correlationId;
  const waiter = id && pending.get(id);
  if (waiter) {
    pending.delete(id);
    clearTimeout(waiter.timer);
    waiter.resolve(reply);
  }
  res.json({ status: "SUCCESS" });
});

app.post("/api/send", async (req, res) => {
  const id = crypto.randomUUID();
  const body = { ...req.body, correlationId: id };
  const reply = new Promise((resolve) => {
    const timer = setTimeout(() => {
      pending.delete(id);
      resolve(null);
    }, timeoutMs);
    pending.set(id, { resolve, timer });
  });
  const published = await client.pubsub.publish(pubsub, requestTopic, body, {
    metadata: { rawPayload: "true", partitionKey: id, correlationId: id },
  });
  if (published.error) {
    const waiter = pending.get(id);
    if (waiter) {
      pending.delete(id);
      clearTimeout(waiter.timer);
    }
    return res.status(503).json({ correlationId: id, error: "dapr_unavailable" });
  }
  const answer = await reply;
  if (answer === null) return res.status(504).json({ correlationId: id, error: "timeout", timeoutMs });
  res.set("X-Correlation-Id", id).json({ correlationId: id, response: answer });
});

const server = app.listen(port, "127.0.0.1", () => console.log(`peer listening on 127.0.0.1:${port}`));
server.keepAliveTimeout = 65000;
process.on("SIGTERM", () => process.exit(0));
