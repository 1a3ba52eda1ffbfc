/**
 * The adapter shared by every OpenAI-compatible kind. Requests go out as they came in (unknown fields included)
 * with the upstream model id and the account's credential; responses come back untouched.
 */
import { GatewayError } from "../../http/errors.ts";
import { scrubCredentials } from "../../core/credential-scrub.ts";
import { isContentChunk, unreadableEvent } from "../../http/sse.ts";
import { fixedItemSource, openAIErrorFields, passedOnHeaders, sseItemSource, upstreamError, upstreamFetch, type ItemSink, type ItemSource } from "../upstream.ts";
import { completionToChunks } from "./completion-chunks.ts";
import type { UpstreamReply } from "../http1.ts";
import type { CallContext, ChatResult, JsonResult, ProviderAdapter, StreamItem } from "../types.ts";
import { usageFromJsonText } from "../../usage/normalize.ts";
import { baseUrlOf, jsonUpstreamHeaders, OPENAI_PROFILES, upstreamHeaders, type OpenAIProfile } from "./profiles.ts";

/**
 * POSTs a JSON body to the account; an error status becomes the upstream's error. Never throws: a failure before
 * the call (an account without a base URL) is a rejected promise too.
 */
function postJson(ctx: CallContext, profile: OpenAIProfile, path: string, body: unknown): Promise<UpstreamReply> {
  const account = ctx.target.account;
  let sent: Promise<UpstreamReply>;
  try {
    sent = upstreamFetch(ctx, baseUrlOf(account, profile) + path, {
      method: "POST",
      headers: jsonUpstreamHeaders(account, profile),
      body: JSON.stringify(body),
    });
  } catch (e) {
    return Promise.reject(e);
  }
  return sent.then((res) => replyOrError(account.name, res, ctx));
}

/** A 2xx reply as it is (its headers for the client noted on the call); any other status, the upstream's error (its message kept, the account named). */
function replyOrError(account: string, res: UpstreamReply, ctx: CallContext): UpstreamReply | Promise<never> {
  if (res.ok) {
    ctx.replyHeaders = passedOnHeaders(res, account);
    return res;
  }
  return res.text().then((text) => Promise.reject(upstreamError(account, res.status, text, openAIErrorFields, res.headers)));
}

/**
 * An OpenAI chat stream's SSE bytes → StreamItems, parsed in one stage; `[DONE]` ends it, an `error` payload becomes
 * an error item.
 */
