"use strict";
// The seed's contract and its defects, pinned: rrkit's conformance suite expects this gateway to
// fail on exactly these, so a well-meant fix here would silently turn a negative control green.
const test = require("node:test");
const assert = require("node:assert/strict");
const { bindResponseDto, validationProblem } = require("../lib/response_dto");
const { ResponseWaiter } = require("../lib/response_waiter");

test("ResponseDto binds from a CloudEvent's data, case-insensitively", () => {
  const want = { ok: true, dto: { CorrelationId: "id-1", Payload: "{}" } };
  assert.deepEqual(bindResponseDto({ specversion: "1.0", data: { CorrelationId: "id-1", Payload: "{}" } }), want);
  assert.deepEqual(bindResponseDto({ specversion: "1.0", data: { correlationId: "id-1", payload: "{}" } }), want);
  const b64 = Buffer.from(JSON.stringify({ CorrelationId: "id-1", Payload: "{}" })).toString("base64");
  assert.deepEqual(bindResponseDto({ specversion: "1.0", data_base64: b64 }), want);
});

test("a Payload that is not a string, or a missing CorrelationId, does not bind (HTTP 400)", () => {
  const objectPayload = bindResponseDto({ specversion: "1.0", data: { correlationId: "id-1", payload: { echo: {} } } });
  assert.equal(objectPayload.ok, false);
  assert.deepEqual(Object.keys(objectPayload.errors), ["$.Payload"]);
  const noId = bindResponseDto({ specversion: "1.0", data: { Payload: "x" } });
  assert.deepEqual(noId.errors, { CorrelationId: "The CorrelationId field is required." });
  assert.equal(bindResponseDto({ specversion: "1.0", data: "just text" }).ok, false);
  assert.equal(validationProblem(noId.errors).status, 400);
});

test("defect kept (1): a timed-out waiter stays in the map", async () => {
  const w = new ResponseWaiter();
  w.register("a", { nonce: "rr-1-1" });
  assert.equal(await w.waitAsync("a", 1), null);
  assert.equal(w.size, 1);
});

test("defect kept (2): a late reply is accepted and goes nowhere", async () => {
  const w = new ResponseWaiter();
  w.register("a", {});
  assert.equal(await w.waitAsync("a", 1), null);
  assert.equal(w.complete("a", "late payload"), true, "taken like a match: no sign of lateness anywhere");
  assert.equal(w.size, 0);
  assert.equal(w.complete("a", "copy"), false);
});

test("a reply in time answers the waiter", async () => {
  const w = new ResponseWaiter();
  w.register("a", {});
  const answer = w.waitAsync("a", 60000);
  w.complete("a", "payload");
  assert.equal(await answer, "payload");
  assert.equal(w.size, 0);
});

test("a reply that arrives while the request is still being published answers it", async () => {
  // The controller holds the completion source it registered: a reply that completed it before the
  // wait began is still its answer (not a 504 at once).
  const w = new ResponseWaiter();
  const registered = w.register("a", {});
  w.complete("a", "fast");
  assert.equal(await w.waitAsync("a", 60000, registered), "fast");
  assert.equal(w.size, 0);
});
