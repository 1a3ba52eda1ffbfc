/**
 * Translated stream items → OpenAI SSE bytes, one event per item as it arrives (pull-based: nothing is read from
 * upstream before the client is ready for it). Hides the usage chunk from clients that did not ask for it, adds
 * `provider`, reports first token and usage, sends a comment as heartbeat when the upstream is quiet.
 */
import { GatewayError } from "./errors.ts";
import { scrubCredentials } from "../core/credential-scrub.ts";
import type { StreamItem } from "../providers/types.ts";
import { readFailure, type ItemSource } from "../providers/upstream.ts";
import { withProvider } from "../usage/normalize.ts";

const enc = new TextEncoder();
const DONE = enc.encode("data: [DONE]\n\n");
const HEARTBEAT = enc.encode(": keep-alive\n\n");

export interface StreamHooks {
  includeUsage: boolean;
  provider: string;
  /** x-tfy-strict-openai: only fields of OpenAI's schema (no provider, reasoning_content, thinking_blocks) */
  strict?: boolean;
  heartbeatMs: number;
  onFirstToken(): void;
  /** an item arrived from upstream (keeps the no-progress timeout from firing) */
  onProgress?(): void;
  onEnd(usage: unknown, error: GatewayError | null): void;
}

/** x-tfy-strict-openai: true — the answer holds OpenAI's fields only. */
export function isStrict(request: Request): boolean {
  return request.headers.get("x-tfy-strict-openai") === "true";
}

/** The gateway's additions to OpenAI's shapes, removed under x-tfy-strict-openai: in a message or delta… */
export const NON_OPENAI_MESSAGE_FIELDS = ["reasoning_content", "thinking_blocks"] as const;
/** …and at the top: ours, and Groq's own block (its timings; its usage, which the gateway has read already) */
const NON_OPENAI_TOP_FIELDS = ["provider", "x_groq"] as const;

/** A name strict mode removes, as a key in JSON text (a name inside a string value has its quotes escaped). */
export const NON_OPENAI_NAMES = new RegExp(`"(?:${[...NON_OPENAI_TOP_FIELDS, ...NON_OPENAI_MESSAGE_FIELDS].join("|")})"\\s*:`);

export function stripNonOpenAI(obj: Record<string, any>, key: "message" | "delta"): void {
  for (const f of NON_OPENAI_TOP_FIELDS) delete obj[f];
  if (!Array.isArray(obj.choices)) return;
  for (const c of obj.choices) {
    const m = c?.[key];
    if (m) for (const f of NON_OPENAI_MESSAGE_FIELDS) delete m[f];
  }
}

/** A stream event that is not JSON. */
export function unreadableEvent(account: string): GatewayError {
  return new GatewayError(502, `Account '${account}' sent an unreadable stream event`, { account });
}

/**
 * True for a chunk that carries something the user sees (or the end): not a bare role announcement. Any delta field
 * but `role` that holds something counts: content, tool calls, a refusal, audio, and reasoning under whatever name a
 * server gives it (`reasoning_content`, vLLM's and Ollama's `reasoning`, `reasoning_details`, …).
 */
export function isContentChunk(chunk: any): boolean {
  if (chunk?.usage) return true;
  const choices = chunk?.choices;
  if (!Array.isArray(choices)) return false;
  for (const c of choices) {
    if (c?.finish_reason) return true;
    const d = c?.delta;
    if (d && typeof d === "object") {
      for (const k in d) {
        if (k === "role") continue;
        const v = d[k];
        if (v != null && v !== "" && v !== false && !(Array.isArray(v) && v.length === 0)) return true;
      }
    }
  }
  return false;
}


/**
 * Reads until the first content chunk. An error before any content is thrown (so the client gets a proper
 * HTTP error status and routing can fall back), as is a stream that ends without any item; the items read so far
 * (with the rest of the read that brought the content) are returned to be sent first.
 */
export async function readUntilContent(source: ItemSource, account: string): Promise<StreamItem[]> {
  const head: StreamItem[] = [];
  for (;;) {
    let items: StreamItem[] | null;
    try {
      items = await source.next();
    } catch (e) {
      // a timeout or a dropped connection before the first content: the client still gets a status that says so
      throw readFailure(e, account);
    }
    if (items === null) {
      // an answer with no chunk at all (not even a role or a finish): an upstream failure, not an empty answer
      if (head.length === 0) {
        throw new GatewayError(502, `Upstream error from account '${account}': the stream ended without a single chunk`, {
          type: "upstream_error",
          code: "upstream_empty_stream",
          account,
        });
      }
      return head;
    }
    let content = false;
    for (const value of items) {
      if ("error" in value && !content) {
        source.cancel().catch(() => {});
        throw value.error;
      }
      head.push(value);
      if (("chunk" in value && isContentChunk(value.chunk)) || "text" in value) content = true;
    }
    if (content) return head;
  }
}

/**
 * OpenAI sends "usage":null in every chunk once usage is asked for: the text without it, cut where it stands once as
 * written (a quote inside a JSON string is escaped, so the sequence cannot come from a value); the text as it is when
 * it has no usage field; undefined when it cannot be cut from the text.
 */
export function withoutNullUsage(raw: string): string | undefined {
  const at = raw.indexOf(',"usage":null');
  if (at >= 0) return raw.indexOf(',"usage":null', at + 1) < 0 ? raw.slice(0, at) + raw.slice(at + 13) : undefined;
  return raw.indexOf('"usage"') < 0 ? raw : undefined;
}

