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
import { credentialScrubber, scrubCredentials } from "../core/credential-scrub.ts";
import { failed, InferenceCall, requestTimeoutMs, responseHeaders, upstreamSignal } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import { checkTarget, lookupTarget, resolveAccount } from "../core/resolve.ts";
import { checkBodySize, GatewayError, readBodyBytes } from "../http/errors.ts";
import { parseMetadataHeader } from "../http/metadata.ts";
import type { UpstreamReply } from "../providers/http1.ts";
import { adapterFor } from "../providers/registry.ts";
import type { AccountRecord, ModelRecord, ModelType, Target } from "../providers/types.ts";
import { RequestLog } from "../usage/request-log.ts";
import { answerAsWritten } from "./model-json.ts";

/**
 * The paths whose model type the gateway knows (POST): pass-through ones, and the typed endpoints' own, which a
 * path written another way (`/v1/Chat/Completions`) reaches here.
 */
const PATH_TYPES: Record<string, ModelType> = {
  "/chat/completions": "chat",
  "/completions": "chat",
  "/embeddings": "embedding",
  "/moderations": "moderation",
  "/images/generations": "image",
  "/images/edits": "image",
  "/images/variations": "image",
  "/audio/speech": "text_to_speech",
  "/audio/transcriptions": "audio_transcription",
  "/audio/translations": "audio_translation",
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
    let body: Uint8Array | string | FormData | undefined;
    let named = false;
    if (request.method !== "GET" && request.method !== "HEAD" && request.body) {
      // read whole (within the limit) whatever its content type says: an upstream may read a body as JSON (or a
      // form) whatever the header claims, so the gateway looks for a model in anything that could be one
      const bytes = await readBodyBytes(request, gw.settings.maxBodyBytes);
      const type = PATH_TYPES[canonicalPath(path)] ?? null;
      const contentType = request.headers.get("content-type") ?? "";
      body = bytes;
      if (/^multipart\/form-data/i.test(contentType)) {
        const form = await formOf(bytes, contentType);
        const model = form?.get("model");
        if (form && model != null) {
          if (typeof model !== "string") throw modelNotAString();
          target = modelTarget(gw, p, account, model, type, log);
          form.set("model", target.model.modelId);
          body = form;
          named = true;
        }
      } else {
        const text = DECODER.decode(bytes);
        if (looksLikeJsonObject(text)) {
          const json = jsonObject(text);
          if (json === undefined) {
            // JSON the gateway cannot read (NaN, a trailing comma) that names a model: a laxer upstream could
            if (MODEL_NAME.test(text)) throw new GatewayError(400, "The request body names a model but is not valid JSON", { param: "model", code: "invalid_json" });
          } else if ("model" in json) {
            if (typeof json.model !== "string") throw modelNotAString();
            target = modelTarget(gw, p, account, json.model, type, log);
            json.model = target.model.modelId;
            body = JSON.stringify(json);
            named = true;
          }
        }
      }
    }
    const call = new InferenceCall(target, upstreamSignal(requestTimeoutMs(gw, request.headers), log), gw, log);
    const res = await adapter.proxy(call, request, path, body);
    if (!res.ok) return await upstreamFailure(res, account.name, log);
    if (named) return await answerAsWritten(call, res as unknown as UpstreamReply);
    log.finish(res.status, null, null, account.name);
    for (const [k, v] of responseHeaders(undefined, log.id)) res.headers.set(k, v);
    // an upstream that reflects the request (a debug endpoint, some proxies) would show the client the credential
    const scrubber = res.body && isTextual(res.headers.get("content-type")) ? credentialScrubber(account.name) : null;
    return scrubber ? new Response(res.body!.pipeThrough(scrubber), { status: res.status, headers: res.headers }) : res;
  } catch (e) {
    throw failed(log, e, name ?? undefined);
  }
}

const DECODER = new TextDecoder();

/** A body of text (JSON, text, an event stream, XML): what could quote a request back. */
export function isTextual(contentType: string | null): boolean {
  return contentType === null || /json|^text\/|event-stream|xml|javascript|x-www-form-urlencoded/i.test(contentType);
}

/** A model key in JSON text (a name in a string value has its quotes escaped). */
const MODEL_NAME = /"model"\s*:/;

const modelNotAString = () => new GatewayError(400, "'model' must be a string", { param: "model", code: "invalid_type" });

/** Text that an upstream would read as a JSON object: `{` first, after blanks and a byte-order mark. */
function looksLikeJsonObject(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123) return true;
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 0xfeff) return false;
  }
  return false;
}

async function formOf(bytes: Uint8Array, contentType: string): Promise<FormData | null> {
  try {
    return await new Response(bytes as BodyInit, { headers: { "content-type": contentType } }).formData();
  } catch {
    // not a form the gateway can read: sent as it came (the upstream cannot read it either)
    return null;
  }
}

/**
 * A path as a server that normalises paths reads it: lower case, no empty or `.` segments. `/v1/Chat/Completions`
 * and `/v1//chat/completions` miss the typed routes and come here; they are still held to the type of the path.
 */
export function canonicalPath(path: string): string {
  return ("/" + path.toLowerCase().split("/").filter((seg) => seg !== "" && seg !== ".").join("/")).replace(/\/+$/, "") || "/";
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
