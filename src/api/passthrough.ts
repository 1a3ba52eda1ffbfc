/**
 * Any other OpenAI path sent with x-tfy-provider-name naming an OpenAI-compatible account is proxied as is
 * (method, query, body and streams), with the account's credential in place of the client's key.
 */
import type { Principal } from "../core/access.ts";
import { InferenceCall, requestTimeoutMs, responseHeaders, toGatewayError, upstreamSignal } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import { resolveAccount } from "../core/resolve.ts";
import { checkBodySize, GatewayError } from "../http/errors.ts";
import { parseMetadataHeader } from "../http/metadata.ts";
import { adapterFor } from "../providers/registry.ts";
import type { ModelRecord } from "../providers/types.ts";
import { RequestLog } from "../usage/request-log.ts";

export async function passthrough(gw: Gateway, p: Principal, request: Request, path: string): Promise<Response> {
  const log = new RequestLog(gw, p, path.replace(/^\//, ""), request.method);
  const name = request.headers.get("x-tfy-provider-name");
  try {
    if (!name) {
      throw new GatewayError(404, `Unknown path '${path}'. To reach it on an OpenAI-compatible account, send the header x-tfy-provider-name: <account>`, {
        code: "unknown_path",
      });
    }
    checkBodySize(request.headers, gw.settings.maxBodyBytes);
    log.setMetadata(parseMetadataHeader(request.headers.get("x-tfy-metadata")));
    const account = resolveAccount(gw.registry, p, name);
    const adapter = adapterFor(account.provider, account.name);
    if (!adapter.proxy) {
      throw new GatewayError(400, `Account '${account.name}' (${account.provider}) does not support pass-through of ${path}`, { code: "passthrough_not_supported" });
    }
    const model: ModelRecord = { account: account.name, name: "*", modelId: "*", types: [] };
    const target = { account, model, id: `${account.name}/*` };
    const call = new InferenceCall(target, upstreamSignal(requestTimeoutMs(gw, request.headers), log), gw, log);
    const res = await adapter.proxy(call, request, path);
    log.finish(res.status, null, res.ok ? null : `upstream status ${res.status}`, account.name);
    for (const [k, v] of responseHeaders(undefined, log.id)) res.headers.set(k, v);
    return res;
  } catch (e) {
    const err = toGatewayError(e);
    log.finish(err.status, null, err.message, name ?? undefined);
    throw err;
  }
}
