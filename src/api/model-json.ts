/**
 * JSON endpoints whose `model` picks the account and the upstream model: POST /moderations (type `moderation`),
 * /images/generations (`image`) and /audio/speech (`text_to_speech`). The model is checked like any other (access,
 * and its type: without it, a 400 naming the model); the body goes to the account with the upstream model id; the
 * answer comes back as the account wrote it: JSON with `provider` added and its usage logged, anything else (speech
 * audio, an SSE stream) passed on as it streams.
 */
import { isStrict } from "../http/sse.ts";
import type { Principal } from "../core/access.ts";
import { scrubbedBody, scrubCredentials } from "../core/credential-scrub.ts";
import { failed, responseHeaders, startInference, type InferenceCall } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import { typeNotSupported } from "../core/resolve.ts";
import { GatewayError, missingParameter } from "../http/errors.ts";
import { readJsonBody } from "../http/json-body.ts";
import { adapterFor } from "../providers/registry.ts";
import { createParser } from "eventsource-parser";
import type { UpstreamReply } from "../providers/http1.ts";
import { STREAMING } from "../providers/upstream.ts";
import type { RequestLog } from "../usage/request-log.ts";
import type { ModelType, Usage } from "../providers/types.ts";
import { answerWithProvider, usageFromJsonText } from "../usage/normalize.ts";

/** The JSON endpoints and the model type each needs. */
export const JSON_ENDPOINTS: readonly { path: string; type: ModelType }[] = [
  { path: "/moderations", type: "moderation" },
  { path: "/images/generations", type: "image" },
  { path: "/audio/speech", type: "text_to_speech" },
];

export async function modelJson(gw: Gateway, p: Principal, request: Request, path: string, type: ModelType): Promise<Response> {
  const body = (await readJsonBody(request, gw.settings.maxBodyBytes)) as Record<string, any> | null;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new GatewayError(400, `The body of ${path} must be a JSON object`, { code: "invalid_value" });
  }
  if (typeof body.model !== "string" || body.model === "") throw missingParameter("model");
  const call = startInference(gw, p, request, path.slice(1), type, body.model);
  const { target, log } = call;
  try {
    const adapter = adapterFor(target.account.provider, target.account.name);
    if (!adapter.postJson) throw typeNotSupported(type, target);
    body.model = target.model.modelId;
    return await answerAsWritten(call, await adapter.postJson(call, path, body), isStrict(request));
  } catch (e) {
    throw failed(log, e);
  }
}

/**
 * An answer as the account wrote it: JSON with `provider` added and its usage logged; an event stream (a streamed
 * transcription, partial images) passed on byte for byte, the usage its events report logged when it ends; anything
 * else (audio, SRT or text) passed on as it streams, its log entry written when the answer starts.
 */
export async function answerAsWritten(call: InferenceCall, res: UpstreamReply, strict = false): Promise<Response> {
  const { target, log } = call;
  const contentType = (res.headers.get("content-type") ?? "application/json").toLowerCase();
  const headers = responseHeaders(target, log.id, [["content-type", contentType]], call.replyHeaders);
  const account = target.account.name;
  if (contentType.includes("text/event-stream") && res.body) {
    log.stream = true;
    return new Response(scrubbedBody(eventsWithUsage(res.body, log, res.status), account), { status: res.status, headers });
  }
  if (!contentType.includes("json") && res.body) {
    log.finish(res.status, null);
    return new Response(scrubbedBody(res.body, account), { status: res.status, headers });
  }
  // an upstream that quotes the request back would show the client the credential: cut out
  let text = scrubCredentials(account, res.bufferedText?.() ?? (await res.text()));
  let usage: Usage | null = null;
  if (text.trimStart().startsWith("{")) {
    // read from the text, not a parse of the whole answer (an image's base64 can be megabytes)
    usage = usageFromJsonText(text);
    // (strict mode: OpenAI's fields only, so no `provider`)
    if (!strict) text = answerWithProvider(text, target.account.name);
  }
  log.finishWithUsage(res.status, usage);
  return new Response(text, { status: res.status, headers });
}

/**
 * An SSE answer passed on byte for byte as the client reads it, its events read on the way for the usage they report
 * (OpenAI's `transcript.text.done` and image `completed` events carry it, Responses' `response.completed` in its
 * response; the last one wins). The log entry is
 * written when the stream ends, fails or is cancelled (499).
 */
function eventsWithUsage(body: ReadableStream<Uint8Array>, log: RequestLog, status: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let usage: unknown = null;
  let first = true;
  const parser = createParser({
    onEvent: (e) => {
      if (!e.data.includes('"usage"')) return;
      try {
        const event = JSON.parse(e.data);
        // Responses' events carry it in the response (`response.completed`)
        const u = event?.usage ?? event?.response?.usage;
        if (u) usage = u;
      } catch {}
    },
  });
  return new ReadableStream<Uint8Array>(
    {
      async pull(c) {
        try {
          const r = await reader.read();
          if (r.done) {
            log.finish(status, usage);
            c.close();
            return;
          }
          if (first) (first = false), log.firstToken();
          parser.feed(decoder.decode(r.value, STREAMING));
          c.enqueue(r.value);
        } catch (e: any) {
          log.finish(502, usage, `stream failed: ${e?.message ?? String(e)}`);
          c.error(e);
        }
      },
      cancel() {
        log.finish(499, usage, "client closed the stream");
        return reader.cancel();
      },
    },
    { highWaterMark: 0 },
  );
}
