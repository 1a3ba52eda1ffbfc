/** Opening a data dir (database, master key, registry, log writer) and serving the app on it. */
import { chmodSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { createApp, INFERENCE_PREFIXES } from "./app.ts";
import { routesWithCors, withCors } from "./http/cors.ts";
import { hotRoutes } from "./http/hot-routes.ts";
import { DEFAULT_SETTINGS, type Gateway, type GatewaySettings } from "./core/gateway.ts";
import { Registry } from "./core/registry.ts";
import { loadOrCreateMasterKey } from "./core/secrets.ts";
import { openStore } from "./db/client.ts";
import { createKey, findKeyByHash, hasAdminKey } from "./db/keys-repo.ts";
import { hashKey } from "./core/secrets.ts";
import { LogWriter } from "./usage/log-writer.ts";
import { fetchClient, pooledFetch, type UpstreamFetch } from "./providers/http1.ts";

export interface OpenOptions {
  dataDir: string;
  settings?: Partial<GatewaySettings>;
  fetch?: UpstreamFetch;
  logFlushMs?: number;
}

/**
 * The upstream client: the pooled HTTP/1.1 client, or plain `fetch` when SWITCHBOARD_UPSTREAM_CLIENT=fetch
 * (a way back should an upstream need something only fetch does).
 */
function upstreamClient(): UpstreamFetch {
  const choice = process.env.SWITCHBOARD_UPSTREAM_CLIENT ?? "pool";
  if (choice === "fetch") return fetchClient();
  if (choice !== "pool") throw new Error(`SWITCHBOARD_UPSTREAM_CLIENT must be 'pool' or 'fetch', not '${choice}'`);
  return pooledFetch();
}

export function openGateway(o: OpenOptions): Gateway {
  const upstream = o.fetch ?? upstreamClient();
  const dir = resolve(o.dataDir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const dbFile = join(dir, "switchboard.db");
  const store = openStore(dbFile);
  // the database holds the request log and the (encrypted) credentials: the owner's only, whatever the umask or
  // the mode of a data dir that existed already (SQLite gives its -wal and -shm files the database file's mode)
  for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) {
    try {
      chmodSync(f, 0o600);
    } catch {}
  }
  const masterKey = loadOrCreateMasterKey(join(dir, "master.key"));
  return {
    store,
    masterKey,
    registry: new Registry(store, masterKey),
    logs: new LogWriter(store, { flushMs: o.logFlushMs }),
    settings: { ...DEFAULT_SETTINGS, ...o.settings },
    fetch: upstream,
  };
}

/**
 * The first admin key: SWITCHBOARD_ADMIN_KEY when set (registered if new), else one generated on first start.
 * Returns the generated key so it can be printed once.
 */
export function ensureAdminKey(gw: Gateway, fromEnv?: string): string | undefined {
  if (fromEnv) {
    if (!fromEnv.startsWith("sk-") || fromEnv.length < 20) throw new Error("SWITCHBOARD_ADMIN_KEY must start with 'sk-' and be at least 20 characters");
    if (!findKeyByHash(gw.store, hashKey(fromEnv))) {
      createKey(gw.store, { name: "admin (SWITCHBOARD_ADMIN_KEY)", subject: "user:admin", role: "admin", key: fromEnv });
      gw.registry.reload();
    }
    return undefined;
  }
  if (hasAdminKey(gw.store)) return undefined;
  // the first start, or every admin key expired: a new one, printed once like the first
  const first = gw.store.sqlite.query("select count(*) as n from api_keys where role = 'admin'").get() as { n: number };
  const { key } = createKey(gw.store, { name: first.n === 0 ? "admin (first start)" : "admin (no working admin key at start)", subject: "user:admin", role: "admin" });
  gw.registry.reload();
  return key;
}

/** The hot routes and the fallback to the Elysia app, with CORS around both when it is on (nothing added when off). */
function handlers(gw: Gateway, app: ReturnType<typeof createApp>) {
  const routes = hotRoutes(gw, INFERENCE_PREFIXES);
  const fetch = (request: Request) => app.handle(request);
  const origins = gw.settings.corsOrigins;
  if (!origins) return { routes, fetch };
  return { routes: routesWithCors(routes, origins, fetch), fetch: withCors(fetch, origins) };
}

/**
 * Bun.serve with the hot inference routes on its native router (http/hot-routes.ts) and the Elysia app for
 * everything else.
 */
export function serve(gw: Gateway, opts: { port: number; hostname: string }) {
  const app = createApp(gw);
  const server = Bun.serve({
    port: opts.port,
    hostname: opts.hostname,
    // streams outlive Bun's 10 s default; quiet streams get SSE heartbeats well inside this
    idleTimeout: gw.settings.idleTimeoutSec,
    // no cut-off of Bun's own (its 413 has no body, which the SDK reports as a connection error): the handlers
    // enforce the limit, from content-length before reading, or counting what they read of a body without one
    // (http/json-body.ts), and answer in the OpenAI envelope
    maxRequestBodySize: Number.MAX_SAFE_INTEGER,
    ...handlers(gw, app),
  });
  return { app, server, url: `http://${server.hostname}:${server.port}` };
}
