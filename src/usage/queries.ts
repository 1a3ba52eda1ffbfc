/** Reading the request log back: recent entries and usage totals, for the admin API and the CLI. */
import { and, desc, eq, gte, inArray, sql, type SQL } from "drizzle-orm";
import type { Store } from "../db/client.ts";
import { requestLogs } from "../db/schema.ts";

export interface LogFilter {
  since?: number;
  account?: string;
  model?: string;
  /** restrict to these accounts (account managers) */
  accounts?: string[];
  limit?: number;
}

function where(f: LogFilter): SQL | undefined {
  const c: SQL[] = [];
  if (f.since) c.push(gte(requestLogs.ts, f.since));
  if (f.account) c.push(eq(requestLogs.account, f.account));
  if (f.model) c.push(eq(requestLogs.model, f.model));
  if (f.accounts) c.push(inArray(requestLogs.account, f.accounts.length ? f.accounts : ["\u0000"]));
  return c.length ? and(...c) : undefined;
}

export function queryLogs(store: Store, f: LogFilter) {
  return store.db
    .select()
    .from(requestLogs)
    .where(where(f))
    .orderBy(desc(requestLogs.ts))
    .limit(Math.min(f.limit ?? 100, 1000))
    .all();
}

export const USAGE_GROUPS = ["account", "model", "subject", "day"] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

export function queryUsage(store: Store, by: UsageGroup, f: LogFilter) {
  const key =
    by === "day"
      ? sql<string>`strftime('%Y-%m-%d', ${requestLogs.ts} / 1000, 'unixepoch')`
      : by === "model"
        ? sql<string>`coalesce(${requestLogs.account}, '') || '/' || coalesce(${requestLogs.model}, '')`
        : by === "account"
          ? sql<string>`coalesce(${requestLogs.account}, '')`
          : sql<string>`coalesce(${requestLogs.subject}, '')`;
  return store.db
    .select({
      key: key.as("key"),
      requests: sql<number>`count(*)`,
      errors: sql<number>`sum(case when ${requestLogs.status} >= 400 then 1 else 0 end)`,
      prompt_tokens: sql<number>`coalesce(sum(${requestLogs.promptTokens}), 0)`,
      completion_tokens: sql<number>`coalesce(sum(${requestLogs.completionTokens}), 0)`,
      cached_tokens: sql<number>`coalesce(sum(${requestLogs.cachedTokens}), 0)`,
      cost_usd: sql<number>`coalesce(sum(${requestLogs.costUsd}), 0)`,
      avg_latency_ms: sql<number>`avg(${requestLogs.latencyMs})`,
    })
    .from(requestLogs)
    .where(where(f))
    .groupBy(sql`key`)
    .orderBy(sql`key`)
    .all();
}
