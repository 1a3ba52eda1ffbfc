/**
 * Reading the log back at scale: pages that reach every row once, limits checked, usage totals equal to one
 * aggregate over the table, and both queries giving the event loop back while they walk a big table.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openGateway } from "../../src/boot.ts";
import { parseLimit, queryLogs, queryUsage } from "../../src/usage/queries.ts";

const ROWS = 120_000;
const T0 = Date.UTC(2026, 10, 30, 22, 0, 0);
let dir: string;
let gw: ReturnType<typeof openGateway>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-queries-"));
  gw = openGateway({ dataDir: dir });
  // rows a second apart across a UTC midnight; every 7th an error, every 5th of model "free" without a price
  gw.store.sqlite.exec(`
    with recursive n(i) as (select 0 union all select i + 1 from n where i < ${ROWS - 1})
    insert into request_logs (id, ts, key_id, subject, account, model, endpoint, method, status, stream, latency_ms,
                              prompt_tokens, completion_tokens, cost_usd)
    select 'req_' || i, ${T0} + i * 1000, 'key_1', 'user:u' || (i % 3) || '@example.com',
           case when i % 2 = 0 then 'acct-a' else 'acct-b' end,
           case when i % 5 = 0 then 'free' else 'paid' end,
           'chat/completions', 'POST', case when i % 7 = 0 then 500 else 200 end, 0, 10,
           3, 2, case when i % 5 = 0 then null else 0.001 end
    from n`);
});

afterAll(() => {
  gw.store.close();
  rmSync(dir, { recursive: true, force: true });
});

test("pages of the log reach every selected row exactly once, newest first", async () => {
  const seen = new Set<string>();
  let before: number | undefined;
  let pages = 0;
  let lastTs = Infinity;
  const f = { account: "acct-a", since: T0 + 100_000 * 1000 };
  for (;;) {
    const page = await queryLogs(gw.store, f, { limit: 1000, before });
    pages++;
    for (const r of page.data) {
      expect(r.account).toBe("acct-a");
      expect(r.ts).toBeLessThanOrEqual(lastTs);
      lastTs = r.ts;
      seen.add(r.id);
    }
    if (!page.has_more) break;
    before = page.next_before!;
  }
  // rows 100000..119999 of acct-a: the even ones
  expect(seen.size).toBe(10_000);
  expect(pages).toBe(10);
});

test("limits: a whole number from 1 to 1000, anything else refused (not 'all rows')", () => {
  expect(parseLimit(undefined, 50)).toBe(50);
  expect(parseLimit("1000", 50)).toBe(1000);
  for (const bad of ["-1", "abc", "0", "1001", "1.5", "1e3"]) expect(typeof parseLimit(bad, 50)).toBe("string");
});

test("usage totals equal one aggregate over the table, with days in UTC and unpriced requests counted", async () => {
  const byModel = await queryUsage(gw.store, "model", {});
  const expected = gw.store.sqlite
    .query(
      `select account || '/' || model as key, count(*) as requests, sum(status >= 400) as errors, sum(prompt_tokens) as prompt_tokens,
              coalesce(sum(cost_usd), 0) as cost_usd, sum(cost_usd is null) as unpriced
       from request_logs group by key order by key`,
    )
    .all() as any[];
  expect(byModel.map(({ key, requests, errors, prompt_tokens, unpriced }) => ({ key, requests, errors, prompt_tokens, unpriced }))).toEqual(
    expected.map(({ key, requests, errors, prompt_tokens, unpriced }) => ({ key, requests, errors, prompt_tokens, unpriced })),
  );
  for (const [i, row] of byModel.entries()) expect(row.cost_usd).toBeCloseTo(expected[i].cost_usd, 9);
  expect(byModel.find((r) => r.key === "acct-a/free")!.cost_usd).toBe(0);
  expect(byModel.find((r) => r.key === "acct-a/free")!.unpriced).toBe(12_000);
  // 2 hours before midnight UTC, a whole day, then the rest
  const days = await queryUsage(gw.store, "day", {});
  expect(days.map((d) => [d.key, d.requests])).toEqual([
    ["2026-11-30", 7200],
    ["2026-12-01", 86_400],
    ["2026-12-02", ROWS - 7200 - 86_400],
  ]);
  // a model by its id, account/model, as usage by model shows it
  const byId = await queryUsage(gw.store, "model", { model: "acct-a/free" });
  expect(byId.map((r) => [r.key, r.requests])).toEqual([["acct-a/free", 12_000]]);
  const since = await queryUsage(gw.store, "account", { since: T0 + 60_000 * 1000, account: "acct-b" });
  expect(since).toHaveLength(1);
  expect(since[0]!.requests).toBe(30_000);
});

test("a query over a big table gives the event loop back while it runs", async () => {
  let turns = 0;
  let running = true;
  const tick = () => {
    turns++;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  await queryUsage(gw.store, "subject", {});
  const duringUsage = turns;
  await queryLogs(gw.store, { model: "no-such-model" }, { limit: 10 });
  running = false;
  // one turn at least per window walked (120k rows: 6 windows each)
  expect(duringUsage).toBeGreaterThanOrEqual(5);
  expect(turns - duringUsage).toBeGreaterThanOrEqual(5);
});
