import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../src/db/client.ts";
import { startWalCheckpointer } from "../../src/db/wal-checkpointer.ts";
import { LogWriter } from "../../src/usage/log-writer.ts";

test("with the checkpoint thread, the serving connection never checkpoints and the WAL still reaches the database file", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sb-wal-"));
  const file = join(dir, "switchboard.db");
  const store = openStore(file);
  const cp = startWalCheckpointer(store, file, 20);
  try {
    expect((store.sqlite.query("PRAGMA wal_autocheckpoint").get() as { wal_autocheckpoint: number }).wal_autocheckpoint).toBe(0);
    const before = statSync(file).size;
    const logs = new LogWriter(store, { flushMs: 60_000 });
    // ~2 MB of rows: far past what the serving connection would have checkpointed itself (1000 pages)
    for (let i = 0; i < 5000; i++) {
      logs.row(`req_${i}`, 1_700_000_000_000 + i, "key_a", "user:a@example.com", "acct", "m", "chat/completions", "POST", 200, false, 1, null, null, null, null, null, "x".repeat(300));
    }
    expect(logs.flush()).toBe(5000);
    // the pages are in the WAL until the checkpoint thread copies them into the database file
    for (let i = 0; i < 200 && statSync(file).size <= before + 1_000_000; i++) await Bun.sleep(20);
    expect(statSync(file).size).toBeGreaterThan(before + 1_000_000);
    expect((store.sqlite.query("select count(*) as n from request_logs").get() as { n: number }).n).toBe(5000);
  } finally {
    await cp.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
