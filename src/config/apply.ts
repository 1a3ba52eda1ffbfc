/**
 * Declarative, idempotent apply of a gateway config: accounts in the file are created or updated; accounts that an
 * earlier apply created and that are gone from the file are deleted; accounts made through the API are left alone.
 */
import type { Gateway } from "../core/gateway.ts";
import { deleteAccount, readAllAccounts, saveAccount, type Change } from "../db/accounts-repo.ts";
import { formatAccountDiff, type AccountDiff } from "./account-diff.ts";
import type { GatewayConfig } from "./account-spec.ts";

export interface ApplyResult {
  /** `diff` says what an update changes */
  changes: { account: string; change: Change | "deleted"; diff?: AccountDiff }[];
  changed: boolean;
}

export function applyConfig(gw: Pick<Gateway, "store" | "masterKey">, config: GatewayConfig, dryRun = false): ApplyResult {
  const changes: ApplyResult["changes"] = [];
  const run = () => {
    for (const spec of config.accounts) {
      const { change, diff } = saveAccount(gw.store, gw.masterKey, spec, "config", dryRun);
      changes.push(change === "updated" ? { account: spec.name, change, diff } : { account: spec.name, change });
    }
    const inFile = new Set(config.accounts.map((a) => a.name));
    for (const { spec, source } of readAllAccounts(gw.store, gw.masterKey)) {
      if (source === "config" && !inFile.has(spec.name)) {
        if (!dryRun) deleteAccount(gw.store, spec.name);
        changes.push({ account: spec.name, change: "deleted" });
      }
    }
  };
  if (dryRun) run();
  // immediate: the write lock is taken (waiting out busy_timeout) before anything is read. A deferred transaction
  // that reads and then writes fails at once with "database is locked" when a running server committed in between
  else gw.store.db.transaction(() => run(), { behavior: "immediate" });
  return { changes, changed: changes.some((c) => c.change !== "unchanged") };
}

/**
 * One line per account: `+ account a created`, `~ account b: base_url, models (+ m1, ~ m2, - m3), access`,
 * `- account c deleted`, `= account d unchanged`; then what happened. Names fields, never their values.
 */
export function formatApply(r: ApplyResult, dryRun: boolean): string {
  const sign = { created: "+", updated: "~", deleted: "-", unchanged: "=" } as const;
  const lines = r.changes.map((c) =>
    c.change === "updated" && c.diff ? `~ account ${c.account}: ${formatAccountDiff(c.diff)}` : `${sign[c.change]} account ${c.account} ${c.change}`,
  );
  if (!lines.length) lines.push("no accounts in config");
  lines.push(dryRun ? "(dry run: nothing was written)" : r.changed ? "applied" : "no changes");
  return lines.join("\n");
}
