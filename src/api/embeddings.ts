/** POST /embeddings. */
import { t } from "elysia";
import type { Principal } from "../core/access.ts";
import { failed, JSON_HEADERS, responseHeaders, startInference } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import { typeNotSupported } from "../core/resolve.ts";
import { scrubCredentials } from "../core/credential-scrub.ts";
import { adapterFor } from "../providers/registry.ts";
import { isStrict } from "../http/sse.ts";

export const EmbeddingsBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    input: t.Union([t.String(), t.Array(t.String(), { minItems: 1 }), t.Array(t.Number(), { minItems: 1 }), t.Array(t.Array(t.Number()), { minItems: 1 })]),
  },
  { additionalProperties: true },
);

export async function embeddings(gw: Gateway, p: Principal, body: Record<string, any>, request: Request): Promise<Response> {
  const call = startInference(gw, p, request, "embeddings", "embedding", body.model);
  const { target, log } = call;
  try {
    const adapter = adapterFor(target.account.provider, target.account.name);
    if (!adapter.embeddings) throw typeNotSupported("embedding", target);
    const res = await adapter.embeddings(call, body);
    if (isStrict(request)) delete res.body.provider;
    else res.body.provider = target.account.name;
    log.finish(res.status, res.body.usage);
    return new Response(scrubCredentials(target.account.name, JSON.stringify(res.body)), {
      status: res.status,
      headers: responseHeaders(target, log.id, JSON_HEADERS, call.replyHeaders),
    });
  } catch (e) {
    throw failed(log, e);
  }
}
