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
  /** what opening did to the schema: migrations applied now, and how many the database has in all */
  migrations: MigrationReport;
  /** SQLite's data_version: changes when another connection commits */
  dataVersion(): number;
  close(): void;
}

export interface MigrationReport {
  /** applied by this open (all of them for a new database) */
  applied: number;
  /** applied in all, now */
  total: number;
  /** no migration had been applied before: the database was new (or empty) */
  created: boolean;
}

export function openStore(file: string): Store {
  const sqlite = new Database(file, { create: true });
  sqlite.exec("PRAGMA journal_mode = WAL");
  sqlite.exec("PRAGMA synchronous = NORMAL");
  sqlite.exec("PRAGMA busy_timeout = 5000");
  sqlite.exec("PRAGMA foreign_keys = ON");
  const db = drizzle(sqlite, { schema });
  const migrations = applyMigrations(db, sqlite);
  const dv = sqlite.prepare("PRAGMA data_version");
  return {
    db,
    sqlite,
    migrations,
    dataVersion: () => (dv.get() as { data_version: number }).data_version,
    close: () => sqlite.close(),
  };
}

/** Same result as `drizzle-kit migrate`: the same statements and the same hashes in __drizzle_migrations. */
export function applyMigrations(db: DB, sqlite: Database): MigrationReport {
  const before = appliedCount(sqlite);
  const migrations = embeddedMigrations.map((m) => ({
    sql: m.sql.split("--> statement-breakpoint"),
    bps: m.breakpoints,
    folderMillis: m.when,
    hash: createHash("sha256").update(m.sql).digest("hex"),
  }));
  (db as any).dialect.migrate(migrations, (db as any).session, {});
  const total = appliedCount(sqlite);
  return { applied: total - before, total, created: before === 0 };
}

/** Rows in drizzle's journal (0 when the table is not there yet). */
function appliedCount(sqlite: Database): number {
  const table = sqlite.query("select 1 from sqlite_master where type = 'table' and name = '__drizzle_migrations'").get();
  return table ? (sqlite.query("select count(*) as n from __drizzle_migrations").get() as { n: number }).n : 0;
}
