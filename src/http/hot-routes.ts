/**
 * The inference routes every request takes (chat completions, embeddings), served by Bun.serve's native router
 * instead of through Elysia: same checks (key, 413, JSON, schema with `param`), same handlers, same error envelope.
 * Measured on the loopback bench: ~15 µs less CPU per request (of ~80), the largest single saving on the hot path.
 * Everything else (models, pass-through, admin) stays on the Elysia app.
 */
import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import type { ValueError } from "@sinclair/typebox/value";
import { ChatBody, chatCompletions } from "../api/chat.ts";
import { EmbeddingsBody, embeddings } from "../api/embeddings.ts";
import type { Principal } from "../core/access.ts";
import { rejected, unlogged } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import { authenticate } from "./auth.ts";
import { errorResponse, GatewayError, pathToParam } from "./errors.ts";
import { readJsonBody } from "./json-body.ts";

/** The OpenAI-style 400 for the first schema violation (shared with the Elysia app's error handler). */
export function validationError(first: Pick<ValueError, "path" | "message" | "value"> | undefined): GatewayError {
  const param = pathToParam(first?.path);
  const what = param ? `'${param}'` : "the request body";
  const missing = !!first && first.value === undefined;
  return new GatewayError(400, missing ? `Missing required parameter: ${what}` : `Invalid value for ${what}: ${first?.message ?? "invalid request"}`, {
    param,
    code: missing ? "missing_required_parameter" : "invalid_value",
  });
}

type Handler = (gw: Gateway, p: Principal, body: Record<string, any>, request: Request) => Promise<Response>;

function route(gw: Gateway, endpoint: string, schema: TSchema, handler: Handler) {
  const check = TypeCompiler.Compile(schema);
  return async (request: Request): Promise<Response> => {
    let principal: Principal | undefined;
    let body: any;
    try {
      principal = authenticate(gw.registry, request.headers);
      body = await readJsonBody(request, gw.settings.maxBodyBytes);
      if (!check.Check(body)) throw validationError(check.Errors(body).First());
      return await handler(gw, principal, body as Record<string, any>, request);
    } catch (e) {
      // a request without a valid key is not logged (its 401 says why); any other refusal is
      return errorResponse(principal === undefined ? unlogged(e) : rejected(gw, principal, endpoint, e, body?.model));
    }
  };
}

/** Bun.serve `routes` for the hot endpoints under every inference prefix. */
export function hotRoutes(gw: Gateway, prefixes: readonly string[]) {
  const chat = { POST: route(gw, "chat/completions", ChatBody, chatCompletions) };
  const emb = { POST: route(gw, "embeddings", EmbeddingsBody, embeddings) };
  const routes: Record<string, typeof chat> = {};
  for (const prefix of prefixes) {
    routes[`${prefix}/chat/completions`] = chat;
    routes[`${prefix}/embeddings`] = emb;
  }
  return routes;
}
