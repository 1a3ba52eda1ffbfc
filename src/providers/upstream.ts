/**
 * One upstream HTTP call, with failures mapped to gateway errors that name the account:
 * unreachable → 502, timeout → 504, an upstream error status → the same status with the upstream's message.
 */
import { createParser, type EventSourceMessage, type EventSourceParser } from "eventsource-parser";
import { GatewayError } from "../http/errors.ts";
import { scrubCredentials } from "../core/credential-scrub.ts";
import type { CallContext, StreamItem } from "./types.ts";
import type { UpstreamReply } from "./http1.ts";

/**
 * `init` is the caller's own fresh object: the call's signal and redirect policy are set on it. Not async itself
 * (the caller's frame does the waiting: one frame less per upstream call on the hot path).
 */
export function upstreamFetch(ctx: CallContext, url: string, init: RequestInit): Promise<UpstreamReply> {
  init.signal = ctx.signal as AbortSignal; // or a CallSignal, which every UpstreamFetch takes
  init.redirect = "manual";
  const failed = (err: unknown) => Promise.reject(fetchFailure(err, ctx.target.account.name, ctx.signal));
  try {
    return ctx.fetch(url, init).catch(failed);
  } catch (err) {
    return failed(err);
  }
}

export function fetchFailure(err: any, account: string, signal?: { aborted: boolean; reason: any }): GatewayError {
  // one of the gateway's own (a request body past the limit, failed as it was sent)
  if (err instanceof GatewayError) return err;
  const reason = signal?.aborted ? signal.reason : undefined;
  if (err?.name === "TimeoutError" || reason?.name === "TimeoutError") {
    return new GatewayError(504, `Upstream request to account '${account}' timed out`, {
      type: "timeout_error",
      code: "upstream_timeout",
      account,
    });
  }
  if (err?.name === "AbortError" || signal?.aborted) {
    // the client went away; status is never seen by it, but the log records it
    return new GatewayError(499, `Request to account '${account}' was cancelled by the client`, {
      code: "client_closed_request",
      account,
    });
  }
  if (err?.answerBegan) return readFailure(err, account);
  if (err?.connected) {
    return new GatewayError(502, `Upstream error from account '${account}': it closed the connection before answering (${err?.code ?? "connection closed"})`, {
      type: "upstream_error",
      code: "upstream_connection_closed",
      account,
    });
  }
  return new GatewayError(502, `Could not reach account '${account}': ${err?.code ?? err?.message ?? "network error"}`, {
    type: "upstream_error",
    code: "upstream_unreachable",
    account,
  });
}

/**
 * A failure while an answer's body was read (the connection broke off, a compressed body that does not decode): a
 * timeout is a 504, a cancel a 499, anything else a 502 that says so, naming the account.
 */
export function readFailure(err: any, account: string): GatewayError {
  if (err instanceof GatewayError) return err;
  if (err?.name === "TimeoutError" || err?.name === "AbortError") return fetchFailure(err, account);
  const what = [err?.code, err?.message].filter((x) => typeof x === "string" && x).join(": ") || "read error";
  return new GatewayError(502, `Upstream error from account '${account}': its answer could not be read (${what})`, {
    type: "upstream_error",
    code: "upstream_read_failed",
    account,
  });
}

/** Whether an error is an I/O failure (a system or zlib error code, a timeout or a cancel), not a bug of the gateway. */
export function isIoFailure(err: any): boolean {
  return typeof err?.code === "string" || err?.name === "TimeoutError" || err?.name === "AbortError";
}