export function openAIItemSource(body: ReadableStream<Uint8Array>, account: string, defaults?: ChunkDefaults, choices = 1): ItemSource {
  // every event is parsed until the first content chunk (the gateway's first-token time and its error handling read
  // them); after it, an event whose text shows that the gateway has nothing to read in it goes on as text: a stream
  // is mostly such events, and parsing each cost more than everything else the gateway does with it
  let content = false;
  // a server whose chunks lack fields OpenAI's schema requires (id, object, created, model): each chunk is parsed
  // and given them (the first chunk's id and time for all)
  let fill: ChunkDefaults | null = null;
  // Groq's older usage (x_groq.usage on the finish chunk) waits for the end of the stream: it becomes a usage chunk
  // of its own only if the upstream sends no standard one (newer Groq versions send both: one usage chunk, not two)
  let groqUsage: Record<string, any> | null = null;
  let standardUsage = false;
  const sendGroqUsage = (out: ItemSink) => {
    if (groqUsage !== null && !standardUsage) out.enqueue({ chunk: groqUsage });
    groqUsage = null;
  };
  let done = false;
  let events = 0;
  // choices finished (a finish_reason that is a string): a stream that ends without [DONE] must have finished every
  // choice it sent. With n > 1 every event is parsed, for the choices it names (a server may ignore n and send one)
  let finishes = 0;
  const multi = choices > 1;
  let choicesSeen = 1;
  // the stream's own id, for chunks that lack one
  let streamId: string | undefined;
  return sseItemSource(
    body,
    (ev, out) => {
      const data = ev.data;
      if (data === "[DONE]") {
        // the end, whatever comes after it (the SDK stops reading here too): the client gets its [DONE] now, and
        // the rest of the upstream's body is read off so that its connection can be used again
        done = true;
        sendGroqUsage(out);
        out.terminate();
        return;
      }
      // an event type of its own (`event: error`, `event: ping`) is not a chunk: an error ends the stream, any other is
      // left out (OpenAI's chat streams send data-only events)
      if (ev.event !== undefined && ev.event !== "message") {
        if (ev.event === "error") out.enqueue({ error: streamError(account, data) });
        return;
      }
      events++;
      if (!multi && FINISHED.test(data)) finishes++;
      if (content && fill === null && !multi && isPlainChunkText(data)) {
        out.enqueue({ text: data });
        return;
      }
      let obj: any;
      try {
        obj = JSON.parse(data);
      } catch {
        out.enqueue({ error: unreadableEvent(account) });
        return;
      }
      // vLLM's older error events: {"object":"error","message":…}
      if (obj && obj.object === "error") {
        out.enqueue({ error: streamError(account, data, obj) });
        return;
      }
      if (obj && obj.error) {
        out.enqueue({ error: streamError(account, data, obj) });
        return;
      }
      if (streamId === undefined && typeof obj?.id === "string" && obj.id !== "") streamId = obj.id;
      if (multi && Array.isArray(obj?.choices)) {
        for (const c of obj.choices) {
          if (typeof c?.index === "number" && c.index >= choicesSeen) choicesSeen = c.index + 1;
          if (typeof c?.finish_reason === "string") finishes++;
        }
      }
      if (obj.id === undefined || obj.created === undefined || obj.object === undefined || obj.model === undefined) {
        fill ??= { id: streamId ?? defaults?.id ?? "chatcmpl-gw", created: obj.created ?? Math.floor(Date.now() / 1000), model: obj.model ?? defaults?.model ?? "" };
        withChunkFields(obj, fill, "chat.completion.chunk");
      }
      if (!content && isContentChunk(obj)) content = true;
      if (obj.usage != null) standardUsage = true;
      // Groq reports stream usage under x_groq.usage on older API versions
      if (obj.usage == null && obj.x_groq?.usage) {
        // as OpenAI sends it: the chunk as it is, then (at the end) the usage in a chunk of its own with no choices
        // (which the client gets only when it asked for include_usage)
        const { prompt_tokens, completion_tokens, total_tokens, prompt_tokens_details, completion_tokens_details } = obj.x_groq.usage;
        out.enqueue({ chunk: obj });
        groqUsage = {
          id: obj.id,
          object: obj.object,
          created: obj.created,
          model: obj.model,
          choices: [],
          usage: { prompt_tokens, completion_tokens, total_tokens, prompt_tokens_details, completion_tokens_details },
        };
      } else if (obj.provider !== undefined || fill !== null) out.enqueue({ chunk: obj }); // ours replaces the upstream's; a filled chunk is serialised again
      // the text is sent on as written only when it is one line (an event whose data spans several lines would
      // break the client's SSE framing: it is serialised again)
      else out.enqueue(data.includes("\n") ? { chunk: obj } : { chunk: obj, raw: data });
    },
    (out) => {
      sendGroqUsage(out);
      // a stream that stops without [DONE] and without finishing was cut off: the client is told, not sent a [DONE]
      // (a stream without a single event is the empty stream readUntilContent reports)
      if (!done && events > 0 && finishes < (multi ? Math.min(choices, choicesSeen) : 1)) out.enqueue({ error: truncatedStream(account) });
    },
  );
}

/** A chunk's text that finishes a choice (a finish_reason that is a string, not null). */
const FINISHED = /"finish_reason"\s*:\s*"/;

/** An error event of the stream (`event: error`, an `{"object":"error"}` event): its message kept, the account named. */
function streamError(account: string, data: string, parsed?: any): GatewayError {
  let f: { message?: string; type?: string; code?: string | null; param?: string | null } = {};
  let status = 502;
  try {
    const obj = parsed ?? JSON.parse(data);
    f = openAIErrorFields(obj) ?? {};
    const code = obj?.error?.status ?? obj?.status ?? obj?.code;
    if (typeof code === "number" && code >= 400 && code < 600) status = code;
  } catch {
    if (data.trim()) f = { message: data.trim().slice(0, 500) };
  }
  return new GatewayError(status, `Upstream error from account '${account}': ${f.message ?? "stream error"}`, {
    type: f.type,
    code: f.code ?? null,
    param: f.param ?? null,
    account,
  });
}

