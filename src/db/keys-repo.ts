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

export function publicKey(row: ApiKeyRow): KeyInfo {
  const { hash: _hash, ...rest } = row;
  return rest;
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
    prefix: key.slice(0, 10),
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

/** Revokes a key; the last working admin key is refused (nobody could manage the gateway any more). */
export function revokeKey(store: Store, id: string): KeyInfo | undefined {
  const row = store.db.select().from(apiKeys).where(eq(apiKeys.id, id)).get();
  if (!row) return undefined;
  if (!row.revokedAt && isWorkingAdmin(row) && activeAdminKeys(store).every((k) => k.id === id)) throw new LastAdminKeyError(id);
  if (!row.revokedAt) store.db.update(apiKeys).set({ revokedAt: Date.now() }).where(eq(apiKeys.id, id)).run();
  return publicKey({ ...row, revokedAt: row.revokedAt ?? Date.now() });
}

const isWorkingAdmin = (k: ApiKeyRow, now = Date.now()) => k.role === "admin" && !k.revokedAt && !(k.expiresAt && k.expiresAt <= now);

function activeAdminKeys(store: Store): ApiKeyRow[] {
  return store.db.select().from(apiKeys).where(eq(apiKeys.role, "admin")).all().filter((k) => isWorkingAdmin(k));
}

/** Whether some admin key still works (not revoked, not expired): else serve makes one at start, as on the first. */
export function hasAdminKey(store: Store): boolean {
  return activeAdminKeys(store).length > 0;
}
