/**
 * Request logs are queued in memory and written in batches (one transaction per flush), off the request path.
 * An entry is encoded into a flat page of bound values as soon as it is queued (no per-entry object is kept), and a
 * full page of 32 rows goes to SQLite as one multi-row INSERT: several times cheaper than as many single ones.
 */
import { getTableColumns } from "drizzle-orm";
import type { Statement } from "bun:sqlite";
import type { Store } from "../db/client.ts";
import { requestLogs, type NewRequestLog } from "../db/schema.ts";
import type { Usage } from "../providers/types.ts";

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

/** 32 rows × 21 columns stays well under SQLite's limit of 32766 bound parameters */
const ROWS_PER_INSERT = 32;
const PAGE = ROWS_PER_INSERT * WIDTH;
/** pages kept for reuse: enough for a flush at the default batch size */
const MAX_SPARE_PAGES = 40;
/** rows kept while writes fail (~10 MB at most); past it the oldest are dropped and counted */
const MAX_PENDING_ROWS = 50_000;
/** how soon a failed write is tried again */
const RETRY_MS = 1000;
/** how soon a write that found the database locked (a CLI `apply`, a `sqlite3` shell, a backup) is tried again */
const LOCKED_RETRY_MS = 100;
/**
 * How long a flush waits for another process's write lock. The flush runs on the thread that serves requests, so it
 * does not wait out the connection's busy_timeout (5 s): its rows stay queued and it tries again shortly.
 */
const FLUSH_BUSY_MS = 20;
/** the connection's own busy timeout (db/client.ts), set again after a flush */
const CONNECTION_BUSY_MS = 5000;

export class LogWriter {
  /** full pages of ROWS_PER_INSERT encoded rows, then the page being filled */
  private pages: Value[][] = [];
  private page: Value[] = new Array(PAGE);
  /** rows in `page` */
  private used = 0;
  private timer?: ReturnType<typeof setTimeout>;
  /** INSERT statements by row count, prepared when first needed */
  private inserts: Statement[] = [];
  /** written pages, reused */
  private spare: Value[][] = [];
  /** rows in `pages` (full pages hold ROWS_PER_INSERT; a page kept from a failed flush may hold fewer) */
  private queued = 0;
  /** the last flush failed: its rows wait for the next one (logged once per run of failures) */
  private failing = false;
  written = 0;
  /** rows dropped because writes kept failing until MAX_PENDING_ROWS were waiting */
  dropped = 0;

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

  /**
   * Queues one entry: its values go into the page being filled as they are, in KEYS order and encoded as Drizzle
   * stores them (JSON text, booleans as 0/1); no object is made for it.
   */
  row(
    id: string,
    ts: number,
    keyId: string | null,
    subject: string | null,
    account: string | null,
    model: string | null,
    endpoint: string,
    method: string,
    status: number,
    stream: boolean,
    latencyMs: number,
    ttftMs: number | null,
    usage: Usage | null,
    costUsd: number | null,
    metadata: Record<string, string> | null,
    notes: string | null,
    error: string | null,
  ): void {
    const p = this.page;
    const o = this.used * WIDTH;
    p[o] = id;
    p[o + 1] = ts;
    p[o + 2] = keyId;
    p[o + 3] = subject;
    p[o + 4] = account;
    p[o + 5] = model;
    p[o + 6] = endpoint;
    p[o + 7] = method;
    p[o + 8] = status;
    p[o + 9] = stream ? 1 : 0;
    p[o + 10] = latencyMs;
    p[o + 11] = ttftMs;
    if (usage === null) {
      p[o + 12] = p[o + 13] = p[o + 14] = p[o + 15] = p[o + 16] = null;
    } else {
      p[o + 12] = usage.promptTokens;
      p[o + 13] = usage.completionTokens;
      p[o + 14] = usage.cachedTokens;
      p[o + 15] = usage.cacheWriteTokens;
      p[o + 16] = usage.reasoningTokens;
    }
    p[o + 17] = costUsd;
    p[o + 18] = metadata == null ? null : JSON.stringify(metadata);
    p[o + 19] = notes;
    p[o + 20] = error;
    if (++this.used === ROWS_PER_INSERT) {
      this.pages.push(this.page);
      this.queued += ROWS_PER_INSERT;
      this.page = this.spare.pop() ?? new Array(PAGE);
      this.used = 0;
    }
    // while writes fail, only the retry timer tries again (not every row past the batch size)
    if (!this.failing && this.pending >= (this.opts.maxBatch ?? 1000)) queueMicrotask(() => this.flush());
    else this.timer ??= setTimeout(() => this.flush(), this.opts.flushMs ?? 100);
  }

  /**
   * Writes the queued rows; `waitMs` is how long it waits for another process's write lock (short on the serving
   * thread; the last flush at shutdown waits longer). The rows written (0 when the write failed: they stay queued).
   */
  flush(waitMs = FLUSH_BUSY_MS): number {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const n = this.pending;
    if (!n) return 0;
    const pages = this.pages;
    if (this.used) pages.push(this.page.slice(0, this.used * WIDTH));
    this.pages = [];
    this.queued = 0;
    this.used = 0;
    const sqlite = this.store.sqlite;
    try {
      sqlite.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(waitMs))}`);
      sqlite.transaction(() => {
        const full = this.insertOf(ROWS_PER_INSERT);
        for (const p of pages) (p.length === PAGE ? full : this.insertOf(p.length / WIDTH)).run(p);
      })();
    } catch (e) {
      // nothing is lost to a failed write (a full disk, a database locked too long): the rows wait for the next
      // flush, a second from now, up to MAX_PENDING_ROWS (past that the oldest go, counted)
      if (!this.failing) console.error(`request log write failed (${n} entries kept for a retry):`, (e as Error).message);
      this.failing = true;
      this.pages = pages;
      this.queued = n;
      while (this.queued > MAX_PENDING_ROWS) {
        const p = this.pages.shift()!;
        this.queued -= p.length / WIDTH;
        this.dropped += p.length / WIDTH;
      }
      this.timer = setTimeout(() => this.flush(), /locked|busy/i.test(String((e as Error)?.message)) ? LOCKED_RETRY_MS : RETRY_MS);
      return 0;
    } finally {
      try {
        sqlite.exec(`PRAGMA busy_timeout = ${CONNECTION_BUSY_MS}`);
      } catch {}
    }
    if (this.failing) console.error(`request log writes work again (${n} entries written)`);
    this.failing = false;
    // written pages are filled again (a new page per 32 rows was ~170 bytes per request for the collector)
    for (const p of pages) if (p.length === PAGE && this.spare.length < MAX_SPARE_PAGES) this.spare.push(p);
    this.written += n;
    return n;
  }

  get pending(): number {
    return this.queued + this.used;
  }
}
