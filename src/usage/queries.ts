/**
 * Reading the request log back: recent entries and usage totals, for the admin API and the CLI.
 *
 * The log can hold millions of rows and the server answers these queries on the thread that serves inference, so
 * neither is one long statement: both walk the table in windows of its rowid (`seq`, which grows as rows are
 * written, as `ts` does) and give the event loop back between windows. A query over millions of rows then takes a
 * little longer than one statement would, and no request waits behind it for more than a window's worth (~10 ms).
 */
import { and, desc, eq, gte, inArray, lt, or, sql, type SQL } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { requestLogs } from "../db/schema.ts";

export interface LogFilter {
  since?: number;
  /** only entries before this time */
  until?: number;
  account?: string;
  model?: string;
  /** restrict to these accounts (account managers) */
  accounts?: string[];
}

export interface LogPage {
  /** at most this many entries, newest first */
  limit?: number;
  /** only entries older than this cursor (the `next_before` of the page before) */
  before?: number;
}

/** rows a window spans */
const WINDOW = 20_000;
export const MAX_LIMIT = 1000;

/** A page size as given (`limit=50`): a whole number from 1 to 1000, else why not. */
export function parseLimit(v: string | number | undefined, fallback: number): number | string {
  if (v === undefined || v === "") return fallback;
  const n = typeof v === "number" ? v : /^\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) return `must be a whole number from 1 to ${MAX_LIMIT}`;
  return n;
}

/** A cursor as given (`before=12345`): a positive whole number, else undefined for none and NaN for a bad one. */
export function parseCursor(v: string | undefined): number | undefined {
  if (v === undefined || v === "") return undefined;
  return /^\d+$/.test(v.trim()) ? Number(v) : NaN;
}

function where(f: LogFilter, from: number, to: number): SQL {
  const c: SQL[] = [gte(requestLogs.seq, from), lt(requestLogs.seq, to)];
  if (f.since) c.push(gte(requestLogs.ts, f.since));
  if (f.until) c.push(lt(requestLogs.ts, f.until));
  if (f.account) c.push(eq(requestLogs.account, f.account));
  if (f.model) {
    // a bare model name, or `account/model` as the gateway's ids are written (and as usage --by model shows them)
    const slash = f.model.indexOf("/");
    const byId = slash > 0 && !f.account ? and(eq(requestLogs.account, f.model.slice(0, slash)), eq(requestLogs.model, f.model.slice(slash + 1))) : undefined;
    c.push(byId ? or(eq(requestLogs.model, f.model), byId)! : eq(requestLogs.model, f.model));
  }
  if (f.accounts) c.push(inArray(requestLogs.account, f.accounts.length ? f.accounts : ["\u0000"]));
  return and(...c)!;
}

const yieldToRequests = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The seq range the filter's time bounds allow: [first, end). */
function seqRange(store: Store, f: LogFilter): { first: number; end: number } {
  const q = (text: string, ...args: number[]) => (store.sqlite.query(text).get(...args) as { s: number | null } | null)?.s ?? null;
  const max = q("select max(seq) as s from request_logs");
  if (max === null) return { first: 0, end: 0 };
  // the first entry at or after `since`, found through the ts index; a window's worth earlier in case the order of
  // ts and seq differs a little there (a write retried after a failure)
  const atSince = f.since ? q("select seq as s from request_logs where ts >= ? order by ts limit 1", f.since) : null;
  const first = f.since ? (atSince === null ? max + 1 : Math.max(0, atSince - WINDOW)) : 0;
  return { first, end: max + 1 };
}

/** The newest entries the filter selects, a page at a time; `next_before` reads the page after, while there is one. */
export async function queryLogs(store: Store, f: LogFilter, page: LogPage = {}) {
  const limit = Math.min(page.limit ?? 100, MAX_LIMIT);
  const { first, end: last } = seqRange(store, f);
  let end = page.before !== undefined ? Math.min(page.before, last) : last;
  const rows: (typeof requestLogs.$inferSelect)[] = [];
  while (end > first && rows.length <= limit) {
    const from = Math.max(first, end - WINDOW);
    const got = store.db
      .select()
      .from(requestLogs)
      .where(where(f, from, end))
      .orderBy(desc(requestLogs.seq))
      .limit(limit + 1 - rows.length)
      .all();
    rows.push(...got);
    end = from;
    if (end > first && rows.length <= limit) await yieldToRequests();
  }
  const more = rows.length > limit;
  if (more) rows.length = limit;
  return { data: rows, has_more: more, next_before: more ? rows[rows.length - 1]!.seq : null };
}

