/**
 * CORS for browser clients, off unless `--cors-origins` names who may call (`*`, or a comma-separated list of
 * origins): a preflight (OPTIONS with Access-Control-Request-Method) is answered 204 with what may be sent, and
 * every answer to an allowed origin says so and exposes the gateway's headers (x-request-id,
 * x-tfy-resolved-model) to the page. Keys travel in the Authorization header, never in cookies: no credentials mode.
 * Off, nothing here runs on the request path.
 */

type Handler = (request: Request) => Response | Promise<Response>;

const EXPOSED = "x-request-id, x-tfy-resolved-model, retry-after, retry-after-ms";
const METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS";

/** `--cors-origins` as given → the allowed origins (`*` for any), or null when CORS is off. */
export function parseCorsOrigins(value: string | undefined): string[] | null {
  if (value === undefined || value.trim() === "") return null;
  const list = value.split(",").map((o) => o.trim().replace(/\/+$/, "")).filter(Boolean);
  for (const o of list) {
    if (o !== "*" && !/^https?:\/\/[^/\s]+$/.test(o)) throw new Error(`--cors-origins: '${o}' is not an origin (scheme://host[:port]) or *`);
  }
  return list.length ? list : null;
}

export function withCors(handler: Handler, origins: readonly string[]): Handler {
  const any = origins.includes("*");
  const allowed = new Set(origins);
  const allowOrigin = (origin: string | null): string | null => (origin === null ? null : any ? "*" : allowed.has(origin) ? origin : null);
  return (request) => {
    const origin = request.headers.get("origin");
    const allow = allowOrigin(origin);
    if (request.method === "OPTIONS" && request.headers.has("access-control-request-method")) {
      if (allow === null) return new Response(null, { status: 403 });
      return new Response(null, {
        status: 204,
        headers: {
          "access-control-allow-origin": allow,
          "access-control-allow-methods": METHODS,
          "access-control-allow-headers": request.headers.get("access-control-request-headers") ?? "authorization, content-type",
          "access-control-max-age": "600",
          vary: "Origin, Access-Control-Request-Headers",
        },
      });
    }
    const answer = handler(request);
    if (allow === null) return answer;
    const set = (h: Headers) => {
      h.set("access-control-allow-origin", allow);
      h.set("access-control-expose-headers", EXPOSED);
      if (!any) h.append("vary", "Origin");
    };
    const mark = (res: Response) => {
      try {
        set(res.headers);
        return res;
      } catch {
        // an answer whose headers are immutable: copied
        const copy = new Response(res.body, res);
        set(copy.headers);
        return copy;
      }
    };
    return answer instanceof Promise ? answer.then(mark) : mark(answer);
  };
}

/** Bun.serve routes ({ path: { METHOD: handler } }) with each handler wrapped, and OPTIONS answered on each path. */
export function routesWithCors<R extends Record<string, Record<string, Handler>>>(routes: R, origins: readonly string[], fallback: Handler): R {
  const out: Record<string, Record<string, Handler>> = {};
  for (const [path, methods] of Object.entries(routes)) {
    const wrapped: Record<string, Handler> = {};
    for (const [m, h] of Object.entries(methods)) wrapped[m] = withCors(h, origins);
    wrapped.OPTIONS ??= withCors(fallback, origins);
    out[path] = wrapped;
  }
  return out as R;
}
