/** The CLI's commands other than serve: apply, accounts, keys, logs, usage, migrate. Each prints plain text. */
import { applyConfig, formatApply } from "../config/apply.ts";
import { loadConfigFile } from "../config/load-config.ts";
import { testAccount } from "../core/test-account.ts";
import { deleteAccount, listAccountSummaries, readAccount, redactSpec } from "../db/accounts-repo.ts";
import { normalSubject } from "../core/access.ts";
import { createKey, LastAdminKeyError, listKeys, revokeKey } from "../db/keys-repo.ts";
import { openGateway } from "../boot.ts";
import { parseExpiry, parseWhen } from "../core/when.ts";
import { SUBJECT, TEAM_NAME } from "../config/account-spec.ts";
import { parseCursor, parseLimit, queryLogs, queryUsage, USAGE_GROUPS, type UsageGroup } from "../usage/queries.ts";
import { stringify } from "yaml";

type Gw = ReturnType<typeof openGateway>;

export class CliError extends Error {}

function when(v: string | undefined, what: string, direction: "past" | "future" = "past"): number | undefined {
  const n = parseWhen(v, direction);
  if (n === null) throw new CliError(`${what}: expected a date, epoch ms or a duration like 24h, got '${v}'`);
  return n;
}

/** Text with its control characters (C0, DEL, C1, bidi overrides) written as escapes: `\n`, `\x1b`, `\u202e`. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    c === "\n" ? "\\n" : c === "\r" ? "\\r" : c === "\t" ? "\\t" : c.charCodeAt(0) > 0xff ? `\\u${c.charCodeAt(0).toString(16)}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

function table(rows: Record<string, unknown>[], cols: string[]): string {
  if (!rows.length) return "(none)";
  // values come from clients (a model string, metadata): control characters shown escaped, so that none moves the
  // cursor, colours the terminal or forges a row
  const cell = (v: unknown) => (v == null ? "" : typeof v === "number" && !Number.isInteger(v) ? v.toFixed(6) : printable(String(v)));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(cols), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join("\n");
}

export async function cmdApply(gw: Gw, file: string, dryRun: boolean): Promise<string> {
  const config = await loadConfigFile(file);
  return formatApply(applyConfig(gw, config, dryRun), dryRun);
}

/** A missing NAME or ID is a usage error (exit 2), not a lookup of ''. */
function required(v: string | undefined, command: string, what: string, usage: string): string {
  if (!v) throw new CliError(`${command} needs ${what} (usage: switchboard ${command} ${usage})`);
  return v;
}

export async function cmdAccounts(gw: Gw, sub: string | undefined, arg: string | undefined): Promise<{ out: string; code: number }> {
  const name = () => required(arg, `accounts ${sub}`, "an account name", "NAME");
  switch (sub) {
    case "list":
    case undefined: {
      // read without decrypting a credential: listing works without the master key
      const rows = listAccountSummaries(gw.store).map((a) => ({ name: a.name, provider: a.provider, models: a.models.join(","), source: a.source }));
      return { out: table(rows, ["name", "provider", "models", "source"]), code: 0 };
    }
    case "show": {
      const spec = readAccount(gw.store, gw.masterKey, name());
      if (!spec) throw new CliError(`unknown account '${arg}'`);
      return { out: stringify(redactSpec(spec)).trimEnd(), code: 0 };
    }
    case "test": {
      const account = gw.registry.accounts.get(name());
      if (!account) throw new CliError(`unknown account '${arg}'`);
      const report = await testAccount(account);
      const rows = report.results.map((r) => ({ model: r.model, result: r.skipped ? "skipped" : r.ok ? "ok" : "error", ms: r.latency_ms, detail: r.error ?? r.detail ?? "" }));
      const check = report.credential_check;
      if (check) rows.push({ model: `(credential: ${check.call})`, result: check.ok ? "ok" : "error", ms: check.latency_ms, detail: check.error ?? "" });
      const out = [table(rows, ["model", "result", "ms", "detail"]), ...(report.message ? [printable(report.message)] : [])].join("\n");
      // non-zero unless something was tried and worked: a run that tried nothing is no proof the credential works
      return { out, code: report.ok ? 0 : 1 };
    }
    case "delete": {
      if (!deleteAccount(gw.store, name())) throw new CliError(`unknown account '${arg}'`);
      return { out: `deleted account ${arg}`, code: 0 };
    }
    default:
      throw new CliError(`unknown accounts command '${sub}' (list, show NAME, test NAME, delete NAME)`);
  }
}

