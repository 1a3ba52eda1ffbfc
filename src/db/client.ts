/** Opens the SQLite database (WAL) and applies the embedded migrations with drizzle's migrator. */
import { Database } from "bun:sqlite";
import { drizzle, type BunSQLiteDatabase } from "drizzle-orm/bun-sqlite";
import { createHash } from "node:crypto";
import * as schema from "./schema.ts";
import { embeddedMigrations } from "./migrations.gen.ts";

export type DB = BunSQLiteDatabase<typeof schema>;

export interface Store {
  db: DB;
  sqlite: Database;
  /** SQLite's data_version: changes when another connection commits */
  dataVersion(): number;
  close(): void;
}

export function openStore(file: string): Store {
  const sqlite = new Database(file, { create: true });
  sqlite.exec("PRAGMA journal_mode = WAL");
  sqlite.exec("PRAGMA synchronous = NORMAL");
  sqlite.exec("PRAGMA busy_timeout = 5000");
  sqlite.exec("PRAGMA foreign_keys = ON");
  const db = drizzle(sqlite, { schema });
  applyMigrations(db);
  const dv = sqlite.prepare("PRAGMA data_version");
  return {
    db,
    sqlite,
    dataVersion: () => (dv.get() as { data_version: number }).data_version,
    close: () => sqlite.close(),
  };
}

/** Same result as `drizzle-kit migrate`: the same statements and the same hashes in __drizzle_migrations. */
export function applyMigrations(db: DB): number {
  const migrations = embeddedMigrations.map((m) => ({
    sql: m.sql.split("--> statement-breakpoint"),
    bps: m.breakpoints,
    folderMillis: m.when,
    hash: createHash("sha256").update(m.sql).digest("hex"),
  }));
  (db as any).dialect.migrate(migrations, (db as any).session, {});
  return migrations.length;
}
