/** Accounts and their models: upsert from a spec (config or admin API), delete, read back without secrets. */
import { eq } from "drizzle-orm";
import { diffAccounts, isUnchanged, type AccountDiff } from "../config/account-diff.ts";
import type { AccountSpec, ModelSpec } from "../config/account-spec.ts";
import { SECRET_HEADER } from "../core/credential-scrub.ts";
import { decryptJson, encryptJson } from "../core/secrets.ts";
import type { Store } from "./client.ts";
import { accounts, models, type AccountRow, type ModelRow } from "./schema.ts";

export type Change = "created" | "updated" | "unchanged";

/** The spec as stored, credentials included (decrypted): used for comparison and by the registry. */
export function rowToSpec(row: AccountRow, modelRows: ModelRow[], masterKey: Buffer): AccountSpec {
  const settings = row.settings as Record<string, any>;
  const spec: AccountSpec = {
    name: row.name,
    provider: row.provider as AccountSpec["provider"],
    auth: decryptJson<Record<string, string>>(masterKey, row.authEncrypted),
    models: modelRows.map(modelRowToSpec),
    access: { managers: row.managers, users: row.users },
  };
  if (row.baseUrl) spec.base_url = row.baseUrl;
  if (settings.drop_unsupported_params !== undefined) spec.drop_unsupported_params = settings.drop_unsupported_params;
  if (settings.stream_usage !== undefined) spec.stream_usage = settings.stream_usage;
  if (settings.headers !== undefined) spec.headers = settings.headers;
  return spec;
}

function modelRowToSpec(m: ModelRow): ModelSpec {
  const s: ModelSpec = { name: m.name, types: m.types as ModelSpec["types"] };
  if (m.modelId !== m.name) s.model_id = m.modelId;
  if (m.cost) s.cost = m.cost;
  if (m.authorizedSubjects) s.authorized_subjects = m.authorizedSubjects;
  if (m.maxOutputTokens != null) s.max_output_tokens = m.maxOutputTokens;
  return s;
}

/** Secrets replaced by a marker: what the API and the CLI show. */
/**
 * An account as shown (admin API, CLI): credentials redacted, and the extra headers whose names say they carry a
 * secret (x-api-token …).
 */
export function redactSpec(spec: AccountSpec): AccountSpec {
  const out: AccountSpec = { ...spec, auth: Object.fromEntries(Object.keys(spec.auth).map((k) => [k, "<redacted>"])) };
  if (spec.headers) out.headers = Object.fromEntries(Object.entries(spec.headers).map(([k, v]) => [k, SECRET_HEADER.test(k) ? "<redacted>" : v]));
  return out;
}

export function readAccount(store: Store, masterKey: Buffer, name: string): AccountSpec | undefined {
  const row = store.db.select().from(accounts).where(eq(accounts.name, name)).get();
  if (!row) return undefined;
  const ms = store.db.select().from(models).where(eq(models.account, name)).all();
  return rowToSpec(row, ms, masterKey);
}

export function readAllAccounts(store: Store, masterKey: Buffer): { spec: AccountSpec; source: string }[] {
  const rows = store.db.select().from(accounts).all();
  const ms = store.db.select().from(models).all();
  return rows.map((r) => ({
    spec: rowToSpec(
      r,
      ms.filter((m) => m.account === r.name),
      masterKey,
    ),
    source: r.source,
  }));
}

/** Accounts as listed (name, provider, models, source), read without decrypting a credential. */
export function listAccountSummaries(store: Store): { name: string; provider: string; models: string[]; source: string }[] {
  const ms = store.db.select({ account: models.account, name: models.name }).from(models).all();
  return store.db
    .select({ name: accounts.name, provider: accounts.provider, source: accounts.source })
    .from(accounts)
    .all()
    .map((a) => ({ ...a, models: ms.filter((m) => m.account === a.name).map((m) => m.name) }));
}

