/** Opening a data dir (database, master key, registry, log writer) and serving the app on it. */
import { chmodSync, mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { createApp, INFERENCE_PREFIXES } from "./app.ts";
import { routesWithCors, withCors } from "./http/cors.ts";
import { hotRoutes } from "./http/hot-routes.ts";
import { DEFAULT_SETTINGS, type Gateway, type GatewaySettings } from "./core/gateway.ts";
import { Registry } from "./core/registry.ts";
import { createMasterKey, decryptJson, hashKey, MasterKeyError, readMasterKey } from "./core/secrets.ts";
import { openStore, type Store } from "./db/client.ts";
import { createKey, ENV_ADMIN_KEY_NAME, findKeyByHash, hasAdminKey, listKeys } from "./db/keys-repo.ts";
import { LogWriter } from "./usage/log-writer.ts";
import { fetchClient, pooledFetch, type UpstreamFetch } from "./providers/http1.ts";

export interface OpenOptions {
  dataDir: string;
  settings?: Partial<GatewaySettings>;
  fetch?: UpstreamFetch;
  logFlushMs?: number;
  /**
   * false: open even when the master key is missing or does not match (for commands that read no credential:
   * keys, logs, usage); then `masterKey` and `registry` throw the MasterKeyError when used. Default true.
   */
  credentials?: boolean;
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
  const masterKey = masterKeyOf(join(dir, "master.key"), store);
  const logs = new LogWriter(store, { flushMs: o.logFlushMs });
  const settings = { ...DEFAULT_SETTINGS, ...o.settings };
  if (masterKey instanceof MasterKeyError) {
    if (o.credentials !== false) {
      store.close();
      throw masterKey;
    }
    const fail = (): never => {
      throw masterKey;
    };
    return { store, logs, settings, fetch: upstream, get masterKey() { return fail(); }, get registry() { return fail(); } };
  }
  return { store, masterKey, registry: new Registry(store, masterKey), logs, settings, fetch: upstream };
}

/**
 * The data dir's master key: read (and checked against a stored credential), or made when the database holds no
 * credential yet. Never made for a database that holds some: a new key cannot read them, and writing it would
 * leave the dir with a key that matches nothing (the original, restored later, would then have to replace it).
 */
function masterKeyOf(file: string, store: Store): Buffer | MasterKeyError {
  const sample = store.sqlite.query("select auth_encrypted as blob from accounts limit 1").get() as { blob: string } | null;
  const restore = "restore the master.key that belongs with this database (from the backup the database came from); commands that read no credential (keys, logs, usage, accounts list) still work without it";
  const key = readMasterKey(file);
  if (!key) {
    if (sample) return new MasterKeyError(`master.key is missing (${file}) and the database holds provider credentials encrypted with it: ${restore}`);
    return createMasterKey(file);
  }
  if (sample) {
    try {
      decryptJson(key, sample.blob);
    } catch {
      return new MasterKeyError(`master.key does not match this database (${file} cannot decrypt its provider credentials): ${restore}`);
    }
  }
  return key;
}

/** SWITCHBOARD_ADMIN_KEY's shape, checked before anything is started. */
export function checkEnvAdminKey(fromEnv: string | undefined): void {
  if (fromEnv !== undefined && fromEnv !== "" && (!fromEnv.startsWith("sk-") || fromEnv.length < 20)) {
    throw new Error("SWITCHBOARD_ADMIN_KEY must start with 'sk-' and be at least 20 characters");
  }
}

/**
 * The admin key a start guarantees. SWITCHBOARD_ADMIN_KEY, when set, is registered if it is new. A value that is a
 * revoked, expired or non-admin key is not brought back (a leaked key that was revoked stays revoked) and does not
 * stop the start either (a service that restarts would loop): the start says so and goes on, and if then no admin
 * key works, one is generated as on the first start. Keys earlier values made stay as they are (a start never
 * revokes a key someone may still use): the start lists the ones still working, to revoke by hand. Without it, a
 * key is generated on the first start (or when every admin key has expired) and returned, to be printed once.
 * `say` gets what the start should tell the operator.
 */
export function ensureAdminKey(gw: Gateway, fromEnv?: string, say: (line: string) => void = console.log): string | undefined {
  if (fromEnv) {
    checkEnvAdminKey(fromEnv);
    const envKey = gw.store.sqlite
      .transaction(() => {
        const row = findKeyByHash(gw.store, hashKey(fromEnv));
        if (row) return { row, made: false };
        return { row: createKey(gw.store, { name: ENV_ADMIN_KEY_NAME, subject: "user:admin", role: "admin", key: fromEnv }).info, made: true };
      })
      .immediate();
    gw.registry.reload();
    const { row } = envKey;
    const why = row.revokedAt ? "has been revoked" : row.expiresAt && row.expiresAt <= Date.now() ? "has expired" : row.role !== "admin" ? "is not an admin key" : undefined;
    if (why) say(`SWITCHBOARD_ADMIN_KEY is the key ${row.id} ('${row.name}'), which ${why}: it does not work; set SWITCHBOARD_ADMIN_KEY to a new value, or unset it`);
    if (envKey.made) {
      const others = otherEnvKeys(gw, row.id);
      if (others.length) say(`SWITCHBOARD_ADMIN_KEY has a new value; keys earlier values made still work (${others.join(", ")}): revoke them with 'switchboard keys revoke ID' once nothing uses them`);
    }
    if (!why) return undefined;
  }
  if (hasAdminKey(gw.store)) return undefined;
  // the first start, or every admin key expired: a new one, printed once like the first
  const first = gw.store.sqlite.query("select count(*) as n from api_keys where role = 'admin'").get() as { n: number };
  const { key } = createKey(gw.store, { name: first.n === 0 ? "admin (first start)" : "admin (no working admin key at start)", subject: "user:admin", role: "admin" });
  gw.registry.reload();
  return key;
}

/** The working admin keys earlier SWITCHBOARD_ADMIN_KEY values made, but `current`. */
function otherEnvKeys(gw: Gateway, current: string): string[] {
  const now = Date.now();
  return listKeys(gw.store)
    .filter((k) => k.name === ENV_ADMIN_KEY_NAME && k.id !== current && k.role === "admin" && !k.revokedAt && !(k.expiresAt && k.expiresAt <= now))
    .map((k) => k.id);
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
