/** Bearer gateway key → Principal, from the in-memory registry (no disk I/O). */
import { principalOf, type Principal } from "../core/access.ts";
import type { Registry } from "../core/registry.ts";
import { hashKey } from "../core/secrets.ts";
import type { ApiKeyRow } from "../db/schema.ts";
import { GatewayError } from "./errors.ts";

const cache = new WeakMap<ApiKeyRow, Principal>();
/**
 * The Authorization (or x-api-key) header value as sent → the hash of its token, so that a busy key is parsed and
 * hashed once (bounded; values whose token matches no key are not kept).
 */
const hashes = new Map<string, string>();

/** "Bearer <token>", the scheme in any case */
function tokenOfAuthorization(h: string): string | undefined {
  const v = h.trim();
  const sep = v.charCodeAt(6);
  if (v.length < 8 || (sep !== 32 && sep !== 9) || v.slice(0, 6).toLowerCase() !== "bearer") return undefined;
  return v.slice(7).trim() || undefined;
}

export function authenticate(reg: Registry, headers: Headers, now = Date.now()): Principal {
  const auth = headers.get("authorization");
  const raw = auth || headers.get("x-api-key");
  let hash = raw ? hashes.get(raw) : undefined;
  if (hash === undefined) {
    const token = auth ? tokenOfAuthorization(auth) : raw?.trim() || undefined;
    if (!token) {
      throw new GatewayError(401, "Missing API key: send 'Authorization: Bearer <switchboard key>'", { code: "missing_api_key" });
    }
    hash = hashKey(token);
    if (reg.keysByHash.has(hash)) {
      if (hashes.size >= 10_000) hashes.clear();
      hashes.set(raw!, hash);
    }
  }
  const row = reg.keysByHash.get(hash);
  if (!row) throw new GatewayError(401, "Invalid API key", { code: "invalid_api_key" });
  if (row.revokedAt) throw new GatewayError(401, `API key '${row.name}' has been revoked`, { code: "revoked_api_key" });
  if (row.expiresAt && row.expiresAt <= now) throw new GatewayError(401, `API key '${row.name}' has expired`, { code: "expired_api_key" });
  let p = cache.get(row);
  if (!p) cache.set(row, (p = principalOf(row)));
  return p;
}