export interface Upserted {
  change: Change;
  /** what differs from the stored account (empty when created or unchanged) */
  diff: AccountDiff;
  /** a config file took over an account the admin API made (written even when nothing else differs) */
  takenOver?: boolean;
}

/** Creates or updates an account; writes nothing when the spec equals the stored one (see config/account-diff.ts). */
export function upsertAccount(store: Store, masterKey: Buffer, spec: AccountSpec, source: "config" | "api", dryRun = false): Change {
  return saveAccount(store, masterKey, spec, source, dryRun).change;
}

/**
 * Who owns an account: an account a config file lists is the file's, whoever made it (it is taken over from the
 * API, and a later apply of a file without it deletes it); an edit through the API keeps the owner it had. One rule
 * whether or not anything else differs (an unchanged account used to stay the API's, a changed one became the file's).
 */
export function saveAccount(
  store: Store,
  masterKey: Buffer,
  spec: AccountSpec,
  source: "config" | "api",
  dryRun = false,
): Upserted {
  // the read and the write in one immediate transaction: what is compared is what is overwritten, even when another
  // process writes the same account meanwhile (nested in a caller's transaction, a savepoint)
  const run = (): Upserted => {
    const existing = readAccount(store, masterKey, spec.name);
    const takenOver = !!existing && source === "config" && readSource(store, spec.name) !== "config";
    const diff = existing ? diffAccounts(existing, spec) : { fields: [], models: { added: [], changed: [], removed: [] } };
    const change: Change = !existing ? "created" : isUnchanged(diff) && !takenOver ? "unchanged" : "updated";
    const result = takenOver ? { change, diff, takenOver } : { change, diff };
    if (dryRun || change === "unchanged") return result;
    write(store, masterKey, spec, source);
    return result;
  };
  return dryRun ? run() : store.sqlite.transaction(run).immediate();
}

function readSource(store: Store, name: string): string | undefined {
  return store.db.select({ source: accounts.source }).from(accounts).where(eq(accounts.name, name)).get()?.source;
}

function write(store: Store, masterKey: Buffer, spec: AccountSpec, source: "config" | "api"): void {
  const now = Date.now();
  const settings: Record<string, unknown> = {};
  if (spec.drop_unsupported_params !== undefined) settings.drop_unsupported_params = spec.drop_unsupported_params;
  if (spec.stream_usage !== undefined) settings.stream_usage = spec.stream_usage;
  if (spec.headers !== undefined) settings.headers = spec.headers;
  const row = {
    name: spec.name,
    provider: spec.provider,
    baseUrl: spec.base_url ?? null,
    authEncrypted: encryptJson(masterKey, spec.auth),
    settings,
    managers: spec.access?.managers ?? [],
    users: spec.access?.users ?? [],
    source,
    updatedAt: now,
  };
  store.db
    .insert(accounts)
    .values({ ...row, createdAt: now })
    // an edit through the API keeps where the account came from: one a config file made stays the file's (so an
    // apply still deletes it when the file drops it); a file that lists an account takes it over
    .onConflictDoUpdate({ target: accounts.name, set: source === "config" ? row : { ...row, source: undefined } })
    .run();
  store.db.delete(models).where(eq(models.account, spec.name)).run();
  if (spec.models.length) {
    store.db
      .insert(models)
      .values(
        spec.models.map((m) => ({
          account: spec.name,
          name: m.name,
          modelId: m.model_id ?? m.name,
          types: m.types,
          cost: m.cost ?? null,
          authorizedSubjects: m.authorized_subjects ?? null,
          maxOutputTokens: m.max_output_tokens ?? null,
        })),
      )
      .run();
  }
}

export function deleteAccount(store: Store, name: string): boolean {
  const existed = store.db.select({ name: accounts.name }).from(accounts).where(eq(accounts.name, name)).get();
  if (existed) store.db.delete(accounts).where(eq(accounts.name, name)).run();
  return !!existed;
}
