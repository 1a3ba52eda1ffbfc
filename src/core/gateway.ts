/** Everything a request handler needs, built once at start (and by tests on a temp dir). */
import type { Store } from "../db/client.ts";
import type { LogWriter } from "../usage/log-writer.ts";
import type { Registry } from "./registry.ts";
import type { UpstreamFetch } from "../providers/http1.ts";

export interface GatewaySettings {
  /** largest request body accepted, in bytes (413 above it) */
  maxBodyBytes: number;
  /** default upstream timeout; x-tfy-request-timeout (ms) overrides it per request */
  requestTimeoutMs: number;
  /** SSE comment sent when a stream has been quiet this long */
  heartbeatMs: number;
  /** Bun.serve's idle timeout for connections not in an inference call (those wait as long as the upstream timeout) */
  idleTimeoutSec: number;
  /** origins browsers may call from (`*`: any), or null: no CORS (http/cors.ts) */
  corsOrigins: string[] | null;
}

export const DEFAULT_SETTINGS: GatewaySettings = {
  maxBodyBytes: 50 * 1024 * 1024,
  requestTimeoutMs: 10 * 60 * 1000,
  heartbeatMs: 15_000,
  idleTimeoutSec: 255,
  corsOrigins: null,
};

export interface Gateway {
  store: Store;
  registry: Registry;
  logs: LogWriter;
  masterKey: Buffer;
  settings: GatewaySettings;
  /** upstream calls: a keep-alive HTTP/1.1 pool (providers/http1.ts) that hands anything it cannot do to fetch */
  fetch: UpstreamFetch;
}
