/** POST /embeddings. */
import { t } from "elysia";
import type { Principal } from "../core/access.ts";
import { callContext, responseHeaders, toGatewayError } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import { resolveTarget } from "../core/resolve.ts";
import { GatewayError } from "../http/errors.ts";
import { parseMetadataHeader } from "../http/metadata.ts";
import { adapterFor } from "../providers/registry.ts";
import { RequestLog } from "../usage/request-log.ts";

export const EmbeddingsBody = t.Object(
  {
    model: t.String({ minLength: 1 }),
    input: t.Union([t.String(), t.Array(t.String(), { minItems: 1 }), t.Array(t.Number(), { minItems: 1 }), t.Array(t.Array(t.Number()), { minItems: 1 })]),
  },
  { additionalProperties: true },
);

export async function embeddings(gw: Gateway, p: Principal, body: Record<string, any>, request: Request): Promise<Response> {
  const log = new RequestLog(gw, p, "embeddings");
  try {
    log.setMetadata(parseMetadataHeader(request.headers.get("x-tfy-metadata")));
    const target = resolveTarget(gw.registry, p, body.model, "embedding", request.headers.get("x-tfy-provider-name"));
    log.setTarget(target);
    const adapter = adapterFor(target.account.provider, target.account.name);
    if (!adapter.embeddings) {
      throw new GatewayError(400, `embedding is not supported for the model ${target.id}`, { param: "model" });
    }
    const res = await adapter.embeddings(callContext(gw, target, request, log), body);
    res.body.provider = target.account.name;
    log.finish(res.status, res.body.usage);
    return new Response(JSON.stringify(res.body), {
      status: res.status,
      headers: { ...responseHeaders(target, log.id), "content-type": "application/json" },
    });
  } catch (e) {
    const err = toGatewayError(e);
    log.finish(err.status, null, err.message);
    throw err;
  }
}
