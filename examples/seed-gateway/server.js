// The seed gateway, ported from ASP.NET + the Dapr .NET SDK to Express + the Dapr JavaScript SDK
// as faithfully as the languages allow, defects included: it is a system under test that rrkit's
// conformance checks must FAIL. README.md names the three defects; do not fix them here
// (examples/node-gateway is the same design done right).
//
// Environment: PORT (8080; the client API and Dapr's callbacks share it, as in ASP.NET),
// DAPR_HTTP_PORT (3500), PUBSUB (rr-pubsub), REQUEST_TOPIC (rr.requests), REPLY_TOPIC
// (rr.replies), TIMEOUT_MS (5000).
"use strict";
const crypto = require("crypto");
const express = require("express");
const { DaprClient, CommunicationProtocolEnum } = require("@dapr/dapr");
const { ResponseWaiter } = require("./lib/response_waiter");
const { bindResponseDto, validationProblem } = require("./lib/response_dto");

const port = Number(process.env.PORT || 8080);
const pubsub = process.env.PUBSUB || "rr-pubsub";
const requestTopic = process.env.REQUEST_TOPIC || "rr.requests";
const replyTopic = process.env.REPLY_TOPIC || "rr.replies";
const timeoutMs = Number(process.env.TIMEOUT_MS || 5000);

const dapr = new DaprClient({
  daprHost: "127.0.0.1",
  daprPort: String(process.env.DAPR_HTTP_PORT || 3500),
  communicationProtocol: CommunicationProtocolEnum.HTTP,
});
const waiter = new ResponseWaiter();

const app = express();
app.disable("x-powered-by");
app.use(express.json({ type: ["application/json", "application/cloudevents+json"], strict: false }));

// app.MapSubscribeHandler() + [Topic(pubsub, replyTopic)] on the /onresponse action.
app.get("/dapr/subscribe", (_req, res) => res.json([{ pubsubname: pubsub, topic: replyTopic, route: "/onresponse" }]));

app.get("/healthz", (_req, res) => res.type("text/plain").send("Healthy"));

// [HttpPost("/onresponse")] public IActionResult OnResponse(ResponseDto dto)
app.post("/onresponse", (req, res) => {
  const bound = bindResponseDto(req.body);
  if (!bound.ok) return res.status(400).type("application/problem+json").send(JSON.stringify(validationProblem(bound.errors)));
  // DEFECT KEPT ON PURPOSE (2): a reply for an id nobody waits on any more (late) or never
  // registered here (another replica's) is dropped without a log line or a counter.
  waiter.complete(bound.dto.CorrelationId, bound.dto.Payload);
  res.status(200).end();
});

// [HttpPost("/api/send")] public async Task<IActionResult> Send([FromBody] JsonElement request)
app.post("/api/send", async (req, res) => {
  const correlationId = crypto.randomUUID();
  const registered = waiter.register(correlationId, req.body);
  // PublishEventAsync: daprd wraps the object in a CloudEvent (no rawPayload).
  const published = await dapr.pubsub.publish(pubsub, requestTopic, { correlationId, payload: req.body });
  if (published.error) {
    // The .NET SDK throws; the unhandled exception is ASP.NET's 500. The waiter stays registered.
    return res.status(500).type("text/plain").send("An unhandled exception has occurred.");
  }
  const result = await waiter.waitAsync(correlationId, timeoutMs, registered);
  if (result === null) return res.status(504).type("text/plain").send("Response timeout");
  // Ok(string) answers the string as text/plain.
  res.status(200).type("text/plain").send(result);
});

// Invalid JSON from a client: ASP.NET's 400 problem details.
app.use((err, _req, res, _next) => {
  const status = err.status || err.statusCode || 500;
  res.status(status).type("application/problem+json").send(
    JSON.stringify({ title: status === 400 ? "One or more validation errors occurred." : "Error", status }));
});

const server = app.listen(port, "127.0.0.1", () =>
  console.log(`seed-gateway listening on 127.0.0.1:${port}, daprd HTTP ${process.env.DAPR_HTTP_PORT || 3500}, timeout ${timeoutMs} ms`));
server.keepAliveTimeout = 65000;
process.on("SIGTERM", () => process.exit(0));
process.on("SIGINT", () => process.exit(0));