/** A redirect's Location without its query or fragment (which could carry a token), or undefined. */
function redirectTarget(location: string | null | undefined): string | undefined {
  if (!location) return undefined;
  try {
    const u = new URL(location);
    return `${u.origin}${u.pathname}`;
  } catch {
    return location.split(/[?#]/)[0]!.slice(0, 200) || undefined;
  }
}

/**
 * Upstream headers passed on to the client: the account's rate-limit state (`x-ratelimit-*`, which clients throttle
 * by) and OpenAI's processing time, with any answer; with an error also its retry guidance, so that the client's SDK
 * waits as long as it says (`retry-after`, `retry-after-ms`) or does not retry at all (`x-should-retry: false`).
 * Nothing else of the upstream's (its organisation, project or cookies) reaches the client.
 */
const isPassedOn = (name: string) => name.startsWith("x-ratelimit-") || name === "openai-processing-ms";
const RETRY_HEADERS = new Set(["retry-after", "retry-after-ms", "x-should-retry"]);

/** The headers of a 2xx answer passed on to the client (see PASSED_ON), or undefined when there are none. */
export function passedOnHeaders(res: UpstreamReply, account: string): [string, string][] | undefined {
  // the pooled client tells as it parses the head: most answers carry none, and building `headers` costs
  if (res.passesOn === false) return undefined;
  let out: [string, string][] | undefined;
  res.headers.forEach((v, name) => {
    // (an upstream that quotes the request back in a header must not show the client the credential)
    if (isPassedOn(name)) (out ??= []).push([name, scrubCredentials(account, v)]);
  });
  return out;
}

/**
 * Turns an upstream error response body into a gateway error. `extract` pulls the provider's message,
 * type, code and param out of its error envelope; the status is kept, but for a redirect (502), and the upstream's
 * retry guidance goes with it.
 */
export function upstreamError(
  account: string,
  status: number,
  text: string,
  extract: (body: any) => { message?: string; type?: string; code?: string | null; param?: string | null } | undefined,
  headers?: Headers,
): GatewayError {
  // redirects are not followed (the credential would go with them): for an API call one means a wrong base URL
  if (status >= 300 && status < 400) {
    const to = redirectTarget(headers?.get("location"));
    return new GatewayError(502, `Upstream error from account '${account}': its base URL answers with a redirect (HTTP ${status}${to ? ` to ${to}` : ""}); set base_url to where it points`, {
      type: "upstream_error",
      code: "upstream_redirect",
      account,
    });
  }
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const info = (parsed !== undefined && extract(parsed)) || {};
  const message = info.message ?? (plainMessage(text) || `HTTP ${status}`);
  let forward: Record<string, string> | undefined;
  headers?.forEach((v, name) => {
    if (v && (RETRY_HEADERS.has(name) || isPassedOn(name))) (forward ??= {})[name] = scrubCredentials(account, v);
  });
  return new GatewayError(status, `Upstream error from account '${account}': ${message}`, {
    type: info.type,
    code: info.code ?? null,
    param: info.param ?? null,
    account,
    headers: forward,
  });
}

/**
 * An error body that is not JSON, as a message: an HTML page (a proxy's or a load balancer's error page) by its
 * title, or its text without tags; anything else, its first 500 characters.
 */
function plainMessage(text: string): string {
  const t = text.trim();
  if (!/^<(?:!doctype|html|head|body)\b/i.test(t)) return t.slice(0, 500);
  const title = /<title[^>]*>([^<]*)<\/title>/i.exec(t)?.[1];
  const words = (title ?? t.replace(/<(script|style)[\s\S]*?<\/\1>/gi, " ").replace(/<[^>]*>/g, " "))
    .replace(/&nbsp;/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  return words ? `an HTML page: ${words.slice(0, 200)}` : "an HTML page";
}

/** OpenAI's envelope: {"error":{"message","type","param","code"}}; some compatible servers send {"message"} or {"detail"}. */
export function openAIErrorFields(body: any) {
  const e = body?.error ?? body;
  if (typeof e === "string") return { message: e };
  if (!e || typeof e !== "object") return undefined;
  const message = typeof e.message === "string" ? e.message : typeof e.detail === "string" ? e.detail : undefined;
  return { message, type: typeof e.type === "string" ? e.type : undefined, code: e.code != null ? String(e.code) : null, param: paramOf(e.param) };
}

/**
 * An upstream error's `param` as OpenAI's schema has it (a string or null): a path given as an array
 * (`["messages", 0]`, as some servers report validation errors) becomes `messages[0]`; anything else not a string, null.
 */
function paramOf(p: unknown): string | null {
  if (typeof p === "string") return p;
  if (typeof p === "number") return String(p);
  if (Array.isArray(p) && p.length > 0 && p.every((x) => typeof x === "string" || typeof x === "number")) {
    return p.map((x, i) => (typeof x === "number" ? `[${x}]` : i === 0 ? x : `.${x}`)).join("");
  }
  return null;
}

/** Where a stream's translation puts its items (the part of a TransformStream controller translators use). */
export interface ItemSink {
  enqueue(item: StreamItem): void;
  /** nothing more comes: the rest of the upstream body is not read */
  terminate(): void;
}

/**
 * A provider's stream as the gateway reads it: upstream bytes → SSE events → StreamItems in one synchronous step per
 * upstream read, pulled by the reader of the client's stream (`encodeChatStream`). One promise per upstream read
 * instead of a promise hand-off per stage and event (a TransformStream per stage cost ~1.5 µs an event, more than
 * the parsing in them). Nothing is read before it is asked for, and no more than one event is buffered.
 */
export interface ItemSource {
  /** the items the next upstream read makes (at least one), or null once the stream has ended; the array is the
   *  source's own, reused: read it before calling next() again */
  next(): Promise<StreamItem[] | null>;
  cancel(): Promise<void>;
}

/**
 * An ItemSource over an SSE body: `onEvent` translates each event into the sink, `onEnd` runs when the upstream
 * ends (unless terminated). Like EventSourceParserStream: an event over the parser's buffer limit fails the stream,
 * an unfinished last event is dropped.
 */
export function sseItemSource(
  body: ReadableStream<Uint8Array>,
  onEvent: (event: EventSourceMessage, sink: ItemSink) => void,
  onEnd?: (sink: ItemSink) => void,
): ItemSource {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const out: StreamItem[] = [];
  let ended = false;
  let failure: Error | null = null;
  const sink: ItemSink = {
    enqueue: (item) => void out.push(item),
    terminate: () => void (ended = true),
  };
  const parser: EventSourceParser = createParser({
    onEvent: (event) => {
      if (!ended) onEvent(event, sink);
    },
    onError: (error) => {
      if (error.type === "max-buffer-size-exceeded") failure = error;
    },
  });
  // one handler for every read, made once (not an async function's frame and promise per read)
  const onRead = (r: Awaited<ReturnType<typeof reader.read>>): StreamItem[] | null | Promise<StreamItem[] | null> => {
    out.length = 0;
    if (r.done) {
      ended = true;
      onEnd?.(sink);
    } else {
      parser.feed(decoder.decode(r.value, STREAMING));
      if (failure) throw failure;
      if (ended) readOff(reader);
    }
    if (out.length) return out;
    return ended ? null : reader.read().then(onRead); // a read that made no item (a comment, part of an event)
  };
  return {
    next() {
      if (ended) return Promise.resolve(null);
      return reader.read().then(onRead);
    },
    cancel: () => {
      ended = true;
      return reader.cancel();
    },
  };
}

/** What is read of a body after its stream has ended (past [DONE], an error event) before it is cancelled. */
const READ_OFF_BYTES = 64 * 1024;
const READ_OFF_MS = 2000;

/**
 * The rest of a body whose stream is over, read and dropped in the background: an upstream that ends its body right
 * after its last event (the usual case) keeps its connection for the next call; one that goes on sending, or keeps
 * the body open, has it cancelled after READ_OFF_BYTES or READ_OFF_MS.
 */
function readOff(reader: ReadableStreamDefaultReader<Uint8Array>): void {
  let bytes = 0;
  const timer = setTimeout(() => reader.cancel().catch(() => {}), READ_OFF_MS);
  const next = (): Promise<void> =>
    reader.read().then((r) => {
      if (r.done) return void clearTimeout(timer);
      bytes += r.value.byteLength;
      if (bytes > READ_OFF_BYTES) {
        clearTimeout(timer);
        return void reader.cancel().catch(() => {});
      }
      return next();
    });
  next().catch(() => clearTimeout(timer));
}

/** TextDecoder options for a body decoded read by read (hoisted: not an object per read) */
export const STREAMING = { stream: true } as const;

/** An ItemSource of items known already (a stream made from a whole answer). */
export function fixedItemSource(items: StreamItem[]): ItemSource {
  let given = false;
  return {
    next() {
      if (given || items.length === 0) return Promise.resolve(null);
      given = true;
      return Promise.resolve(items);
    },
    cancel: () => Promise.resolve(),
  };
}

/** An ItemSource as a ReadableStream of its items (for tests and tools that read a translation as a stream). */
export function itemStream(source: ItemSource): ReadableStream<StreamItem> {
  return new ReadableStream<StreamItem>(
    {
      async pull(ctrl) {
        const items = await source.next();
        if (items === null) ctrl.close();
        else for (const item of items) ctrl.enqueue(item);
      },
      cancel: () => source.cancel(),
    },
    { highWaterMark: 0 },
  );
}

export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, "") + path;
}
