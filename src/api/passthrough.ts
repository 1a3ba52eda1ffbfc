/**
 * Any other OpenAI path sent with x-tfy-provider-name naming an OpenAI-compatible account is proxied as is
 * (method, query, body and streams), with the account's credential in place of the client's key.
 *
 * A JSON body that names a `model` (Responses, fine-tuning jobs, assistants, realtime sessions …) is held to the
 * same rules as the typed endpoints: the model must be one of the account's, the key must be allowed to use it
 * (`authorized_subjects` included), a path whose model type the gateway knows needs that type, and the upstream gets
 * the model's upstream id. Such an answer is logged with its model and the usage it reports.
 */
import { isStrict } from "../http/sse.ts";
import type { Principal } from "../core/access.ts";
import { scrubbedBody, scrubCredentials } from "../core/credential-scrub.ts";
import { failed, InferenceCall, requestTimeoutMs, responseHeaders, upstreamSignal } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import { checkTarget, lookupTarget, resolveAccount } from "../core/resolve.ts";
import { checkBodySize, GatewayError, readBodyBytes } from "../http/errors.ts";
import { formOf } from "../http/json-body.ts";
import { parseMetadataHeader } from "../http/metadata.ts";
import type { UpstreamReply } from "../providers/http1.ts";
import { adapterFor } from "../providers/registry.ts";
import type { AccountRecord, ModelRecord, ModelType, Target } from "../providers/types.ts";
import { RequestLog } from "../usage/request-log.ts";
import { FORM_ENDPOINTS } from "./model-form.ts";
import { answerAsWritten, JSON_ENDPOINTS } from "./model-json.ts";

/**
 * The paths whose model type the gateway knows (POST): the typed endpoints' own, which a path written another way
 * (`/v1/Chat/Completions`) reaches here, and the pass-through ones that name a model.
 */
const PATH_TYPES: Record<string, ModelType> = {
  "/chat/completions": "chat",
  "/completions": "chat",
  "/embeddings": "embedding",
  ...Object.fromEntries([...JSON_ENDPOINTS, ...FORM_ENDPOINTS].map((e) => [e.path, e.type])),
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
    const type = PATH_TYPES[canonicalPath(path)] ?? null;
    // every model the request names is checked and sent as its upstream id; the first one found is the request's
    const check = new ModelCheck(gw, p, account, type, log);
    const url = new URL(request.url);
    let search = url.search;
    const queryModel = [...url.searchParams.keys()].filter((k) => k.toLowerCase() === "model");
    if (queryModel.length) {
      for (const k of queryModel) url.searchParams.set(k, check.upstreamId(url.searchParams.get(k)!));
      search = url.search;
    }
    if (request.method !== "GET" && request.method !== "HEAD" && request.body) {
      // read whole (within the limit) whatever its content type says: an upstream may read a body as JSON (or a
      // form) whatever the header claims, so the gateway looks for a model in anything that could be one
      const bytes = await readBodyBytes(request, gw.settings.maxBodyBytes);
      body = await checkedBody(bytes, request.headers.get("content-type") ?? "", check);
    }
    if (check.first) target = check.first;
    const call = new InferenceCall(target, upstreamSignal(requestTimeoutMs(gw, request.headers), log), gw, log);
    const res = await adapter.proxy(call, request, path, body, search);
    if (!res.ok) return await upstreamFailure(res, account.name, log);
    if (check.first) return await answerAsWritten(call, res as unknown as UpstreamReply, isStrict(request));
    log.finish(res.status, null, null, account.name);
    for (const [k, v] of responseHeaders(undefined, log.id)) res.headers.set(k, v);
    // an upstream that reflects the request (a debug endpoint, some proxies) would show the client the credential;
    // whatever the content type claims (JSON served as octet-stream): the scrubber passes bytes on one to one, so
    // a body without the credential in it, binary included, comes out as it went in
    return res.body ? new Response(scrubbedBody(res.body, account.name), { status: res.status, headers: res.headers }) : res;
  } catch (e) {
    throw failed(log, e, name ?? undefined);
  }
}

const DECODER = new TextDecoder();

const modelNotAString = () => new GatewayError(400, "'model' must be a string", { param: "model", code: "invalid_type" });
const unreadable = (what: string) =>
  new GatewayError(400, `The request body ${what}: the gateway cannot check the model it names`, { param: "model", code: "invalid_body" });

/**
 * The models a pass-through request names, checked as it names them: each must be one of the account's that the
 * key may use, and goes up as its upstream id; the first has the path's type (nested ones, such as a realtime
 * session's transcription model, are checked for access only).
 */
class ModelCheck {
  first: Target | null = null;
  constructor(
    private gw: Gateway,
    private p: Principal,
    private account: AccountRecord,
    private type: ModelType | null,
    private log: RequestLog,
  ) {}
  upstreamId(model: string): string {
    const t = modelTarget(this.gw, this.p, this.account, model, this.first === null ? this.type : null, this.log, this.first === null);
    this.first ??= t;
    return t.model.modelId;
  }
}

