import { scrubCredentials } from "../core/credential-scrub.ts";

/**
 * The one error type the gateway throws. Everything a client sees as an error goes through
 * `toErrorBody`, so the envelope is always OpenAI's: {"error":{"message","type","param","code"}}.
 */
export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "rate_limit_error"
  | "overloaded_error"
  | "upstream_error"
  | "timeout_error"
  | "api_error";

export interface ErrorInit {
  type?: ErrorType | string;
  param?: string | null;
  code?: string | null;
  /** account the error came from, when it came from an upstream */
  account?: string;
  headers?: Record<string, string>;
}

export class GatewayError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  readonly account?: string;
  readonly headers?: Record<string, string>;

  /** the request's id, when the error ends a logged request (sent as x-request-id) */
  requestId?: string;

  constructor(status: number, message: string, init: ErrorInit = {}) {
    // an upstream may echo the credential it was sent: cut out before the message goes anywhere
    super(init.account ? scrubCredentials(init.account, message) : message);
    this.status = status;
    this.type = init.type ?? defaultType(status);
    this.param = init.param ?? null;
    this.code = init.code ?? null;
    this.account = init.account;
    this.headers = init.headers;
  }

  toBody() {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export function defaultType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status === 529) return "overloaded_error";
  if (status === 504) return "timeout_error";
  if (status >= 500) return "api_error";
  return "invalid_request_error";
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  new GatewayError(400, message, { param, code });

export const missingParameter = (param: string) =>
  badRequest(`Missing required parameter: '${param}'`, param, "missing_required_parameter");

export const invalidJson = () =>
  new GatewayError(400, "We could not parse the JSON body of your request. The request body must be valid JSON.", { code: "invalid_json" });

export const tooLarge = (length: string | number, limit: number) =>
  new GatewayError(413, `Request body of ${length} bytes is larger than the limit of ${limit} bytes`, { code: "request_too_large" });

/** The body, read whole: as it is when its length was declared (and checked), else counted as it arrives. */
export function readBodyBytes(request: Request, limit: number): Promise<Uint8Array> {
  const len = request.headers.get("content-length");
  if (len !== null) {
    if (Number(len) > limit) throw tooLarge(len, limit);
    return request.bytes();
  }
  return countedBody(request.body, limit);
}

/** A body without a declared length (chunked), read up to the limit: past it, the rest is not read and it is a 413. */
async function countedBody(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw new GatewayError(413, `Request body is larger than the limit of ${limit} bytes`, { code: "request_too_large" });
    }
    parts.push(value);
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/** Throws 413 when the declared body is over the limit (a body without content-length: `readBodyBytes` counts it). */
export function checkBodySize(headers: Headers, limit: number): void {
  const len = headers.get("content-length");
  if (len && Number(len) > limit) throw tooLarge(len, limit);
}

export function errorResponse(err: GatewayError): Response {
  const headers: Record<string, string> = { "content-type": "application/json", ...err.headers };
  if (err.requestId) headers["x-request-id"] = err.requestId;
  return new Response(JSON.stringify(err.toBody()), { status: err.status, headers });
}

/** TypeBox path "/messages/0/role" → OpenAI-style param "messages[0].role". */
export function pathToParam(path: string | undefined): string | null {
  if (!path) return null;
  let out = "";
  for (const p of path.split("/").filter(Boolean)) out += /^\d+$/.test(p) ? `[${p}]` : out ? `.${p}` : p;
  return out || null;
}
