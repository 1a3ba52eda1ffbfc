/**
 * The in-memory view of accounts, models and keys that the hot path reads. Rebuilt from SQLite when this process
 * changes something (reload()) or when another process commits (PRAGMA data_version, polled).
 */
import type { Store } from "../db/client.ts";
import { readAllAccounts } from "../db/accounts-repo.ts";
import { apiKeys, type ApiKeyRow } from "../db/schema.ts";
import { normalSubject } from "./access.ts";
import { rememberCredentials, secretHeaders } from "./credential-scrub.ts";
import type { AccountRecord, ModelRecord } from "../providers/types.ts";

export class Registry {
  accounts = new Map<string, AccountRecord>();
  keysByHash = new Map<string, ApiKeyRow>();
  private version = -1;
  private timer?: ReturnType<typeof setInterval>;

  constructor(
    private store: Store,
    private masterKey: Buffer,
  ) {
    this.reload();
  }

  reload(): void {
    // accounts and keys read in one transaction: one snapshot, never half of another process's commit
    this.store.sqlite.transaction(() => this.readAll())();
  }

  private readAll(): void {
    this.version = this.store.dataVersion();
    const next = new Map<string, AccountRecord>();
    for (const { spec } of readAllAccounts(this.store, this.masterKey)) {
      // an extra header whose name says it carries a secret (x-api-token, x-auth-key …) is a credential too; the
      // others (a beta flag, a team name) are not, and cutting them out of answers would change what the model said
      rememberCredentials(spec.name, spec.headers ? { ...secretHeaders(spec.headers), ...spec.auth } : spec.auth);
      const models = new Map<string, ModelRecord>();
      for (const m of spec.models) {
        models.set(m.name, {
          account: spec.name,
          name: m.name,
          modelId: m.model_id ?? m.name,
          types: m.types,
          cost: m.cost,
          authorizedSubjects: m.authorized_subjects?.map(normalSubject),
          maxOutputTokens: m.max_output_tokens,
        });
      }
      next.set(spec.name, {
        name: spec.name,
        provider: spec.provider,
        baseUrl: spec.base_url,
        auth: spec.auth,
        settings: {
          drop_unsupported_params: spec.drop_unsupported_params,
          stream_usage: spec.stream_usage,
          headers: spec.headers,
        },
        // (lists stored before emails were kept in lower case still match: core/access.ts)
        access: { managers: (spec.access?.managers ?? []).map(normalSubject), users: (spec.access?.users ?? []).map(normalSubject) },
        models,
      });
    }
    const keys = new Map<string, ApiKeyRow>();
    for (const k of this.store.db.select().from(apiKeys).all()) keys.set(k.hash, k);
    this.accounts = next;
    this.keysByHash = keys;
  }

  /** Reloads when another connection has committed since the last look. */
  refreshIfChanged(): boolean {
    if (this.store.dataVersion() === this.version) return false;
    this.reload();
    return true;
  }

  watch(intervalMs = 250): void {
    this.timer ??= setInterval(() => {
      try {
        this.refreshIfChanged();
      } catch (e) {
        console.error("registry refresh failed:", (e as Error).message);
      }
    }, intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
