/**
 * Request logs are queued in memory and written in batches (one transaction per flush), off the request path.
 * The insert is one prepared statement built from the Drizzle table, so a flush of thousands of rows stays cheap.
 */
import { getTableColumns } from "drizzle-orm";
import type { Statement } from "bun:sqlite";
import type { Store } from "../db/client.ts";
import { requestLogs, type NewRequestLog } from "../db/schema.ts";

// every column but the rowid `seq`, which SQLite assigns
const columns = (Object.entries(getTableColumns(requestLogs)) as [keyof NewRequestLog, { name: string; dataType: string }][]).filter(
  ([k]) => k !== "seq",
);
const keys = columns.map(([k]) => k);
const isJson = columns.map(([, c]) => c.dataType === "json");

/** A row's values in column order, encoded the way Drizzle stores them (JSON text, booleans as 0/1). */
function encodeRow(e: NewRequestLog): (string | number | null)[] {
  const out = new Array<string | number | null>(keys.length);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const v = e[k] as unknown;
    out[i] = v === undefined || v === null ? (defaults[k] ?? null) : isJson[i] ? JSON.stringify(v) : typeof v === "boolean" ? (v ? 1 : 0) : (v as string | number);
  }
  return out;
}
/** 32 rows × 21 columns stays under SQLite's limit of 32766 bound parameters */
const ROWS_PER_INSERT = 32;
const defaults: Partial<Record<keyof NewRequestLog, string | number>> = { method: "POST", stream: 0 };

export class LogWriter {
  private queue: NewRequestLog[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private insert: Statement;
  private insertMany: Statement;
  written = 0;

  constructor(
    private store: Store,
    private opts: { flushMs?: number; maxBatch?: number } = {},
  ) {
    const names = columns.map(([, c]) => `"${c.name}"`).join(", ");
    const row = `(${columns.map(() => "?").join(", ")})`;
    this.insert = store.sqlite.prepare(`INSERT INTO request_logs (${names}) VALUES ${row}`);
    // rows per statement: one multi-row INSERT is several times cheaper than as many single ones
    this.insertMany = store.sqlite.prepare(`INSERT INTO request_logs (${names}) VALUES ${Array(ROWS_PER_INSERT).fill(row).join(", ")}`);
  }

  push(entry: NewRequestLog): void {
    this.queue.push(entry);
    if (this.queue.length >= (this.opts.maxBatch ?? 1000)) queueMicrotask(() => this.flush());
    else this.timer ??= setTimeout(() => this.flush(), this.opts.flushMs ?? 100);
  }

  flush(): number {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    if (!batch.length) return 0;
    this.queue = [];
    try {
      this.store.sqlite.transaction(() => {
        let i = 0;
        for (; i + ROWS_PER_INSERT <= batch.length; i += ROWS_PER_INSERT) {
          const values: (string | number | null)[] = [];
          for (let j = i; j < i + ROWS_PER_INSERT; j++) values.push(...encodeRow(batch[j]!));
          this.insertMany.run(...values);
        }
        for (; i < batch.length; i++) this.insert.run(...encodeRow(batch[i]!));
      })();
      this.written += batch.length;
    } catch (e) {
      console.error(`request log write failed (${batch.length} entries):`, (e as Error).message);
    }
    return batch.length;
  }

  get pending(): number {
    return this.queue.length;
  }
}
