/**
 * One upstream HTTP call, with failures mapped to gateway errors that name the account:
 * unreachable → 502, timeout → 504, an upstream error status → the same status with the upstream's message.
 */
import { createParser, type EventSourceMessage, type EventSourceParser } from "eventsource-parser";
import { GatewayError } from "../http/errors.ts";
import type { CallContext } from "./types.ts";
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
  return new GatewayError(502, `Could not reach account '${account}': ${err?.code ?? err?.message ?? "network error"}`, {
    type: "upstream_error",
    code: "upstream_unreachable",
    account,
  });
}

/**
 * Turns an upstream error response body into a gateway error. `extract` pulls the provider's message,
 * type, code and param out of its error envelope; the status is kept.
 */
export function upstreamError(
  account: string,
  status: number,
  text: string,
  extract: (body: any) => { message?: string; type?: string; code?: string | null; param?: string | null } | undefined,
): GatewayError {
  let parsed: any;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const info = (parsed !== undefined && extract(parsed)) || {};
  const message = info.message ?? (text.trim().slice(0, 500) || `HTTP ${status}`);
  return new GatewayError(status, `Upstream error from account '${account}': ${message}`, {
    type: info.type,
    code: info.code ?? null,
    param: info.param ?? null,
    account,
  });
}

/** OpenAI's envelope: {"error":{"message","type","param","code"}}; some compatible servers send {"message"} or {"detail"}. */
export function openAIErrorFields(body: any) {
  const e = body?.error ?? body;
  if (typeof e === "string") return { message: e };
  if (!e || typeof e !== "object") return undefined;
  const message = typeof e.message === "string" ? e.message : typeof e.detail === "string" ? e.detail : undefined;
  return { message, type: e.type, code: e.code != null ? String(e.code) : null, param: e.param ?? null };
}

/**
 * Upstream SSE bytes → whatever `onEvent` makes of each event, in one stage: the bytes are decoded and fed to
 * eventsource-parser in the same transform (a TextDecoderStream, an EventSourceParserStream and a mapping stage
 * each cost their promise hand-offs per chunk). Like EventSourceParserStream: parse errors are skipped, an event
 * over the parser's buffer limit ends the stream with an error, an unfinished last event is dropped. Never buffers
 * more than one event.
 */
export function sseTransform<T>(
  onEvent: (event: EventSourceMessage, out: TransformStreamDefaultController<T>) => void,
): TransformStream<Uint8Array, T> {
  const decoder = new TextDecoder();
  let parser: EventSourceParser;
  return new TransformStream<Uint8Array, T>({
    start(controller) {
      parser = createParser({
        onEvent: (event) => onEvent(event, controller),
        onError: (error) => {
          if (error.type === "max-buffer-size-exceeded") controller.error(error);
        },
      });
    },
    transform(chunk) {
      parser.feed(decoder.decode(chunk, { stream: true }));
    },
  });
}

/** Upstream SSE bytes → parsed events. */
export function sseEvents(body: ReadableStream<Uint8Array>): ReadableStream<EventSourceMessage> {
  return body.pipeThrough(sseTransform<EventSourceMessage>((event, out) => out.enqueue(event)));
}

export function joinUrl(base: string, path: string): string {
  return base.replace(/\/+$/, "") + path;
}
