"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { readDelivery, bindResponseDto } = require("../lib/delivery");

const dto = { CorrelationId: "id-1", Payload: '{"echo":{"nonce":"rr-1-1"}}' };
const ok = { ok: true, dto: { correlationId: "id-1", payload: dto.Payload } };

test("the DTO in a CloudEvent's data, in data_base64, in data as a string, or plain", () => {
  assert.deepEqual(readDelivery({ specversion: "1.0", data: dto }), ok);
  assert.deepEqual(readDelivery({ specversion: "1.0", data_base64: Buffer.from(JSON.stringify(dto)).toString("base64") }), ok);
  assert.deepEqual(readDelivery({ specversion: "1.0", data: JSON.stringify(dto) }), ok);
  assert.deepEqual(readDelivery(dto), ok);
});

test("property names bind case-insensitively, like the seed's binder", () => {
  assert.deepEqual(bindResponseDto({ correlationId: "id-1", payload: dto.Payload }), ok);
});

test("a Payload that is not a string, or a missing CorrelationId, is malformed and says why", () => {
  const objectPayload = readDelivery({ specversion: "1.0", data: { CorrelationId: "id-1", Payload: { echo: 1 } } });
  assert.equal(objectPayload.ok, false);
  assert.match(objectPayload.error, /^Payload: .*System\.String/);
  const noId = readDelivery({ specversion: "1.0", data: { Payload: "x" } });
  assert.equal(noId.ok, false);
  assert.match(noId.error, /^CorrelationId: .*required/);
  assert.match(readDelivery({ CorrelationId: 7, Payload: "x" }).error, /CorrelationId/);
  assert.match(readDelivery({ CorrelationId: null, Payload: "x" }).error, /CorrelationId: .*required/);
});

test("undecodable envelopes are malformed, never thrown", () => {
  assert.equal(readDelivery({ specversion: "1.0", data_base64: Buffer.from("{nope").toString("base64") }).ok, false);
  assert.equal(readDelivery({ specversion: "1.0", data: "{nope" }).ok, false);
  assert.equal(readDelivery({ specversion: "1.0" }).ok, false);
  assert.equal(readDelivery([1, 2]).ok, false);
  assert.equal(readDelivery("text").ok, false);
  assert.equal(readDelivery({ specversion: "1.0", data: [dto] }).ok, false);
});