export function cmdKeysCreate(gw: Gw, o: { name?: string; subject?: string; role?: string; teams?: string; expires?: string }): string {
  if (!o.name) throw new CliError("keys create needs --name");
  if (!o.subject || !new RegExp(SUBJECT).test(o.subject)) {
    throw new CliError(
      `keys create needs --subject user:<email> | team:<name> | virtualaccount:<name> (names: lower case, digits, . _ -)${o.subject ? `, got '${o.subject}'` : ""}`,
    );
  }
  if (o.role && o.role !== "admin" && o.role !== "user") throw new CliError("--role must be admin or user");
  const teams = o.teams ? o.teams.split(",").map((s) => s.trim()).filter(Boolean) : [];
  const badTeam = teams.find((t) => !new RegExp(TEAM_NAME).test(t));
  if (badTeam !== undefined) throw new CliError(`--teams: '${badTeam}' is not a team name (lower case, digits, . _ -)`);
  const expiresAt = parseExpiry(o.expires);
  if (typeof expiresAt === "string") throw new CliError(`--expires: ${expiresAt}`);
  const { key, info } = createKey(gw.store, {
    name: o.name,
    subject: normalSubject(o.subject),
    role: (o.role as "admin" | "user") ?? "user",
    teams,
    expiresAt: expiresAt ?? null,
  });
  return [`created key ${info.id} for ${info.subject}${info.role === "admin" ? " (admin)" : ""}`, `key (shown once): ${key}`].join("\n");
}

export function cmdKeysList(gw: Gw): string {
  const rows = listKeys(gw.store).map((k) => ({
    id: k.id,
    name: k.name,
    subject: k.subject,
    role: k.role,
    teams: k.teams.join(","),
    prefix: k.prefix + "…",
    expires: k.expiresAt ? new Date(k.expiresAt).toISOString() : "",
    revoked: k.revokedAt ? new Date(k.revokedAt).toISOString() : "",
  }));
  return table(rows, ["id", "name", "subject", "role", "teams", "prefix", "expires", "revoked"]);
}

export function cmdKeysRevoke(gw: Gw, id: string | undefined): string {
  let k;
  try {
    k = revokeKey(gw.store, required(id, "keys revoke", "a key id", "ID"));
  } catch (e) {
    if (e instanceof LastAdminKeyError) throw new CliError(e.message);
    throw e;
  }
  if (!k) throw new CliError(`unknown key '${id}'`);
  return `revoked key ${k.id} (${k.subject})`;
}

export async function cmdLogs(gw: Gw, o: { since?: string; account?: string; model?: string; limit?: string; before?: string }): Promise<string> {
  const limit = parseLimit(o.limit, 50);
  if (typeof limit === "string") throw new CliError(`--limit ${limit}, got '${o.limit}'`);
  const before = parseCursor(o.before);
  if (Number.isNaN(before)) throw new CliError(`--before takes the number a page ends with ('more: --before N'), got '${o.before}'`);
  const page = await queryLogs(gw.store, { since: when(o.since, "--since"), account: o.account, model: o.model }, { limit, before });
  const rows = page.data.map((r) => ({
    time: new Date(r.ts).toISOString(),
    subject: r.subject,
    model: r.account ? `${r.account}/${r.model ?? "*"}` : (r.model ?? ""),
    endpoint: r.endpoint,
    status: r.status,
    ms: Math.round(r.latencyMs),
    in: r.promptTokens,
    out: r.completionTokens,
    cost: r.costUsd,
    error: r.error ?? "",
  }));
  const out = table(rows, ["time", "subject", "model", "endpoint", "status", "ms", "in", "out", "cost", "error"]);
  return page.has_more ? `${out}\n(more: --before ${page.next_before})` : out;
}

export async function cmdUsage(gw: Gw, o: { by?: string; since?: string; account?: string; model?: string }): Promise<string> {
  const by = (o.by ?? "account") as UsageGroup;
  if (!USAGE_GROUPS.includes(by)) throw new CliError(`--by must be one of ${USAGE_GROUPS.join(", ")}`);
  const rows = await queryUsage(gw.store, by, { since: when(o.since, "--since"), account: o.account, model: o.model });
  return table(rows as any, ["key", "requests", "errors", "prompt_tokens", "completion_tokens", "cached_tokens", "cache_write_tokens", "reasoning_tokens", "cost_usd", "unpriced"]);
}

/** Opening the gateway has migrated the database already; this says what that did. */
export function cmdMigrate(gw: Gw, dataDir: string): string {
  const m = gw.store.migrations;
  const file = `${dataDir}/switchboard.db`;
  const n = (k: number) => `${k} migration${k === 1 ? "" : "s"}`;
  if (m.created) return `created the database at ${file}: applied ${n(m.applied)}`;
  if (m.applied) return `upgraded the database at ${file}: applied ${n(m.applied)} (${n(m.total)} in all)`;
  return `database at ${file} is up to date (${n(m.total)} applied)`;
}
