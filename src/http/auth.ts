/** Bearer gateway key → Principal, from the in-memory registry (no disk I/O). */
import { principalOf, type Principal } from "../core/access.ts";
import type { Registry } from "../core/registry.ts";
import { hashKey } from "../core/secrets.ts";
import type { ApiKeyRow } from "../db/schema.ts";
import { GatewayError } from "./errors.ts";

const cache = new WeakMap<ApiKeyRow, Principal>();
/** token → hash, so that a busy key is hashed once (bounded; tokens that match no key are not kept) */
const hashes = new Map<string, string>();

function hashOf(token: string): string {
  let h = hashes.get(token);
  if (h === undefined) {
    h = hashKey(token);
    if (hashes.size >= 10_000) hashes.clear();
  }
  return h;
}

export function bearerToken(headers: Headers): string | undefined {
  const h = headers.get("authorization");
  if (h) {
    // "Bearer <token>", the scheme in any case
    const v = h.trim();
    const sep = v.charCodeAt(6);
    if (v.length < 8 || (sep !== 32 && sep !== 9) || v.slice(0, 6).toLowerCase() !== "bearer") return undefined;
    return v.slice(7).trim() || undefined;
  }
  return headers.get("x-api-key")?.trim() || undefined;
}

export function authenticate(reg: Registry, headers: Headers, now = Date.now()): Principal {
  const token = bearerToken(headers);
  if (!token) {
    throw new GatewayError(401, "Missing API key: send 'Authorization: Bearer <switchboard key>'", { code: "missing_api_key" });
  }
  const hash = hashOf(token);
  const row = reg.keysByHash.get(hash);
  if (!row) throw new GatewayError(401, "Invalid API key", { code: "invalid_api_key" });
  hashes.set(token, hash);
  if (row.revokedAt) throw new GatewayError(401, `API key '${row.name}' has been revoked`, { code: "revoked_api_key" });
  if (row.expiresAt && row.expiresAt <= now) throw new GatewayError(401, `API key '${row.name}' has expired`, { code: "expired_api_key" });
  let p = cache.get(row);
  if (!p) cache.set(row, (p = principalOf(row)));
  return p;
}
