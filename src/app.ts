/**
 * createApp(gw): the Elysia app for everything but the hot inference routes (chat completions and embeddings, which
 * boot.ts serves from Bun's router in front of this app, see http/hot-routes.ts): models and pass-through under
 * /v1, /api/llm and /api/llm/api/inference/openai, the management API under /admin/v1. One onError shapes every
 * error into OpenAI's envelope.
 */
import { Elysia } from "elysia";
import { adminApi } from "./api/admin/admin.ts";
import { FORM_ENDPOINTS, modelForm } from "./api/model-form.ts";
import { getModel, listModels } from "./api/models.ts";
import { JSON_ENDPOINTS, modelJson } from "./api/model-json.ts";
import { canonicalPath, passthrough } from "./api/passthrough.ts";
import { rejected, toGatewayError, unlogged } from "./core/dispatch.ts";
import type { Gateway } from "./core/gateway.ts";
import { randomId } from "./core/secrets.ts";
import { authenticate } from "./http/auth.ts";
import { isStrict } from "./http/sse.ts";
import { errorResponse, GatewayError, invalidJson } from "./http/errors.ts";
import { hotRoutes, validationError } from "./http/hot-routes.ts";
import type { Principal } from "./core/access.ts";
import { VERSION } from "./version.ts";

export const INFERENCE_PREFIXES = ["/v1", "/api/llm", "/api/llm/api/inference/openai"] as const;

function inferenceApi(gw: Gateway, prefix: string, typedHandlers: TypedHandlers) {
  let api = new Elysia({ prefix }).derive(({ request }) => ({ principal: authenticate(gw.registry, request.headers) }));
  // the endpoints whose model picks the account, other than the hot ones (chat completions, embeddings)
  // (bodies read by the handlers themselves: parse none; the cast keeps the chain's type, which a loop cannot)
  for (const e of [...JSON_ENDPOINTS, ...FORM_ENDPOINTS]) {
    const handler = typedHandlers[e.path]!;
    api = api.post(e.path, async ({ principal, request }) => handler(principal, request), { parse: "none" }) as any;
  }
  return api
    // a listing is not logged, but its answer carries an id like every other (the SDK's `_request_id`)
    .get("/models", ({ principal, request, set }) => {
      set.headers["x-request-id"] = randomId("req_");
      return listModels(gw, principal, isStrict(request));
    })
    .get("/models/*", ({ principal, params, request, set }) => {
      set.headers["x-request-id"] = randomId("req_");
      return getModel(gw, principal, decodedModelId(params["*"]), request.headers.get("x-tfy-provider-name"), isStrict(request));
    })
    .all(
      "/*",
      // (async: Elysia awaits a handler only when it can tell from its source that it returns a promise)
      async ({ principal, request, params }) => {
        const path = "/" + params["*"];
        // a typed endpoint's path written another way (`//chat/completions`, `/Embeddings`, `%63hat/...`) is served
        // as that endpoint (its checks, its usage: a stream gets its usage asked for), not passed through
        const typed = request.method === "POST" ? typedHandlers[canonicalPath(path)] : undefined;
        return typed ? typed(principal, request) : passthrough(gw, principal, request, path);
      },
      { parse: "none" },
    );
}

type TypedHandlers = Record<string, (p: Principal, request: Request) => Promise<Response>>;

/**
 * POST handlers of the typed endpoints by path: the routes of the JSON and form endpoints, and what a path that
 * reaches the pass-through route spelled another way is served by. A refusal before the call starts (a body that is
 * not JSON) is logged too: `rejected`.
 */
function typedRoutes(gw: Gateway): TypedHandlers {
  const out: TypedHandlers = {};
  // the hot routes authenticate again (the same key, cached): a rare path, not worth a second entry point
  for (const [path, r] of Object.entries(hotRoutes(gw, [""]))) out[path] = (_p, request) => r.POST(request);
  const logged = (path: string, run: (p: Principal, request: Request) => Promise<Response>) => (p: Principal, request: Request) =>
    run(p, request).catch((err) => Promise.reject(rejected(gw, p, path.slice(1), err)));
  for (const e of JSON_ENDPOINTS) out[e.path] = logged(e.path, (p, request) => modelJson(gw, p, request, e.path, e.type));
  for (const e of FORM_ENDPOINTS) out[e.path] = logged(e.path, (p, request) => modelForm(gw, p, request, e.path, e.type, e.file));
  return out;
}

/** A model id from the path, percent-decoded (`openai-main%2Fgpt-4o-mini`); malformed encoding is a 400. */
function decodedModelId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new GatewayError(400, `The model id in the path is not valid percent-encoding: '${raw.slice(0, 200)}'`, { param: "model", code: "invalid_value" });
  }
}

export function toErrorResponse(code: string | number, error: any): Response {
  // every error answer carries an id (a logged request's is its log row's)
  if (error instanceof GatewayError) return errorResponse(unlogged(error));
  // Elysia wraps what a body parser throws (our 413 and invalid-JSON errors) in a ParseError
  if (error?.cause instanceof GatewayError) return errorResponse(unlogged(error.cause));
  switch (code) {
    case "VALIDATION":
      return errorResponse(unlogged(validationError(error.valueError ?? error.all?.[0])));
    case "PARSE":
      return errorResponse(unlogged(invalidJson()));
    case "NOT_FOUND":
      return errorResponse(unlogged(new GatewayError(404, "Unknown path", { code: "unknown_path" })));
    default:
      // (toGatewayError reports anything it does not know as an internal error; a body nested too deep is a 400)
      return errorResponse(unlogged(toGatewayError(error)));
  }
}

export function createApp(gw: Gateway) {
  // standardHostname: false — Elysia otherwise looks for the path from the 11th character of the URL on, which
  // cuts it wrong for a host shorter than 4 characters (`Host: llm`, a container's service name on port 80)
  let app = new Elysia({ handler: { standardHostname: false } })
    .onError(({ code, error }) => toErrorResponse(code, error))
    .get("/health", () => ({ status: "ok", version: VERSION }))
    .use(adminApi(gw));
  const typed = typedRoutes(gw);
  for (const prefix of INFERENCE_PREFIXES) app = app.use(inferenceApi(gw, prefix, typed)) as any;
  return app;
}
