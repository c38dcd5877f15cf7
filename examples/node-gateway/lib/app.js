// The node gateway's HTTP side: the client API and Dapr's callbacks as Express apps built from
// their dependencies (a publish function, the waiter table, metrics), so tests can drive them
// without daprd.
"use strict";
const crypto = require("crypto");
const express = require("express");
const { ReplyClass } = require("./waiters");
const { readDelivery } = require("./delivery");
const { Outcome } = require("./metrics");

function jsonError(res, status, error, extra = {}) {
  return res.status(status).json({ error, ...extra });
}

/** Parses the reply's Payload when it is JSON text, so clients get the answer as JSON. */
function responseOf(payload) {
  try {
    return JSON.parse(payload);
  } catch {
    return payload;
  }
}

/**
 * The client API: POST /api/send, GET /healthz, GET /readyz, GET /metrics.
 * @param {{config: object, waiters: import("./waiters").Waiters, metrics: object,
 *          publish: (id: string, event: object) => Promise<{error?: unknown}>,
 *          daprHealthy: () => Promise<boolean>, log: (line: string) => void}} deps
 */
function clientApp({ config, waiters, metrics, publish, daprHealthy, log }) {
  const app = express();
  app.disable("x-powered-by");

  app.get("/healthz", (_req, res) => res.json({ status: "alive", pending: waiters.size }));

  app.get("/readyz", async (_req, res) => {
    const ok = await daprHealthy();
    res.status(ok ? 200 : 503).json({ ready: ok, dapr: ok ? "healthy" : "not answering /v1.0/healthz" });
  });

  app.get("/metrics", async (_req, res) => {
    res.set("Content-Type", metrics.registry.contentType).send(await metrics.registry.metrics());
  });

  app.post(
    "/api/send",
    (req, res, next) => {
      if (!req.is("application/json")) {
        metrics.requests.inc({ outcome: Outcome.badRequest });
        return jsonError(res, 415, "content type must be application/json");
      }
      next();
    },
    express.json({ limit: config.maxBody, strict: false }),
    async (req, res) => {
      if (req.body === null || typeof req.body !== "object" || Array.isArray(req.body)) {
        metrics.requests.inc({ outcome: Outcome.badRequest });
        return jsonError(res, 400, "the body must be a JSON object");
      }
      const started = process.hrtime.bigint();
      const id = crypto.randomUUID();
      const answered = waiters.add(id, config.timeoutMs);
      if (!answered) {
        // A random UUID met twice: answer rather than wait on another request's entry.
        log(`correlationId=${id} duplicate id at registration`);
        return jsonError(res, 500, "correlation id collision", { correlationId: id });
      }
      // A client that leaves stops its waiter at once instead of holding it until the deadline.
      res.on("close", () => {
        if (!res.writableFinished && waiters.cancel(id, "client_gone")) {
          metrics.requests.inc({ outcome: Outcome.clientGone });
        }
      });
      res.set("X-Correlation-Id", id);

      const publishStarted = process.hrtime.bigint();
      let failure;
      try {
        const published = await publish(id, { correlationId: id, payload: req.body });
        failure = published && published.error;
      } catch (e) {
        failure = e;
      }
      metrics.publishSeconds.observe(Number(process.hrtime.bigint() - publishStarted) / 1e9);
      if (failure) {
        // The request never reached Kafka: answer now instead of waiting out the timeout.
        waiters.cancel(id, "publish_failed");
        metrics.requests.inc({ outcome: Outcome.publishFailed });
        log(`correlationId=${id} publish failed: ${failure}`);
        return jsonError(res, 503, "dapr_unavailable", { correlationId: id, detail: String(failure) });
      }

      const outcome = await answered;
      metrics.requestSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
      if (outcome.kind === "reply") {
        metrics.requests.inc({ outcome: Outcome.ok });
        return res.json({ correlationId: id, response: responseOf(outcome.reply.payload) });
      }
      if (outcome.kind === "timeout") {
        metrics.requests.inc({ outcome: Outcome.timeout });
        return jsonError(res, 504, "timeout", { correlationId: id, timeoutMs: config.timeoutMs });
      }
      // Cancelled: by a publish failure (answered above), a gone client (no one to answer) or
      // shutdown.
      if (!res.headersSent && !res.destroyed) {
        return jsonError(res, 503, "shutting_down", { correlationId: id });
      }
    },
  );

  // Express 5 hands body-parser failures here: answer them as JSON errors.
  app.use((err, _req, res, _next) => {
    const status = err.status || err.statusCode || 500;
    if (status === 400 || status === 413) metrics.requests.inc({ outcome: Outcome.badRequest });
    const message = status === 400 ? "invalid JSON" : status === 413 ? "body too large" : "internal error";
    if (status >= 500) log(`internal error: ${err.stack || err}`);
    jsonError(res, status, message, status === 400 ? { detail: err.message } : {});
  });
  return app;
}

/**
 * Dapr's callbacks: GET /dapr/subscribe and POST /onresponse.
 * @param {{config: object, waiters: import("./waiters").Waiters, metrics: object,
 *          log: (line: string) => void}} deps
 */
function daprApp({ config, waiters, metrics, log }) {
  const app = express();
  app.disable("x-powered-by");
  // Only daprd knows the app token; checked per route so that, on a shared port, the client API
  // stays open.
  const fromDapr = (req, res, next) => {
    if (config.appApiToken && req.get("dapr-api-token") !== config.appApiToken) {
      return jsonError(res, 401, "bad dapr-api-token");
    }
    next();
  };

  // rawPayload: daprd hands over every message as it sits in Kafka (in data_base64). Without it
  // daprd parses each message itself, and one that is not JSON never reaches the app: daprd
  // retries it for ever and the partition behind it stalls, where the app would have dropped it.
  app.get("/dapr/subscribe", fromDapr, (_req, res) =>
    res.json([{ pubsubname: config.pubsub, topic: config.replyTopic, route: "/onresponse", metadata: { rawPayload: "true" } }]));

  app.post(
    "/onresponse",
    fromDapr,
    express.json({ type: ["application/json", "application/cloudevents+json"], limit: config.maxBody, strict: false }),
    (req, res) => {
      const read = readDelivery(req.body);
      if (!read.ok) {
        // DROP, never an error status: daprd would redeliver it for ever and hold the partition.
        metrics.replies.inc({ class: ReplyClass.malformed });
        log(`malformed reply dropped: ${read.error}`);
        return res.json({ status: "DROP" });
      }
      const cls = waiters.deliver(read.dto.correlationId, read.dto);
      metrics.replies.inc({ class: cls });
      // Each instance sees every reply (its own consumer group): another instance's reply is
      // "unknown" here and needs no log line.
      if (cls === ReplyClass.late || cls === ReplyClass.duplicate) {
        log(`correlationId=${read.dto.correlationId} ${cls} reply`);
      }
      res.json({ status: "SUCCESS" });
    },
  );

  app.use((err, _req, res, _next) => {
    // A delivery that is not even JSON is malformed too: drop it, count it.
    metrics.replies.inc({ class: ReplyClass.malformed });
    log(`malformed delivery dropped: ${err.message}`);
    res.json({ status: "DROP" });
  });
  return app;
}

module.exports = { clientApp, daprApp, responseOf };
