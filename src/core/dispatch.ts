/** One upstream attempt: the call context (timeout, cancellation) and the response headers every inference answer carries. */
import { badRequest, GatewayError } from "../http/errors.ts";
import { randomId } from "./secrets.ts";
import { parseMetadataHeader } from "../http/metadata.ts";
import type { CallContext, ModelType, Target } from "../providers/types.ts";
import { RequestLog } from "../usage/request-log.ts";
import { CallSignal, type UpstreamFetch } from "../providers/http1.ts";
import { isIoFailure, readFailure } from "../providers/upstream.ts";
import type { Principal } from "./access.ts";
import type { Gateway } from "./gateway.ts";
import { checkTarget, lookupTarget } from "./resolve.ts";

export function requestTimeoutMs(gw: Gateway, headers: Headers): number {
  const h = headers.get("x-tfy-request-timeout");
  if (h == null || h === "") return gw.settings.requestTimeoutMs;
  const n = Number(h);
  if (!Number.isFinite(n) || n <= 0) throw badRequest("x-tfy-request-timeout must be a positive number of milliseconds", "x-tfy-request-timeout");
  return n;
}

/**
 * A call's timeout and cancellation: a CallSignal that also carries the call's no-progress deadline.
 *
 * The upstream call aborts when the upstream makes no progress for the timeout: no answer (or no first token) within
 * it, or a stream that goes quiet for that long. A long stream that keeps sending is never cut.
 *
 * Calls in flight sit in one set swept by one shared timer every SWEEP_MS (a deadline fires up to that much late),
 * instead of a timer per call; the sweeper stops when nothing is in flight. A call leaves the set when its log entry
 * is finished. One object per call (signal, deadline and finish hook in one): the hot path allocates as little as
 * it can, since every byte it allocates is paid again by the garbage collector.
 *
 * A client that goes away cancels its response stream, which cancels the upstream body (streams and pass-through).
 * A non-streaming upstream call is not aborted when its client disconnects: listening on `request.signal` cost
 * ~10 µs CPU per request on the loopback bench (of ~80), and the provider bills a started generation either way.
 */
export class UpstreamDeadline extends CallSignal {
  deadline: number;
  constructor(readonly timeoutMs: number) {
    super();
    this.deadline = performance.now() + timeoutMs;
  }
  /** the upstream made progress: the timeout counts again from now */
  touch() {
    this.deadline = performance.now() + this.timeoutMs;
  }
  /** the request is over (its log entry finished): no longer swept */
  finished() {
    inFlight.delete(this);
  }
}

export function upstreamSignal(timeoutMs: number, log: RequestLog): UpstreamDeadline {
  const call = new UpstreamDeadline(timeoutMs);
  inFlight.add(call);
  sweeper ??= setInterval(sweep, SWEEP_MS);
  log.onFinish(call);
  return call;
}

const SWEEP_MS = 20;

const inFlight = new Set<UpstreamDeadline>();
let sweeper: ReturnType<typeof setInterval> | undefined;

function sweep() {
  if (inFlight.size === 0) {
    clearInterval(sweeper);
    sweeper = undefined;
    return;
  }
  const now = performance.now();
  for (const call of inFlight) {
    if (now >= call.deadline) {
      inFlight.delete(call);
      call.abort(new DOMException("upstream timeout", "TimeoutError"));
    }
  }
}

/**
 * Ends every upstream call in flight (the server's grace period at shutdown ran out): each fails with its own
 * `reason()`, so that its request is logged with it (and its client, while still connected, gets it). The number
 * of calls ended.
 */
export function abortCallsInFlight(reason: () => unknown): number {
  const calls = [...inFlight];
  inFlight.clear();
  for (const call of calls) call.abort(reason());
  return calls.length;
}

/**
 * One inference request under way: the context its adapter call gets (target, signal, upstream client, notes,
 * request id) and its log entry. `touch` is a method of the context (call it as `ctx.touch?.()`).
 */
export class InferenceCall implements CallContext {
  readonly fetch: UpstreamFetch;
  replyHeaders: HeaderPairs | undefined = undefined;
  constructor(
    readonly target: Target,
    readonly signal: UpstreamDeadline,
    gw: Gateway,
    readonly log: RequestLog,
  ) {
    this.fetch = gw.fetch;
  }
  get notes(): string[] {
    return this.log.notes;
  }
  get requestId(): string {
    return this.log.id;
  }
  touch() {
    this.signal.touch();
  }
}

/**
 * A streamed call is cancelled when its client goes away before the stream begins (while the upstream has not
 * answered yet); once it has begun, the response stream's cancel does it. Not done for non-streaming calls (see
 * UpstreamDeadline: ~10 µs a request, and the provider bills a started generation either way); a stream is long
 * enough for it not to count.
 */
