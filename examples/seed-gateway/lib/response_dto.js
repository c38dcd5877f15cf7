// The seed's reply contract: record ResponseDto(string CorrelationId, string Payload), bound the
// way ASP.NET Core does it for a [Topic] action: the CloudEvents middleware replaces the body
// with the event's data, System.Text.Json binds it with case-insensitive property names, and a
// non-nullable string that is missing or null, or a JSON value that is not a string, fails
// model validation, which the [ApiController] filter answers with 400 problem details.
"use strict";

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The CloudEvents middleware: a CloudEvent's data (or decoded data_base64) becomes the body. */
function cloudEventData(body) {
  if (!isObject(body) || typeof body.specversion !== "string") return { ok: true, value: body };
  if (typeof body.data_base64 === "string") {
    try {
      return { ok: true, value: JSON.parse(Buffer.from(body.data_base64, "base64").toString("utf8")) };
    } catch (e) {
      return { ok: false, errors: { $: `data_base64 is not JSON: ${e.message}` } };
    }
  }
  return { ok: true, value: body.data };
}

function property(obj, name) {
  if (Object.prototype.hasOwnProperty.call(obj, name)) return obj[name];
  const lower = name.toLowerCase();
  for (const key of Object.keys(obj)) if (key.toLowerCase() === lower) return obj[key];
  return undefined;
}

/**
 * Binds a delivery to ResponseDto.
 * @returns {{ok: true, dto: {CorrelationId: string, Payload: string}} | {ok: false, errors: Record<string, string>}}
 */
function bindResponseDto(body) {
  const data = cloudEventData(body);
  if (!data.ok) return data;
  const message = data.value;
  if (!isObject(message)) return { ok: false, errors: { $: "The JSON value could not be converted to ResponseDto." } };
  const errors = {};
  for (const field of ["CorrelationId", "Payload"]) {
    const v = property(message, field);
    if (v === undefined || v === null) errors[field] = `The ${field} field is required.`;
    else if (typeof v !== "string") errors[`$.${field}`] = "The JSON value could not be converted to System.String.";
  }
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, dto: { CorrelationId: property(message, "CorrelationId"), Payload: property(message, "Payload") } };
}

/** ASP.NET's answer to a failed binding: RFC 7807 problem details. */
function validationProblem(errors) {
  return {
    type: "https://tools.ietf.org/html/rfc9110#section-15.5.1",
    title: "One or more validation errors occurred.",
    status: 400,
    errors: Object.fromEntries(Object.entries(errors).map(([k, v]) => [k, [v]])),
  };
}

module.exports = { bindResponseDto, validationProblem };
