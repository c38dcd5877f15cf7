// What daprd delivers on the reply route, turned into a reply DTO or a reason it is malformed.
//
// daprd wraps each Kafka message in a CloudEvent: `data` holds the message when it is JSON,
// `data_base64` when it is not (or when the subscription asks for raw payloads); a delivery may
// also be the plain message. The reply itself is the DTO {CorrelationId, Payload} that the
// legacy system sends, Payload being the answer serialised as a JSON string. Property names
// match case-insensitively, as the seed's ASP.NET binder does, so both examples accept the
// same replies.
"use strict";

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The message inside a delivery: {ok: true, message} or {ok: false, error}. */
function unwrapDelivery(body) {
  if (!isObject(body)) return { ok: false, error: "delivery is not a JSON object" };
  const isCloudEvent = typeof body.specversion === "string";
  if (!isCloudEvent) return { ok: true, message: body };
  if (typeof body.data_base64 === "string") {
    const text = Buffer.from(body.data_base64, "base64").toString("utf8");
    try {
      return { ok: true, message: JSON.parse(text) };
    } catch (e) {
      return { ok: false, error: `data_base64 is not JSON: ${e.message}` };
    }
  }
  if (typeof body.data === "string") {
    try {
      return { ok: true, message: JSON.parse(body.data) };
    } catch (e) {
      return { ok: false, error: `data is a string that is not JSON: ${e.message}` };
    }
  }
  if (body.data === undefined) return { ok: false, error: "CloudEvent without data or data_base64" };
  return { ok: true, message: body.data };
}

/** Looks a property up case-insensitively (an exact match wins). */
function property(obj, name) {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

/**
 * Binds ResponseDto(string CorrelationId, string Payload).
 * @returns {{ok: true, dto: {correlationId: string, payload: string}} | {ok: false, errors: Record<string, string>}}
 */
function bindResponseDto(message) {
  if (!isObject(message)) return { ok: false, errors: { $: "the reply is not a JSON object" } };
  const errors = {};
  const correlationId = property(message, "CorrelationId");
  const payload = property(message, "Payload");
  if (correlationId === undefined || correlationId === null) errors.CorrelationId = "The CorrelationId field is required.";
  else if (typeof correlationId !== "string") errors.CorrelationId = "The JSON value could not be converted to System.String.";
  if (payload === undefined || payload === null) errors.Payload = "The Payload field is required.";
  else if (typeof payload !== "string") errors.Payload = "The JSON value could not be converted to System.String.";
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, dto: { correlationId, payload } };
}

/** A delivery to the reply's DTO: {ok: true, dto} or {ok: false, error}. */
function readDelivery(body) {
  const unwrapped = unwrapDelivery(body);
  if (!unwrapped.ok) return unwrapped;
  const bound = bindResponseDto(unwrapped.message);
  if (!bound.ok) {
    return { ok: false, error: Object.entries(bound.errors).map(([k, v]) => `${k}: ${v}`).join("; ") };
  }
  return bound;
}

module.exports = { unwrapDelivery, bindResponseDto, readDelivery };
