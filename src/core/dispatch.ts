/** One upstream attempt: the call context (timeout, cancellation) and the response headers every inference answer carries. */
import { badRequest, GatewayError } from "../http/errors.ts";
import type { CallContext, Target } from "../providers/types.ts";
import type { RequestLog } from "../usage/request-log.ts";
import type { Gateway } from "./gateway.ts";

export function requestTimeoutMs(gw: Gateway, headers: Headers): number {
  const h = headers.get("x-tfy-request-timeout");
  if (h == null || h === "") return gw.settings.requestTimeoutMs;
  const n = Number(h);
  if (!Number.isFinite(n) || n <= 0) throw badRequest("x-tfy-request-timeout must be a positive number of milliseconds", "x-tfy-request-timeout");
  return n;
}

export function callContext(gw: Gateway, target: Target, request: Request, log: RequestLog): CallContext {
  const timeout = AbortSignal.timeout(requestTimeoutMs(gw, request.headers));
  return {
    target,
    signal: request.signal ? AbortSignal.any([request.signal, timeout]) : timeout,
    fetch: gw.fetch,
    notes: log.notes,
    requestId: log.id,
  };
}

export function responseHeaders(target: Target | undefined, requestId: string): Record<string, string> {
  const h: Record<string, string> = { "x-request-id": requestId };
  if (target) h["x-tfy-resolved-model"] = target.id;
  return h;
}

export function toGatewayError(e: unknown): GatewayError {
  if (e instanceof GatewayError) return e;
  console.error("internal error:", (e as Error)?.stack ?? e);
  return new GatewayError(500, "Internal error in the gateway", { type: "api_error", code: "internal_error" });
}
