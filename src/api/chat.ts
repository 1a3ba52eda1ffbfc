/** POST /chat/completions — non-stream and stream, any provider, usage logged. */
import { t } from "elysia";
import type { Principal } from "../core/access.ts";
import { inference, JSON_HEADERS, responseHeaders, type HeaderPairs } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import { encodeChatStream, readUntilContent, stripNonOpenAI } from "../http/sse.ts";
import { adapterFor } from "../providers/registry.ts";
import { withProvider } from "../usage/normalize.ts";

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

export function chatCompletions(gw: Gateway, p: Principal, body: Record<string, any>, request: Request): Promise<Response> {
  return inference(gw, p, request, "chat/completions", "chat", body.model, async (target, ctx, log) => {
    const result = await adapterFor(target.account.provider, target.account.name).chat(ctx, body);
    const strict = request.headers.get("x-tfy-strict-openai") === "true";
    if (!result.stream) {
      let text: string;
      if ("text" in result) {
        // an OpenAI-compatible upstream's body is OpenAI's shape already
        text = strict ? result.text : withProvider(result.text, target.account.name);
        log.finish(200, result.usage);
      } else {
        if (strict) stripNonOpenAI(result.body, "message");
        else result.body.provider = target.account.name;
        text = JSON.stringify(result.body);
        log.finish(200, result.body.usage);
      }
      return new Response(text, { headers: responseHeaders(target, log.id, JSON_HEADERS) });
    }
    log.stream = true;
    const reader = result.items.getReader();
    const head = await readUntilContent(reader);
    ctx.touch?.();
    const stream = encodeChatStream(reader, head, {
      includeUsage: body.stream_options?.include_usage === true,
      provider: target.account.name,
      strict,
      heartbeatMs: gw.settings.heartbeatMs,
      onFirstToken: () => log.firstToken(),
      onProgress: ctx.touch,
      onEnd: (usage, err) => log.finish(err ? err.status : 200, usage, err?.message),
    });
    return new Response(stream, { headers: responseHeaders(target, log.id, SSE_HEADERS) });
  });
}
