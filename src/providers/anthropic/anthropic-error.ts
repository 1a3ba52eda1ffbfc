/**
 * Anthropic's error envelope → the gateway's (OpenAI-shaped) error.
 *
 * Anthropic answers errors as `{"type":"error","error":{"type":"…","message":"…"},"request_id":"…"}`,
 * over HTTP with a status, or inside a stream as an `error` SSE event (status 200 already sent). A proxy
 * in front of Anthropic may also send that envelope with a 200: it is mapped like an HTTP error, with the
 * status Anthropic uses for its type.
 * The HTTP status is kept, 529 included (Anthropic's "overloaded", which routing treats as retryable);
 * Anthropic's error types already match OpenAI's naming and are kept. `retry-after` is forwarded so
 * a client backs off as Anthropic asked.
 *
 * @see https://docs.anthropic.com/en/api/errors
 */
import { GatewayError } from "../../http/errors.ts";
import { upstreamError } from "../upstream.ts";

/** Pulls message and type out of Anthropic's envelope (tolerates `{error:{message}}` and `{message}`). */
export function anthropicErrorFields(body: any): { message?: string; type?: string } | undefined {
  const e = body?.error ?? body;
  if (typeof e === "string") return { message: e };
  if (!e || typeof e !== "object") return undefined;
  return {
    message: typeof e.message === "string" ? e.message : undefined,
    type: typeof e.type === "string" && e.type !== "error" ? e.type : undefined,
  };
}

/** An upstream non-2xx response → GatewayError with the same status, naming the account. */
export function anthropicHttpError(
  account: string,
  status: number,
  text: string,
  headers?: Headers,
): GatewayError {
  return upstreamError(account, status, text, anthropicErrorFields, headers);
}

/**
 * Status for an error that arrives as an SSE `error` event, where there is no HTTP status of its own.
 * The figures are those Anthropic uses for the same types over HTTP.
 */
export const ANTHROPIC_ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

/** Whether a 2xx answer's parsed body is an error rather than a message (Anthropic's envelope, or a bare `error`). */
export function isAnthropicErrorBody(body: any): boolean {
  if (!body || typeof body !== "object" || Array.isArray(body.content)) return false;
  return body.type === "error" || (body.error != null && body.type == null);
}

/**
 * A 2xx answer whose body is an error (see isAnthropicErrorBody) → GatewayError as for an HTTP error: the
 * upstream's message kept, the account named, the status Anthropic gives the type over HTTP (502 when the
 * type is unknown or missing: the answer's own 200 says nothing).
 */
export function anthropicErrorInAnswer(account: string, text: string, body: any, headers?: Headers): GatewayError {
  const type = anthropicErrorFields(body)?.type;
  const status = (type !== undefined ? ANTHROPIC_ERROR_STATUS[type] : undefined) ?? 502;
  return anthropicHttpError(account, status, text, headers);
}

/** An `error` event inside a stream → GatewayError (unknown types count as 500 api_error). */
export function anthropicStreamError(account: string, event: any): GatewayError {
  const fields = anthropicErrorFields(event) ?? {};
  const type = fields.type ?? "api_error";
  const status = ANTHROPIC_ERROR_STATUS[type] ?? 500;
  return new GatewayError(status, `Upstream error from account '${account}': ${fields.message ?? type}`, {
    type,
    account,
  });
}