/** A JSON value with every `model` key (in any case, at any depth but inside `metadata`) checked and rewritten. */
function checkJson(v: any, check: ModelCheck, top: boolean): boolean {
  let changed = false;
  if (Array.isArray(v)) {
    for (const x of v) if (x && typeof x === "object" && checkJson(x, check, false)) changed = true;
    return changed;
  }
  const keys = Object.keys(v);
  const named = keys.filter((k) => k.toLowerCase() === "model");
  if (named.length > 1 && new Set(named.map((k) => v[k])).size > 1) throw unreadable("names more than one model in one place");
  for (const k of named) {
    if (typeof v[k] === "string") {
      v[k] = check.upstreamId(v[k]);
      changed = true;
    } else if (top) throw modelNotAString();
  }
  for (const k of keys) {
    const x = v[k];
    if (k !== "metadata" && x && typeof x === "object" && checkJson(x, check, false)) changed = true;
  }
  return changed;
}

/** JSON text → its object with the models checked (and the text to send), or the reason it cannot be checked. */
function checkJsonText(text: string, check: ModelCheck): string {
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    // JSON the gateway cannot read (NaN, comments, JSON5) that mentions a model: a laxer upstream could read it
    if (/model/i.test(text)) throw unreadable("is not JSON the gateway can read and mentions a model");
    return text;
  }
  if (json === null || typeof json !== "object") return text;
  return checkJson(json, check, true) ? JSON.stringify(json) : text;
}

/** The body to send: as it came when it names no model, else with each model checked and rewritten. */
async function checkedBody(bytes: Uint8Array, contentType: string, check: ModelCheck): Promise<Uint8Array | string | FormData> {
  if (/^multipart\/form-data/i.test(contentType)) {
    let form: FormData;
    try {
      form = await formOf(bytes, contentType);
    } catch {
      if (/model/i.test(Buffer.from(bytes).toString("latin1"))) throw unreadable("is a form the gateway cannot read");
      return bytes;
    }
    let changed = false;
    for (const [k, v] of [...form.entries()]) {
      if (typeof v !== "string") continue;
      if (k.replace(/\[\]$/, "").toLowerCase() === "model") {
        form.set(k, check.upstreamId(v));
        changed = true;
      } else if (looksLikeJsonObject(v)) {
        // a field that holds JSON (a realtime call's `session`)
        const checked = checkJsonText(v, check);
        if (checked !== v) {
          form.set(k, checked);
          changed = true;
        }
      }
    }
    return changed ? form : bytes;
  }
  if (/^application\/x-www-form-urlencoded/i.test(contentType)) {
    const params = new URLSearchParams(DECODER.decode(bytes));
    const keys = [...params.keys()].filter((k) => k.toLowerCase() === "model");
    if (!keys.length) return bytes;
    for (const k of keys) params.set(k, check.upstreamId(params.get(k)!));
    return params.toString();
  }
  if (isWideText(bytes)) throw unreadable("is JSON in UTF-16 or UTF-32; send UTF-8");
  const text = DECODER.decode(bytes);
  if (!looksLikeJsonObject(text)) return bytes;
  const checked = checkJsonText(text, check);
  return checked === text ? bytes : checked;
}

/** Text that an upstream would read as a JSON object: `{` first, after blanks and a byte-order mark. */
function looksLikeJsonObject(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 123) return true;
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13 && c !== 0xfeff) return false;
  }
  return false;
}

/** UTF-16 or UTF-32 text that begins a JSON object (a byte-order mark, or `{` with zero bytes beside it). */
function isWideText(b: Uint8Array): boolean {
  if (b.length < 2) return false;
  if ((b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff)) return true;
  for (let i = 0; i < Math.min(b.length, 8); i++) if (b[i] === 0) return b.includes(123) && b.indexOf(123) < 8;
  return false;
}

/**
 * A path as a server that normalises paths reads it: lower case, no empty or `.` segments. `/v1/Chat/Completions`
 * and `/v1//chat/completions` miss the typed routes and come here; they are still held to the type of the path.
 */
export function canonicalPath(path: string): string {
  let decoded = path;
  try {
    // percent-encoded letters and slashes (`/v1/chat%2Fcompletions`) are what a decoding router reads
    decoded = decodeURIComponent(path);
  } catch {}
  const segs = decoded
    .toLowerCase()
    .split("/")
    .map((seg) => seg.replace(/;.*$/, "").trim().replace(/\u0000/g, ""))
    .filter((seg) => seg !== "" && seg !== ".");
  return "/" + segs.join("/");
}

/** What a pass-through call on an account may name when its body names no model. */
function anyModel(account: AccountRecord): ModelRecord {
  return { account: account.name, name: "*", modelId: "*", types: [] };
}


/** The body's model, as one of the header's account (bare or `account/model`), checked like a typed endpoint's. */
function modelTarget(gw: Gateway, p: Principal, account: AccountRecord, model: string, type: ModelType | null, log: RequestLog, first = true): Target {
  if (first) log.requestedModel = model;
  const target = lookupTarget(gw.registry, model, account.name);
  if (target.account !== account) {
    throw new GatewayError(400, `The model ${target.id} is not a model of the account '${account.name}' named by x-tfy-provider-name`, {
      param: "model",
      code: "model_account_mismatch",
    });
  }
  if (first) log.setTarget(target);
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
