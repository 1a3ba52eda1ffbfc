import { describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../src/db/client.ts";
import { LogWriter } from "../../src/usage/log-writer.ts";
import { Database } from "bun:sqlite";

describe("request log writer", () => {
  test("rows queued over several flushes (pages reused) are written exactly, in order, nulls and all", () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-logw-"));
    const store = openStore(join(dir, "switchboard.db"));
    try {
      const logs = new LogWriter(store, { flushMs: 60_000 });
      const expected: any[] = [];
      let n = 0;
      // 3 flushes of 75 rows: two full pages of 32 and a partial one each time, so written pages come back refilled
      for (let round = 0; round < 3; round++) {
        for (let i = 0; i < 75; i++, n++) {
          const withUsage = n % 3 !== 0;
          logs.row(
            `req_${n}`,
            1_700_000_000_000 + n,
            n % 2 ? "key_a" : null,
            "user:a@example.com",
            "acct",
            `m${n % 5}`,
            "chat/completions",
            n % 7 ? "POST" : "GET",
            n % 11 ? 200 : 502,
            n % 4 === 0,
            n + 0.5,
            n % 4 === 0 ? n / 10 : null,
            withUsage ? { promptTokens: n, completionTokens: n + 1, cachedTokens: n % 2, cacheWriteTokens: 0, cacheWrite1hTokens: 0, reasoningTokens: n % 3 } : null,
            withUsage ? n / 1e6 : null,
            n % 10 === 0 ? { n: String(n) } : null,
            n % 13 === 0 ? "a note" : null,
            n % 11 ? null : "upstream failed",
          );
          expected.push({
            id: `req_${n}`,
            ts: 1_700_000_000_000 + n,
            key_id: n % 2 ? "key_a" : null,
            model: `m${n % 5}`,
            method: n % 7 ? "POST" : "GET",
            status: n % 11 ? 200 : 502,
            stream: n % 4 === 0 ? 1 : 0,
            latency_ms: n + 0.5,
            ttft_ms: n % 4 === 0 ? n / 10 : null,
            prompt_tokens: withUsage ? n : null,
            completion_tokens: withUsage ? n + 1 : null,
            cached_tokens: withUsage ? n % 2 : null,
            reasoning_tokens: withUsage ? n % 3 : null,
            cost_usd: withUsage ? n / 1e6 : null,
            metadata: n % 10 === 0 ? JSON.stringify({ n: String(n) }) : null,
            notes: n % 13 === 0 ? "a note" : null,
            error: n % 11 ? null : "upstream failed",
          });
        }
        expect(logs.pending).toBe(75);
        expect(logs.flush()).toBe(75);
        expect(logs.pending).toBe(0);
      }
      const rows = store.sqlite
        .query(
          "select id, ts, key_id, model, method, status, stream, latency_ms, ttft_ms, prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, cost_usd, metadata, notes, error from request_logs order by seq",
        )
        .all();
      expect(rows).toEqual(expected);
      expect(logs.written).toBe(225);
    } finally {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("request log writer: failed writes", () => {
  test("rows of a write that fails wait for the next flush, and are written then, in order", () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-logw-"));
    const store = openStore(join(dir, "switchboard.db"));
    const errors: string[] = [];
    const error = console.error;
    console.error = (...a: unknown[]) => void errors.push(a.map(String).join(" "));
    try {
      const logs = new LogWriter(store, { flushMs: 60_000 });
      const row = (i: number) =>
        logs.row(`req_${i}`, 1_700_000_000_000 + i, "key_a", "user:a@example.com", "acct", "m", "chat/completions", "POST", 200, false, 1, null, null, null, null, null, null);
      for (let i = 0; i < 40; i++) row(i); // a full page and a partial one
      // the database refuses writes (as a full disk or a lock held too long would)
      store.sqlite.exec("PRAGMA query_only = 1");
      expect(logs.flush()).toBe(0);
      expect(logs.pending).toBe(40);
      for (let i = 40; i < 50; i++) row(i); // more arrive while it fails
      expect(logs.flush()).toBe(0);
      expect(logs.pending).toBe(50);
      expect(errors.filter((e) => e.includes("request log write failed"))).toHaveLength(1); // said once, not per try
      // writes work again: everything is written, once, in order
      store.sqlite.exec("PRAGMA query_only = 0");
      expect(logs.flush()).toBe(50);
      expect(logs.pending).toBe(0);
      const ids = (store.sqlite.query("select id from request_logs order by seq").all() as { id: string }[]).map((r) => r.id);
      expect(ids).toEqual(Array.from({ length: 50 }, (_, i) => `req_${i}`));
      expect(errors.some((e) => e.includes("work again"))).toBe(true);
      expect(logs.dropped).toBe(0);
      logs.flush();
    } finally {
      console.error = error;
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  // timeout: a flush that waited out the connection's busy_timeout (5 s) would hold the serving thread that long
  test("a flush that finds another process holding the write lock gives up at once, keeps its rows, and writes them once the lock is gone", () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-logw-"));
    const file = join(dir, "switchboard.db");
    const store = openStore(file);
    const other = new Database(file);
    const error = console.error;
    console.error = () => {};
    try {
      const logs = new LogWriter(store, { flushMs: 60_000 });
      for (let i = 0; i < 3; i++) logs.row(`req_${i}`, 1_700_000_000_000 + i, null, null, "acct", "m", "chat/completions", "POST", 200, false, 1, null, null, null, null, null, null);
      // a CLI `apply`, a sqlite3 shell or a backup holds the write lock
      other.exec("BEGIN IMMEDIATE");
      expect(logs.flush()).toBe(0);
      expect(logs.pending).toBe(3);
      other.exec("COMMIT");
      expect(logs.flush()).toBe(3);
      expect((store.sqlite.query("select count(*) as n from request_logs").get() as { n: number }).n).toBe(3);
      // the connection's own busy timeout is what it was (other writes, such as the admin API's, still wait for a lock)
      expect((store.sqlite.query("PRAGMA busy_timeout").get() as { timeout: number }).timeout).toBe(5000);
    } finally {
      console.error = error;
      other.close();
      store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 2000);
});
