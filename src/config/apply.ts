/**
 * Declarative, idempotent apply of a gateway config: accounts in the file are created or updated (one the admin API
 * made is taken over: the file owns it from then on, and the plan says so); accounts the file owns and no longer
 * lists are deleted; accounts made through the API that the file does not list are left alone.
 */
import type { Gateway } from "../core/gateway.ts";
import { deleteAccount, readAllAccounts, saveAccount, type Change } from "../db/accounts-repo.ts";
import { formatAccountDiff, type AccountDiff } from "./account-diff.ts";
import type { GatewayConfig } from "./account-spec.ts";

export interface ApplyResult {
  /** `diff` says what an update changes; `takenOver`: the account was the admin API's and is now the file's */
  changes: { account: string; change: Change | "deleted"; diff?: AccountDiff; takenOver?: boolean }[];
  changed: boolean;
}

export function applyConfig(gw: Pick<Gateway, "store" | "masterKey">, config: GatewayConfig, dryRun = false): ApplyResult {
  const changes: ApplyResult["changes"] = [];
  const run = () => {
    for (const spec of config.accounts) {
      const { change, diff, takenOver } = saveAccount(gw.store, gw.masterKey, spec, "config", dryRun);
      changes.push(change === "updated" ? { account: spec.name, change, diff, ...(takenOver && { takenOver }) } : { account: spec.name, change });
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
 * `~ account e: taken over from the API, base_url`, `- account c deleted`, `= account d unchanged`; then what
 * happened. Names fields, never their values.
 */
export function formatApply(r: ApplyResult, dryRun: boolean): string {
  const sign = { created: "+", updated: "~", deleted: "-", unchanged: "=" } as const;
  const lines = r.changes.map((c) => {
    if (c.change !== "updated" || !c.diff) return `${sign[c.change]} account ${c.account} ${c.change}`;
    const what = [c.takenOver ? "taken over from the API" : "", formatAccountDiff(c.diff)].filter(Boolean).join(", ");
    return `~ account ${c.account}: ${what}`;
  });
  if (!lines.length) lines.push("no accounts in config");
  lines.push(dryRun ? "(dry run: nothing was written)" : r.changed ? "applied" : "no changes");
  return lines.join("\n");
}