function truncatedStream(account: string): GatewayError {
  return new GatewayError(502, `Upstream error from account '${account}': the stream ended before the answer finished (no finish_reason, no [DONE])`, {
    type: "upstream_error",
    code: "upstream_stream_truncated",
    account,
  });
}

/** What a chunk or a completion missing OpenAI's required fields gets: the request's id, the time, the model. */
export interface ChunkDefaults {
  id: string;
  created?: number;
  model: string;
}

/** The fields OpenAI's schema requires of a completion or chunk and some self-hosted servers leave out, filled in. */
function withChunkFields(obj: Record<string, any>, d: ChunkDefaults, object: string): Record<string, any> {
  obj.id ??= d.id;
  obj.object ??= object;
  obj.created ??= d.created ?? Math.floor(Date.now() / 1000);
  obj.model ??= d.model;
  return obj;
}

/**
 * A server that ignores `encoding_format: "base64"` (the OpenAI SDKs ask for it by default) answers float arrays,
 * which the SDK would decode as base64 into nothing: each is encoded as OpenAI does (float32, little-endian, base64).
 * Whether any was.
 */
function base64Embeddings(answer: Record<string, any>): boolean {
  if (!Array.isArray(answer.data)) return false;
  let changed = false;
  for (const item of answer.data) {
    const v = item?.embedding;
    if (!Array.isArray(v) || !v.every((x) => typeof x === "number")) continue;
    const bytes = new Uint8Array(new Float32Array(v).buffer); // little-endian on every platform Bun runs on
    item.embedding = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
    changed = true;
  }
  return changed;
}

/** The defaults for a call: an id made from the gateway's request id, the upstream model id. */
function callDefaults(ctx: CallContext): ChunkDefaults {
  return { id: `chatcmpl-${ctx.requestId.replace(/^req_/, "")}`, model: ctx.target.model.modelId };
}

/**
 * A completion that starts as OpenAI writes one (`{"id":…,"object":…,"created":…,"model":`, as Groq, vLLM and most
 * servers copy it) has the fields OpenAI's schema requires; any other is parsed to see (Azure writes its keys in
 * alphabetical order; a field a server leaves out is filled in). A name found anywhere in the text would not do: a
 * tool call's `id` is not the completion's.
 */