export function cancelWithClient(request: Request, call: InferenceCall): void {
  const signal = request.signal;
  const cancel = () => call.signal.abort(new DOMException("the client closed the connection", "AbortError"));
  if (signal.aborted) cancel();
  else signal.addEventListener("abort", cancel, { once: true });
}

export type HeaderPairs = [string, string][];

/** x-tfy-resolved-model per target (targets are cached by resolveTarget, so this pair is made once per model) */
const resolvedHeader = new WeakMap<Target, [string, string]>();

/**
 * The headers every inference answer carries, after the given ones (content type, SSE headers). As pairs: Response
 * builds its headers from pairs ~0.4 µs faster than from an object.
 */
export function responseHeaders(target: Target | undefined, requestId: string, extra: HeaderPairs = [], upstream?: HeaderPairs): HeaderPairs {
  // the JSON answer's one extra pair without a spread (which cost ~65 B per request: bench/alloc.ts)
  const h: HeaderPairs = extra.length === 1 ? [extra[0]!, ["x-request-id", requestId]] : [...extra, ["x-request-id", requestId]];
  if (target) {
    let r = resolvedHeader.get(target);
    if (r === undefined) resolvedHeader.set(target, (r = ["x-tfy-resolved-model", target.id]));
    h.push(r);
  }
  // the upstream's rate-limit headers (upstream.ts `passedOnHeaders`)
  if (upstream !== undefined) for (const pair of upstream) h.push(pair);
  return h;
}

export const JSON_HEADERS: HeaderPairs = [["content-type", "application/json"]];

export function toGatewayError(e: unknown): GatewayError {
  if (e instanceof GatewayError) return e;
  // a body nested deeper than the engine's stack (JSON.parse takes it; serialising it again does not)
  if (e instanceof RangeError && /call stack/i.test(e.message)) {
    return new GatewayError(400, "The request body is nested too deeply", { code: "nesting_too_deep" });
  }
  console.error("internal error:", (e as Error)?.stack ?? e);
  return new GatewayError(500, "Internal error in the gateway", { type: "api_error", code: "internal_error" });
}

/**
 * How every inference endpoint starts: a log entry, metadata, model resolution with access and capability checks,
 * the call context. An endpoint then runs its call and, on any error, throws `failed(call.log, e)`: the error is
 * logged with its status and rethrown for the error handler. (A start function and a catch in the endpoint rather
 * than a callback: no closure and one async frame less per request.)
 */
export function startInference(gw: Gateway, p: Principal, request: Request, endpoint: string, type: ModelType, model: string): InferenceCall {
  const log = new RequestLog(gw, p, endpoint);
  try {
    log.requestedModel = model;
    const target = lookupTarget(gw.registry, model, request.headers.get("x-tfy-provider-name"));
    // logged with its account and model even when the checks refuse it (bad metadata included)
    log.setTarget(target);
    log.setMetadata(parseMetadataHeader(request.headers.get("x-tfy-metadata")));
    checkTarget(p, target, type);
    return new InferenceCall(target, upstreamSignal(requestTimeoutMs(gw, request.headers), log), gw, log);
  } catch (e) {
    throw failed(log, e);
  }
}

/** The gateway error for `e`, logged (once) as the request's outcome; its answer carries the request's id. */
export function failed(log: RequestLog, e: unknown, accountName?: string): GatewayError {
  // an I/O failure once the call was under way (an answer that broke off while it was read, a gzip body that does
  // not decode) is the account's 502, not the gateway's 500
  const account = accountName ?? log.accountName;
  const err = !(e instanceof GatewayError) && account !== null && isIoFailure(e) ? readFailure(e, account) : toGatewayError(e);
  log.finish(err.status, null, err.message, accountName);
  err.requestId ??= log.id;
  return err;
}

/** The error of a request that is not logged (no valid key, a model listing): its answer still carries an id. */
export function unlogged(e: unknown): GatewayError {
  const err = toGatewayError(e);
  err.requestId ??= randomId("req_");
  return err;
}

/**
 * A request refused before its call started (a body that is not JSON, a schema violation, a missing model): logged
 * like any other, once (an error that already ended a logged request has its id and is not logged again).
 */
export function rejected(gw: Gateway, p: Principal, endpoint: string, e: unknown, model?: unknown): GatewayError {
  const err = toGatewayError(e);
  if (err.requestId === undefined) {
    const log = new RequestLog(gw, p, endpoint);
    // the model the body named, when it named one: logged with its account (no checks: the request is refused anyway)
    if (typeof model === "string" && model !== "") {
      log.requestedModel = model;
      try {
        log.setTarget(lookupTarget(gw.registry, model, null));
      } catch {}
    }
    failed(log, err);
  }
  return err;
}