export function encodeChatStream(
  source: ItemSource,
  head: StreamItem[],
  hooks: StreamHooks,
): ReadableStream<Uint8Array> {
  let usage: unknown = null;
  let sawContent = false;
  /** `data: {"provider":"<account>",`, made at the first {text} item */
  let eventHead: string | undefined;
  let finished = false;
  /** events written so far */
  let sent = 0;
  const send = (ctrl: ReadableStreamDefaultController<Uint8Array>, text: string) => {
    sent++;
    // an upstream that quotes the credential in its answer (a reflecting mock, a broken proxy): cut out
    ctrl.enqueue(enc.encode(scrubCredentials(hooks.provider, text)));
  };

  const end = (error: GatewayError | null) => {
    if (finished) return;
    finished = true;
    hooks.onEnd(usage, error);
  };

  /** Encodes one item; returns false when the stream must end after it. */
  const emit = (item: StreamItem, ctrl: ReadableStreamDefaultController<Uint8Array>): boolean => {
    if ("error" in item) {
      ctrl.enqueue(enc.encode(`data: ${JSON.stringify(item.error.toBody())}\n\n`));
      ctrl.close();
      end(item.error);
      return false;
    }
    if ("usage" in item) {
      usage = item.usage;
      return true;
    }
    if ("text" in item) {
      // a plain chunk as the upstream wrote it (openai/adapter.ts: no usage but "usage":null, no error, no provider)
      const text = hooks.strict ? undefined : hooks.includeUsage ? item.text : withoutNullUsage(item.text);
      if (text !== undefined) {
        if (!sawContent) {
          sawContent = true;
          hooks.onFirstToken();
        }
        // `{"` …: the prefix made once per stream goes in front of the first key (else withProvider decides)
        send(ctrl, text.charCodeAt(1) === 34 ? (eventHead ??= `data: {"provider":${JSON.stringify(hooks.provider)},`) + text.slice(1) + "\n\n" : `data: ${withProvider(text, hooks.provider)}\n\n`);
        return true;
      }
      // what the text alone cannot do (strict mode, a usage field that cannot be cut out): parsed after all
      let chunk: Record<string, any>;
      try {
        chunk = JSON.parse(item.text);
      } catch {
        return emit({ error: unreadableEvent(hooks.provider) }, ctrl);
      }
      return emit({ chunk, raw: item.text }, ctrl);
    }
    const chunk = item.chunk;
    if (chunk.usage) usage = chunk.usage;
    if (!sawContent && isContentChunk(chunk)) {
      sawContent = true;
      hooks.onFirstToken();
    }
    const hideUsage = !hooks.includeUsage && "usage" in chunk;
    let raw = hooks.strict ? undefined : item.raw;
    if (raw !== undefined && hideUsage) raw = chunk.usage === null ? withoutNullUsage(raw) : undefined;
    if (raw !== undefined) {
      // the upstream's own text, `provider` spliced in: no re-serialisation
      send(ctrl, `data: ${withProvider(raw, hooks.provider)}\n\n`);
      return true;
    }
    if (hideUsage) {
      // the usage-only chunk (`choices: []`, or no choices at all): not for a client that did not ask for it
      if (!Array.isArray(chunk.choices) || chunk.choices.length === 0) return true;
      delete chunk.usage;
    }
    if (hooks.strict) stripNonOpenAI(chunk, "delta");
    else chunk.provider = hooks.provider;
    send(ctrl, `data: ${JSON.stringify(chunk)}\n\n`);
    return true;
  };

  let lastWrite = performance.now();
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  const stopHeartbeat = () => heartbeat && clearInterval(heartbeat);

  /** the client's stream's controller (the same object for start and every pull) */
  let ctl: ReadableStreamDefaultController<Uint8Array>;
  /** one upstream read's items → the client's stream; handlers made once per stream, not an async frame per pull */
  const onItems = (items: StreamItem[] | null): void | Promise<void> => {
    if (finished) return;
    if (items === null) {
      ctl.enqueue(DONE);
      ctl.close();
      stopHeartbeat();
      end(null);
      return;
    }
    hooks.onProgress?.();
    const before = sent;
    for (const item of items) if (!emit(item, ctl)) return stopHeartbeat();
    lastWrite = performance.now();
    // keep reading past items that produce no bytes (a hidden usage chunk)
    if (sent === before) return pump();
  };
  const onError = (e: any) => {
    stopHeartbeat();
    if (finished) return;
    const err = readFailure(e, hooks.provider);
    try {
      ctl.enqueue(enc.encode(`data: ${JSON.stringify(err.toBody())}\n\n`));
      ctl.close();
    } catch {}
    end(err);
  };
  const pump = (): Promise<void> => (finished ? Promise.resolve() : source.next().then(onItems).catch(onError));

  return new ReadableStream<Uint8Array>(
    {
      start(ctrl) {
        ctl = ctrl;
        for (const item of head) if (!emit(item, ctrl)) return;
        // one timer per stream, not per chunk: a comment when nothing was written for heartbeatMs
        heartbeat = setInterval(() => {
          if (finished) return stopHeartbeat();
          if (performance.now() - lastWrite >= hooks.heartbeatMs) {
            lastWrite = performance.now();
            try {
              ctrl.enqueue(HEARTBEAT);
            } catch {
              stopHeartbeat();
            }
          }
        }, Math.max(50, hooks.heartbeatMs / 2));
      },
      pull: pump,
      cancel() {
        stopHeartbeat();
        source.cancel().catch(() => {});
        end(new GatewayError(499, "client closed the stream", { code: "client_closed_request" }));
      },
    },
    { highWaterMark: 0 },
  );
}
