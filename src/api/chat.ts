/** POST /chat/completions — non-stream and stream, any provider, usage logged. */
import { t } from "elysia";
import type { Principal } from "../core/access.ts";
import { cancelWithClient, failed, JSON_HEADERS, responseHeaders, startInference, type HeaderPairs } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import { encodeChatStream, isStrict, NON_OPENAI_NAMES, readUntilContent, stripNonOpenAI } from "../http/sse.ts";
import { scrubCredentials } from "../core/credential-scrub.ts";
import { adapterFor } from "../providers/registry.ts";
import { answerWithProvider } from "../usage/normalize.ts";

const open = { additionalProperties: true } as const;

/** Only what the gateway itself reads is checked; every other field passes through to the provider. */
export const ChatBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    messages: t.Array(t.Object({ role: t.String() }, open), { minItems: 1 }),
    stream: t.Optional(t.Nullable(t.Boolean())),
    stream_options: t.Optional(t.Nullable(t.Object({ include_usage: t.Optional(t.Boolean()) }, open))),
  },
  open,
);

export const SSE_HEADERS: HeaderPairs = [
  ["content-type", "text/event-stream; charset=utf-8"],
  ["cache-control", "no-cache"],
  ["connection", "keep-alive"],
  ["x-accel-buffering", "no"],
];

export async function chatCompletions(gw: Gateway, p: Principal, body: Record<string, any>, request: Request): Promise<Response> {
  const call = startInference(gw, p, request, "chat/completions", "chat", body.model);
  const { target, log } = call;
  try {
    // read before the adapter runs: it may change the body it is given (the upstream model id, stream options)
    const includeUsage = body.stream_options?.include_usage === true;
    const strict = isStrict(request);
    if (body.stream === true) {
      // a stream request is logged as one even when it fails before its stream begins
      log.stream = true;
      cancelWithClient(request, call);
    }
    const result = await adapterFor(target.account.provider, target.account.name).chat(call, body);
    if (!result.stream) {
      let text: string;
      if ("text" in result) {
        // an OpenAI-compatible upstream's body is OpenAI's shape already
        text = strict ? strictText(result.text) : answerWithProvider(result.text, target.account.name);
        log.finishWithUsage(200, result.usage);
      } else {
        if (strict) stripNonOpenAI(result.body, "message");
        else result.body.provider = target.account.name;
        text = JSON.stringify(result.body);
        log.finish(200, result.body.usage);
      }
      // an upstream that quotes the credential in its answer: cut out (the same string when it does not)
      return new Response(scrubCredentials(target.account.name, text), { headers: responseHeaders(target, log.id, JSON_HEADERS, call.replyHeaders) });
    }
    log.stream = true;
    const head = await readUntilContent(result.items, target.account.name);
    call.touch();
    const stream = encodeChatStream(result.items, head, {
      includeUsage,
      provider: target.account.name,
      strict,
      heartbeatMs: gw.settings.heartbeatMs,
      onFirstToken: () => log.firstToken(),
      onProgress: () => call.touch(),
      onEnd: (usage, err) => log.finish(err ? err.status : 200, usage, err?.message),
    });
    return new Response(stream, { headers: responseHeaders(target, log.id, SSE_HEADERS, call.replyHeaders) });
  } catch (e) {
    throw failed(log, e);
  }
}

/** An OpenAI-compatible answer in strict mode: as written unless it names a field strict mode removes. */
function strictText(text: string): string {
  if (!NON_OPENAI_NAMES.test(text)) return text;
  const body = JSON.parse(text);
  stripNonOpenAI(body, "message");
  return JSON.stringify(body);
}
