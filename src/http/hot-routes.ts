/**
 * The inference routes every request takes (chat completions, embeddings), served by Bun.serve's native router
 * instead of through Elysia: same checks (key, 413, JSON, schema with `param`), same handlers, same error envelope.
 * Measured on the loopback bench: ~15 µs less CPU per request (of ~80), the largest single saving on the hot path.
 * Everything else (models, pass-through, admin) stays on the Elysia app.
 */
import type { TSchema } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { Value, type ValueError } from "@sinclair/typebox/value";
import { ChatBody, chatCompletions } from "../api/chat.ts";
import { EmbeddingsBody, embeddings } from "../api/embeddings.ts";
import type { Principal } from "../core/access.ts";
import { rejected, unlogged } from "../core/dispatch.ts";
import type { Gateway } from "../core/gateway.ts";
import { authenticate } from "./auth.ts";
import { errorResponse, GatewayError, pathToParam } from "./errors.ts";
import { readJsonBody } from "./json-body.ts";

/** The OpenAI-style 400 for the first schema violation (shared with the Elysia app's error handler). */
export function validationError(first: Pick<ValueError, "path" | "message" | "value"> & { schema?: TSchema } | undefined): GatewayError {
  if (first?.schema && Array.isArray(first.schema.anyOf) && first.value !== undefined) return unionError(first.path, first.schema, first.value);
  const param = pathToParam(first?.path);
  const what = param ? `'${param}'` : "the request body";
  const missing = !!first && first.value === undefined;
  return new GatewayError(400, missing ? `Missing required parameter: ${what}` : `Invalid value for ${what}: ${first?.message ?? "invalid request"}`, {
    param,
    code: missing ? "missing_required_parameter" : "invalid_value",
  });
}

/**
 * A value that matches none of a union's types (TypeBox says only "Expected union value"): when the value is of one
 * variant's kind (an object where an object or null is expected), what is wrong inside it; else which types the
 * parameter takes.
 */
function unionError(path: string, schema: TSchema, value: unknown): GatewayError {
  const variants = schema.anyOf as TSchema[];
  const same = variants.filter((v) => kindOf(v) === valueKind(value));
  if (same.length === 1 && (kindOf(same[0]!) === "object" || kindOf(same[0]!) === "array")) {
    const inner = Value.Errors(same[0]!, value).First();
    if (inner) return validationError({ ...inner, path: path + inner.path });
  }
  const param = pathToParam(path);
  if (Array.isArray(value) && value.length === 0 && same.length > 0 && same.every((v) => (v.minItems ?? 0) >= 1)) {
    return new GatewayError(400, `Invalid value for '${param ?? "the request body"}': it must not be empty`, { param, code: "invalid_value" });
  }
  return new GatewayError(400, `Invalid type for '${param ?? "the request body"}': expected ${listOf(variants.map(describe))}`, { param, code: "invalid_type" });
}

const kindOf = (s: TSchema): string => (s.type === "integer" ? "number" : String(s.type));
const valueKind = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v);

/** A schema in words: "a string", "an array of numbers", "null". */
function describe(s: TSchema): string {
  if (Array.isArray(s.anyOf)) return listOf((s.anyOf as TSchema[]).map(describe));
  switch (s.type) {
    case "null":
      return "null";
    case "array":
      return s.items ? `an array of ${plural(s.items)}` : "an array";
    case "object":
    case "integer":
      return `an ${s.type}`;
    default:
      return `a ${s.type}`;
  }
}

function plural(s: TSchema): string {
  if (s.type === "array") return s.items ? `arrays of ${plural(s.items)}` : "arrays";
  return Array.isArray(s.anyOf) ? (s.anyOf as TSchema[]).map(plural).join(" or ") : `${s.type}s`;
}

function listOf(words: string[]): string {
  return words.length < 2 ? (words[0] ?? "another type") : `${words.slice(0, -1).join(", ")} or ${words.at(-1)}`;
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
