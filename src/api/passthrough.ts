/**
 * Any other OpenAI path sent with x-tfy-provider-name naming an OpenAI-compatible account is proxied as is
 * (method, query, body and streams), with the account's credential in place of the client's key.
 *
 * A JSON body that names a `model` (Responses, fine-tuning jobs, assistants, realtime sessions …) is held to the
 * same rules as the typed endpoints: the model must be one of the account's, the key must be allowed to use it
 * (`authorized_subjects` included), a path whose model type the gateway knows needs that type, and the upstream gets
 * the model's upstream id. Such an answer is logged with its model and the usage it reports.
 */
import type { Principal } from "../core/access.ts";
import { scrubCredentials } from "../core/credential-scrub.ts";
import { failed, InferenceCall, requestTimeoutMs, responseHeaders, upstreamSignal } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import { checkTarget, lookupTarget, resolveAccount } from "../core/resolve.ts";
import { checkBodySize, GatewayError, readBodyBytes, tooLarge } from "../http/errors.ts";
import { parseMetadataHeader } from "../http/metadata.ts";
import type { UpstreamReply } from "../providers/http1.ts";
import { adapterFor } from "../providers/registry.ts";
import type { AccountRecord, ModelRecord, ModelType, Target } from "../providers/types.ts";
import { RequestLog } from "../usage/request-log.ts";
import { answerAsWritten } from "./model-json.ts";

/** The pass-through paths whose model type the gateway knows (POST). */
const PATH_TYPES: Record<string, ModelType> = {
  "/responses": "responses",
  "/responses/input_tokens": "responses",
  "/fine_tuning/jobs": "fine_tuning",
  "/realtime/sessions": "realtime",
  "/realtime/client_secrets": "realtime",
  "/realtime/transcription_sessions": "realtime",
};

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
    let target: Target = { account, model: anyModel(account), id: `${account.name}/*` };
    let body: string | ReadableStream<Uint8Array> | undefined;
    let named = false;
    const hasBody = request.method !== "GET" && request.method !== "HEAD";
    if (hasBody && request.headers.get("content-type")?.includes("json")) {
      body = DECODER.decode(await readBodyBytes(request, gw.settings.maxBodyBytes));
      const json = jsonObject(body);
      if (json && typeof json.model === "string") {
        target = modelTarget(gw, p, account, json.model, PATH_TYPES[path] ?? null, log);
        json.model = target.model.modelId;
        body = JSON.stringify(json);
        named = true;
      }
    } else if (hasBody && request.body && request.headers.get("content-length") === null) {
      // streamed on (a file upload); one without a declared length is counted on the way
      body = request.body.pipeThrough(limitedStream(gw.settings.maxBodyBytes));
    }
    const call = new InferenceCall(target, upstreamSignal(requestTimeoutMs(gw, request.headers), log), gw, log);
    const res = await adapter.proxy(call, request, path, body);
    if (!res.ok) return await upstreamFailure(res, account.name, log);
    if (named) return await answerAsWritten(call, res as unknown as UpstreamReply);
    log.finish(res.status, null, null, account.name);
    for (const [k, v] of responseHeaders(undefined, log.id)) res.headers.set(k, v);
    return res;
  } catch (e) {
    throw failed(log, e, name ?? undefined);
  }
}

const DECODER = new TextDecoder();

/** Passes bytes on until more than `limit` have gone by, then fails the stream with a 413. */
function limitedStream(limit: number): TransformStream<Uint8Array, Uint8Array> {
  let size = 0;
  return new TransformStream({
    transform(chunk, ctl) {
      size += chunk.byteLength;
      if (size > limit) ctl.error(tooLarge(`more than ${limit}`, limit));
      else ctl.enqueue(chunk);
    },
  });
}

/** What a pass-through call on an account may name when its body names no model. */
function anyModel(account: AccountRecord): ModelRecord {
  return { account: account.name, name: "*", modelId: "*", types: [] };
}

function jsonObject(text: string): Record<string, any> | undefined {
  try {
    const v = JSON.parse(text);
    return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    // not JSON after all: the upstream answers it
    return undefined;
  }
}

/** The body's model, as one of the header's account (bare or `account/model`), checked like a typed endpoint's. */
function modelTarget(gw: Gateway, p: Principal, account: AccountRecord, model: string, type: ModelType | null, log: RequestLog): Target {
  log.requestedModel = model;
  const target = lookupTarget(gw.registry, model, account.name);
  if (target.account !== account) {
    throw new GatewayError(400, `The model ${target.id} is not a model of the account '${account.name}' named by x-tfy-provider-name`, {
      param: "model",
      code: "model_account_mismatch",
    });
  }
  log.setTarget(target);
  return checkTarget(p, target, type);
}

/**
 * An upstream error status, passed on with its body (an upstream may echo the credential it was sent: cut out) and
 * logged with the upstream's message.
 */
async function upstreamFailure(res: Response, account: string, log: RequestLog): Promise<Response> {
  const text = scrubCredentials(account, await res.text());
  log.finish(res.status, null, `upstream status ${res.status}: ${text.slice(0, 500)}`, account);
  res.headers.delete("content-length");
  for (const [k, v] of responseHeaders(undefined, log.id)) res.headers.set(k, v);
  return new Response(text, { status: res.status, headers: res.headers });
}