const OPENAI_HEAD = /^\s*\{\s*"id"\s*:\s*"[^"]*"\s*,\s*"object"\s*:\s*"[^"]*"\s*,\s*"created"\s*:\s*\d+\s*,\s*"model"\s*:/;

/** Whether a parsed completion lacks a field OpenAI's schema requires. */
const lacksRequired = (b: Record<string, unknown>) => b.id === undefined || b.object === undefined || b.created === undefined || b.model === undefined;

/** A quoted name the gateway reads or changes in a chunk (a `"usage":null` excepted: nothing to read there), or a
 *  line break (data that spanned several `data:` lines) */
const READ_NAMES = /"(?:usage"(?!:null)|error"|provider"|x_groq")|\n/;

/**
 * Whether a chunk's text can go on unparsed: a JSON object on one line (braces at both ends, its `id` first, as
 * OpenAI writes chunks: one without an id is parsed and given the stream's) that names no `usage`
 * (but a `"usage":null`), `error`, `provider` or `x_groq`. A name cannot be matched from inside a string value (its quotes
 * are escaped there); a value that happens to match (`"finish_reason":"error"`) only costs a parse. One regex test:
 * ~0.07 µs an event, against ~0.3 for JSON.parse and the objects it leaves to the collector.
 */
export function isPlainChunkText(data: string): boolean {
  const n = data.length;
  return n >= 2 && data.startsWith('{"id":') && data.charCodeAt(n - 1) === 125 && !READ_NAMES.test(data);
}

/** A whole chat completion's text → the result: checked to be a JSON object that is not an error, usage read. */
function completionResult(ctx: CallContext, text: string): ChatResult {
  // (braces at both ends, checked in place: an answer cut short or with text after it is not passed on as a 200;
  // what lies between them is sent on as written, not parsed)
  if (!isBraced(text)) throw malformedAnswer(ctx.target.account.name, "the answer is not a JSON object");
  // parsed only when it names an error: an answer is sent on as its text
  if (ERROR_KEY.test(text)) parsedAnswer(ctx.target.account.name, text, "choices");
  // a self-hosted server's answer without a field OpenAI's schema requires: given it
  if (!OPENAI_HEAD.test(text)) {
    const body = parsedAnswer(ctx.target.account.name, text, "choices");
    if (body && typeof body === "object" && !Array.isArray(body) && lacksRequired(body)) text = JSON.stringify(withChunkFields(body, callDefaults(ctx), "chat.completion"));
  }
  return { stream: false, text, usage: usageFromJsonText(text) };
}

/** A stream's reply → the result: its items, or, from a server that ignores `stream`, its one JSON completion's. */
function streamResult(ctx: CallContext, res: UpstreamReply, choices: number): ChatResult | Promise<ChatResult> {
  if (!res.body) throw new GatewayError(502, `Account '${ctx.target.account.name}' sent an empty stream`);
  // a server that ignores `stream` answers with one JSON completion: sent on as the stream it would have been
  if (res.headers.get("content-type")?.toLowerCase().includes("application/json")) return res.text().then((t) => completionAsStream(ctx, t));
  return { stream: true, items: openAIItemSource(res.body, ctx.target.account.name, callDefaults(ctx), choices) };
}

/** A 502 for an answer the gateway cannot read, naming the account. */
function malformedAnswer(account: string, what: string): GatewayError {
  return new GatewayError(502, `Upstream error from account '${account}': ${what}`, { type: "upstream_error", code: "upstream_malformed_response", account });
}

/** An `"error"` key (a name in a string value would have its quotes escaped). */
const ERROR_KEY = /"error"\s*:/;

/**
 * A 200's body parsed, or undefined when it is not JSON. A body that is an error (some servers answer a failure
 * with a 200): `error` without the `field` array a real answer has (choices, data) throws the upstream's error.
 */
function parsedAnswer(account: string, text: string, field: string): any {
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (body?.error && !Array.isArray(body[field])) throw upstreamError(account, 502, text, openAIErrorFields);
  return body;
}

/** A stream request answered with JSON: a chat completion becomes its chunks; an error body, the upstream's error. */
function completionAsStream(ctx: CallContext, text: string): ChatResult {
  const account = ctx.target.account.name;
  const body = parsedAnswer(account, text, "choices");
  if (!body || !Array.isArray(body.choices)) throw malformedAnswer(account, "a stream was asked for and the answer is neither a stream nor a chat completion");
  ctx.notes.push("the account answered the stream request with one JSON completion: sent as a stream");
  return { stream: true, items: fixedItemSource(completionToChunks(withChunkFields(body, callDefaults(ctx), "chat.completion")).map((chunk) => ({ chunk }))) };
}

/** Whether the text's first character but blanks is `{` and its last `}` (checked in place). */
function isBraced(text: string): boolean {
  return edgeIs(text, 0, 1, 123) && edgeIs(text, text.length - 1, -1, 125);
}

/** Whether the first character but blanks, walking from `from` by `step`, is `code`. */
function edgeIs(text: string, from: number, step: 1 | -1, code: number): boolean {
  for (let i = from; i >= 0 && i < text.length; i += step) {
    const c = text.charCodeAt(i);
    if (c === code) return true;
    if (c !== 32 && c !== 10 && c !== 13 && c !== 9) return false;
  }
  return false;
}

const HOP_HEADERS = ["content-encoding", "content-length", "transfer-encoding", "set-cookie", "connection", "keep-alive", "proxy-authenticate", "proxy-connection", "te", "trailer", "upgrade"];

export function openAICompatibleAdapter(kind: keyof typeof OPENAI_PROFILES): ProviderAdapter {
  const profile = OPENAI_PROFILES[kind]!;
  return {
    chat(ctx, body): Promise<ChatResult> {
      // the body goes upstream as it came (every field), with the upstream model id; changed in place, not copied
      body.model = ctx.target.model.modelId;
      if (body.stream === true) {
        if (ctx.target.account.settings.stream_usage ?? profile.streamUsage) {
          body.stream_options = { ...(body.stream_options ?? {}), include_usage: true };
        } else if (body.stream_options != null) {
          // an account whose server rejects stream_options: not sent, whoever asked (a client following OpenAI's
          // docs asks for include_usage); the usage the server reports in its chunks still reaches the client
          delete body.stream_options;
          ctx.notes.push("stream_options not sent (stream_usage: false)");
        }
        const choices = typeof body.n === "number" && body.n > 1 ? Math.floor(body.n) : 1;
        return postJson(ctx, profile, "/chat/completions", body).then((res) => streamResult(ctx, res, choices));
      }
      // not an async function: the reply is handled by a function of the context, no frame per request
      return postJson(ctx, profile, "/chat/completions", body).then((res) => {
        const text = res.bufferedText?.();
        return text != null ? completionResult(ctx, text) : res.text().then((t) => completionResult(ctx, t));
      });
    },

    async embeddings(ctx, body): Promise<JsonResult> {
      body.model = ctx.target.model.modelId;
      const res = await postJson(ctx, profile, "/embeddings", body);
      const text = res.bufferedText?.() ?? (await res.text());
      const account = ctx.target.account.name;
      const parsed = parsedAnswer(account, text, "data");
      if (parsed == null || typeof parsed !== "object" || Array.isArray(parsed)) throw malformedAnswer(account, "the answer is not a JSON object");
      if (body.encoding_format === "base64" && base64Embeddings(parsed)) ctx.notes.push("the account answered base64 with floats: encoded by the gateway");
      return { status: res.status, body: parsed };
    },

    postJson(ctx, path, body): Promise<UpstreamReply> {
      return postJson(ctx, profile, path, body);
    },

    postForm(ctx, path, form): Promise<UpstreamReply> {
      const account = ctx.target.account;
      let sent: Promise<UpstreamReply>;
      try {
        // the form as the body: fetch sets the multipart content type with its boundary
        sent = upstreamFetch(ctx, baseUrlOf(account, profile) + path, { method: "POST", headers: upstreamHeaders(account, profile), body: form });
      } catch (e) {
        return Promise.reject(e);
      }
      return sent.then((res) => replyOrError(account.name, res, ctx));
    },

    async proxy(ctx, req, path, body, search): Promise<Response> {
      const account = ctx.target.account;
      const url = new URL(req.url);
      const headers = new Headers();
      for (const h of ["content-type", "accept", "openai-beta", "idempotency-key"]) {
        const v = req.headers.get(h);
        if (v) headers.set(h, v);
      }
      for (const [k, v] of Object.entries(upstreamHeaders(account, profile))) headers.set(k, v);
      const hasBody = req.method !== "GET" && req.method !== "HEAD";
      const sent = body ?? (hasBody ? req.body : undefined);
      // a form the gateway rewrote gets its own multipart boundary from fetch
      if (sent instanceof FormData) headers.delete("content-type");
      const init: RequestInit & { duplex?: "half" } = { method: req.method, headers, body: sent as BodyInit | null | undefined };
      // Bun/undici need duplex for streamed request bodies
      if (sent instanceof ReadableStream) init.duplex = "half";
      const res = await upstreamFetch(ctx, baseUrlOf(account, profile) + path + (search ?? url.search), init);
      const out = new Headers(res.headers);
      // the body is decoded and re-framed here; cookies are the upstream's; hop-by-hop headers are this hop's; CORS
      // is the gateway's to say (--cors-origins), not the upstream's
      for (const h of HOP_HEADERS) out.delete(h);
      const names: string[] = [];
      out.forEach((_v, name) => names.push(name));
      for (const name of names) {
        if (name.startsWith("access-control-")) out.delete(name);
        else {
          // a header that quotes the request back (www-authenticate, a debug echo) must not show the credential
          const v = out.get(name)!;
          const clean = scrubCredentials(account.name, v);
          if (clean !== v) out.set(name, clean);
        }
      }
      return new Response(res.body, { status: res.status, headers: out });
    },
  };
}