export const USAGE_GROUPS = ["account", "model", "subject", "day"] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export interface UsageRow {
  key: string;
  requests: number;
  errors: number;
  prompt_tokens: number;
  completion_tokens: number;
  cached_tokens: number;
  cache_write_tokens: number;
  reasoning_tokens: number;
  cost_usd: number;
  /** requests whose cost is not known (a model with no price, a successful answer that reported no usage):
   *  cost_usd leaves them out */
  unpriced: number;
  avg_latency_ms: number;
}

/** Totals per group (`day`: the UTC date), summed window by window. */
export async function queryUsage(store: Store, by: UsageGroup, f: LogFilter): Promise<UsageRow[]> {
  const key =
    by === "day"
      ? sql<string>`strftime('%Y-%m-%d', ${requestLogs.ts} / 1000, 'unixepoch')`
      : by === "model"
        ? sql<string>`case when ${requestLogs.account} is null then coalesce(${requestLogs.model}, '') else ${requestLogs.account} || '/' || coalesce(${requestLogs.model}, '*') end`
        : by === "account"
          ? sql<string>`coalesce(${requestLogs.account}, '')`
          : sql<string>`coalesce(${requestLogs.subject}, '')`;
  const totals = new Map<string, UsageRow & { latency: number }>();
  const { first, end } = seqRange(store, f);
  for (let from = first; from < end; from += WINDOW) {
    const part = store.db
      .select({
        key: key.as("key"),
        requests: sql<number>`count(*)`,
        errors: sql<number>`sum(case when ${requestLogs.status} >= 400 then 1 else 0 end)`,
        prompt_tokens: sql<number>`coalesce(sum(${requestLogs.promptTokens}), 0)`,
        completion_tokens: sql<number>`coalesce(sum(${requestLogs.completionTokens}), 0)`,
        cached_tokens: sql<number>`coalesce(sum(${requestLogs.cachedTokens}), 0)`,
        cache_write_tokens: sql<number>`coalesce(sum(${requestLogs.cacheWriteTokens}), 0)`,
        reasoning_tokens: sql<number>`coalesce(sum(${requestLogs.reasoningTokens}), 0)`,
        cost_usd: sql<number>`coalesce(sum(${requestLogs.costUsd}), 0)`,
        unpriced: sql<number>`sum(case when ${requestLogs.costUsd} is null and (${requestLogs.promptTokens} is not null or ${requestLogs.status} between 200 and 299) then 1 else 0 end)`,
        latency: sql<number>`coalesce(sum(${requestLogs.latencyMs}), 0)`,
      })
      .from(requestLogs)
      .where(where(f, from, Math.min(end, from + WINDOW)))
      .groupBy(sql`key`)
      .all();
    for (const p of part) {
      const t = totals.get(p.key);
      if (t === undefined) totals.set(p.key, { ...p, avg_latency_ms: 0 });
      else {
        t.requests += p.requests;
        t.errors += p.errors;
        t.prompt_tokens += p.prompt_tokens;
        t.completion_tokens += p.completion_tokens;
        t.cached_tokens += p.cached_tokens;
        t.cache_write_tokens += p.cache_write_tokens;
        t.reasoning_tokens += p.reasoning_tokens;
        t.cost_usd += p.cost_usd;
        t.unpriced += p.unpriced;
        t.latency += p.latency;
      }
    }
    if (from + WINDOW < end) await yieldToRequests();
  }
  return [...totals.values()]
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    .map(({ latency, ...row }) => ({ ...row, avg_latency_ms: row.requests ? latency / row.requests : 0 }));
}
