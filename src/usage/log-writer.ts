/**
 * Request logs are queued in memory and written in batches (one transaction per flush), off the request path.
 * An entry is encoded into a flat page of bound values as soon as it is queued (no per-entry object is kept), and a
 * full page of 32 rows goes to SQLite as one multi-row INSERT: several times cheaper than as many single ones.
 */
import { getTableColumns } from "drizzle-orm";
import type { Statement } from "bun:sqlite";
import type { Store } from "../db/client.ts";
import { requestLogs, type NewRequestLog } from "../db/schema.ts";

type Value = string | number | null;

/** The columns in the order `encode` writes them (`seq`, the rowid, is assigned by SQLite). */
const KEYS = [
  "id", "ts", "keyId", "subject", "account", "model", "endpoint", "method", "status", "stream", "latencyMs", "ttftMs",
  "promptTokens", "completionTokens", "cachedTokens", "cacheWriteTokens", "reasoningTokens", "costUsd", "metadata",
  "notes", "error",
] as const satisfies readonly (keyof NewRequestLog)[];
const WIDTH = KEYS.length;

const table = getTableColumns(requestLogs);
{
  const missing = Object.keys(table).filter((k) => k !== "seq" && !(KEYS as readonly string[]).includes(k));
  if (missing.length) throw new Error(`log-writer.ts does not encode request_logs columns: ${missing.join(", ")}`);
}
const COLUMN_NAMES = KEYS.map((k) => `"${table[k].name}"`).join(", ");

/** One entry's values in KEYS order, encoded as Drizzle stores them (JSON text, booleans as 0/1, column defaults). */
function encode(p: Value[], o: number, e: NewRequestLog): void {
  p[o] = e.id;
  p[o + 1] = e.ts;
  p[o + 2] = e.keyId ?? null;
  p[o + 3] = e.subject ?? null;
  p[o + 4] = e.account ?? null;
  p[o + 5] = e.model ?? null;
  p[o + 6] = e.endpoint;
  p[o + 7] = e.method ?? "POST";
  p[o + 8] = e.status;
  p[o + 9] = e.stream ? 1 : 0;
  p[o + 10] = e.latencyMs;
  p[o + 11] = e.ttftMs ?? null;
  p[o + 12] = e.promptTokens ?? null;
  p[o + 13] = e.completionTokens ?? null;
  p[o + 14] = e.cachedTokens ?? null;
  p[o + 15] = e.cacheWriteTokens ?? null;
  p[o + 16] = e.reasoningTokens ?? null;
  p[o + 17] = e.costUsd ?? null;
  p[o + 18] = e.metadata == null ? null : JSON.stringify(e.metadata);
  p[o + 19] = e.notes ?? null;
  p[o + 20] = e.error ?? null;
}

/** 32 rows × 21 columns stays well under SQLite's limit of 32766 bound parameters */
const ROWS_PER_INSERT = 32;
const PAGE = ROWS_PER_INSERT * WIDTH;

export class LogWriter {
  /** full pages of ROWS_PER_INSERT encoded rows, then the page being filled */
  private pages: Value[][] = [];
  private page: Value[] = new Array(PAGE);
  /** rows in `page` */
  private used = 0;
  private timer?: ReturnType<typeof setTimeout>;
  /** INSERT statements by row count, prepared when first needed */
  private inserts: Statement[] = [];
  written = 0;

  constructor(
    private store: Store,
    private opts: { flushMs?: number; maxBatch?: number } = {},
  ) {}

  private insertOf(rows: number): Statement {
    let s = this.inserts[rows];
    if (!s) {
      const row = `(${Array(WIDTH).fill("?").join(", ")})`;
      s = this.store.sqlite.prepare(`INSERT INTO request_logs (${COLUMN_NAMES}) VALUES ${Array(rows).fill(row).join(", ")}`);
      this.inserts[rows] = s;
    }
    return s;
  }

  push(entry: NewRequestLog): void {
    encode(this.page, this.used * WIDTH, entry);
    if (++this.used === ROWS_PER_INSERT) {
      this.pages.push(this.page);
      this.page = new Array(PAGE);
      this.used = 0;
    }
    if (this.pending >= (this.opts.maxBatch ?? 1000)) queueMicrotask(() => this.flush());
    else this.timer ??= setTimeout(() => this.flush(), this.opts.flushMs ?? 100);
  }

  flush(): number {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const n = this.pending;
    if (!n) return 0;
    const pages = this.pages;
    const last = this.page.slice(0, this.used * WIDTH);
    this.pages = [];
    this.page = new Array(PAGE);
    this.used = 0;
    try {
      this.store.sqlite.transaction(() => {
        const full = this.insertOf(ROWS_PER_INSERT);
        for (const p of pages) full.run(p);
        if (last.length) this.insertOf(last.length / WIDTH).run(last);
      })();
      this.written += n;
    } catch (e) {
      console.error(`request log write failed (${n} entries):`, (e as Error).message);
    }
    return n;
  }

  get pending(): number {
    return this.pages.length * ROWS_PER_INSERT + this.used;
  }
}
