/** Gateway API keys: created once (the key is returned only then), stored as a hash, revoked by id. */
import { desc, eq } from "drizzle-orm";
import { generateApiKey, hashKey, randomId } from "../core/secrets.ts";
import type { Store } from "./client.ts";
import { apiKeys, type ApiKeyRow } from "./schema.ts";

export interface NewKey {
  name: string;
  subject: string;
  teams?: string[];
  role?: "admin" | "user";
  expiresAt?: number | null;
  /** use this key instead of generating one (SWITCHBOARD_ADMIN_KEY) */
  key?: string;
}

export type KeyInfo = Omit<ApiKeyRow, "hash">;

/** The name of the key SWITCHBOARD_ADMIN_KEY makes (a new value retires the keys of this name: boot.ts). */
export const ENV_ADMIN_KEY_NAME = "admin (SWITCHBOARD_ADMIN_KEY)";

/**
 * What a listing shows of a key: its kind (`sk-sb-`, `sk-`) and 4 characters of the secret, whatever the key's
 * length. Ten characters were kept before, 7 of them secret for a short `sk-…` key chosen for
 * SWITCHBOARD_ADMIN_KEY; rows stored so are cut the same way when shown.
 */
export function keyPrefix(key: string): string {
  const kind = key.startsWith("sk-sb-") ? 6 : key.startsWith("sk-") ? 3 : 0;
  return key.slice(0, kind + 4);
}

export function publicKey(row: ApiKeyRow): KeyInfo {
  const { hash: _hash, ...rest } = row;
  return { ...rest, prefix: keyPrefix(row.prefix) };
}

export function createKey(store: Store, k: NewKey): { key: string; info: KeyInfo } {
  const key = k.key ?? generateApiKey();
  const row: ApiKeyRow = {
    id: randomId("key_"),
    name: k.name,
    subject: k.subject,
    teams: k.teams ?? [],
    role: k.role ?? "user",
    hash: hashKey(key),
    prefix: keyPrefix(key),
    createdAt: Date.now(),
    expiresAt: k.expiresAt ?? null,
    revokedAt: null,
  };
  store.db.insert(apiKeys).values(row).run();
  return { key, info: publicKey(row) };
}

export function findKeyByHash(store: Store, hash: string): ApiKeyRow | undefined {
  return store.db.select().from(apiKeys).where(eq(apiKeys.hash, hash)).get();
}

export function listKeys(store: Store): KeyInfo[] {
  return store.db.select().from(apiKeys).orderBy(desc(apiKeys.createdAt)).all().map(publicKey);
}

export class LastAdminKeyError extends Error {
  constructor(id: string) {
    super(`key '${id}' is the last admin key that works: create another admin key before revoking it`);
  }
}

/**
 * Revokes a key; the last working admin key is refused (nobody could manage the gateway any more). The check and
 * the update are one immediate transaction: two processes revoking the last two admin keys at once would otherwise
 * both see the other's key still working, and both go ahead.
 */
export function revokeKey(store: Store, id: string): KeyInfo | undefined {
  return store.sqlite
    .transaction(() => {
      const row = store.db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
      if (!row) return undefined;
      if (!row.revokedAt && isWorkingAdmin(row) && activeAdminKeys(store).every((k) => k.id === id)) throw new LastAdminKeyError(id);
      const revokedAt = row.revokedAt ?? Date.now();
      if (!row.revokedAt) store.db.update(apiKeys).set({ revokedAt }).where(eq(apiKeys.id, id)).run();
      return publicKey({ ...row, revokedAt });
    })
    .immediate();
}

const isWorkingAdmin = (k: ApiKeyRow, now = Date.now()) => k.role === "admin" && !k.revokedAt && !(k.expiresAt && k.expiresAt <= now);

function activeAdminKeys(store: Store): ApiKeyRow[] {
  return store.db.select().from(apiKeys).where(eq(apiKeys.role, "admin")).all().filter((k) => isWorkingAdmin(k));
}

/** Whether some admin key still works (not revoked, not expired): else serve makes one at start, as on the first. */
export function hasAdminKey(store: Store): boolean {
  return activeAdminKeys(store).length > 0;
}
