import { describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "../../src/db/client.ts";
import { createKey } from "../../src/db/keys-repo.ts";
import { embeddedMigrations } from "../../src/db/migrations.gen.ts";
import { LogWriter } from "../../src/usage/log-writer.ts";

const schemaOf = (db: Database) =>
  db.query("select type, name, sql from sqlite_master where name not like 'sqlite_%' order by name").all();

describe("embedded migrations", () => {
  test("same schema and hashes as drizzle-kit's migrator reading drizzle/", () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-mig-"));
    try {
      const ours = openStore(join(dir, "a.db"));
      const ref = new Database(join(dir, "b.db"));
      migrate(drizzle(ref), { migrationsFolder: join(import.meta.dir, "../../drizzle") });
      expect(schemaOf(ours.sqlite)).toEqual(schemaOf(ref));
      const hashes = (db: Database) => db.query("select hash, created_at from __drizzle_migrations order by id").all();
      expect(hashes(ours.sqlite)).toEqual(hashes(ref));
      expect(hashes(ref).length).toBeGreaterThan(0);
      ours.close();
      ref.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("reopening a data dir keeps every row and applies nothing twice", () => {
    const dir = mkdtempSync(join(tmpdir(), "sb-mig-"));
    try {
      const file = join(dir, "switchboard.db");
      const a = openStore(file);
      const { info } = createKey(a, { name: "k", subject: "user:a@example.com" });
      const logs = new LogWriter(a);
      const usage = (i: number) => ({ promptTokens: i, completionTokens: 0, cachedTokens: 0, cacheWriteTokens: 0, cacheWrite1hTokens: 0, reasoningTokens: 0 });
      for (let i = 0; i < 70; i++) {
        logs.row(`req_${i}`, Date.now(), null, null, null, null, "chat/completions", "POST", 200, false, 1, null, usage(i), null, { i: String(i) }, null, null);
      }
      expect(logs.flush()).toBe(70);
      const applied = a.sqlite.query("select count(*) as n from __drizzle_migrations").get() as { n: number };
      expect(a.migrations).toEqual({ applied: embeddedMigrations.length, total: embeddedMigrations.length, created: true });
      a.close();

      const b = openStore(file);
      expect(b.migrations).toEqual({ applied: 0, total: embeddedMigrations.length, created: false });
      expect((b.sqlite.query("select count(*) as n from __drizzle_migrations").get() as { n: number }).n).toBe(applied.n);
      expect((b.sqlite.query("select id from api_keys").get() as any).id).toBe(info.id);
      const rows = b.sqlite.query("select id, prompt_tokens, metadata, stream, method from request_logs order by seq").all() as any[];
      expect(rows.length).toBe(70);
      expect(rows[69]).toEqual({ id: "req_69", prompt_tokens: 69, metadata: '{"i":"69"}', stream: 0, method: "POST" });
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
