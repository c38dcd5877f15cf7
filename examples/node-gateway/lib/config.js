// The gateway's configuration, from the environment (a SUT file's start.env fills it).
"use strict";

function positiveInt(env, name, fallback) {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${name}: expected a positive integer, got "${raw}"`);
  return n;
}

function port(env, name, fallback) {
  const n = positiveInt(env, name, fallback);
  if (n > 65535) throw new Error(`${name}: ${n} is not a TCP port`);
  return n;
}

/** Reads the configuration; throws an Error naming the variable on a bad value (startup only). */
function loadConfig(env = process.env) {
  const clientPort = port(env, "PORT", 8080);
  return {
    port: clientPort,
    // Dapr's callbacks (subscription list, reply deliveries) on their own port when APP_PORT
    // differs, so clients cannot post forged replies to the callback route.
    appPort: port(env, "APP_PORT", clientPort),
    host: env.HOST || "127.0.0.1",
    daprHttpPort: port(env, "DAPR_HTTP_PORT", 3500),
    pubsub: env.PUBSUB || "rr-pubsub",
    requestTopic: env.REQUEST_TOPIC || "rr.requests",
    replyTopic: env.REPLY_TOPIC || "rr.replies",
    timeoutMs: positiveInt(env, "TIMEOUT_MS", 5000),
    lateWindowMs: positiveInt(env, "LATE_WINDOW_MS", 60000),
    // A count cap as well as an age: under a flood of timeouts the window must stay small, or its
    // bounded memory cannot be told from a leak (and costs ~1 KB per id in a JavaScript Map).
    lateWindowMax: positiveInt(env, "LATE_WINDOW_MAX", 10000),
    maxBody: env.MAX_BODY || "1mb",
    appApiToken: env.APP_API_TOKEN || "",
    daprApiToken: env.DAPR_API_TOKEN || "",
  };
}

module.exports = { loadConfig };
