/**
 * Request logs are queued in memory and written in batches (one transaction per flush), off the request path.
 * The insert is one prepared statement built from the Drizzle table, so a flush of thousands of rows stays cheap.
 */
import { getTableColumns } from "drizzle-orm";
import type { Statement } from "bun:sqlite";
import type { Store } from "../db/client.ts";
import { requestLogs, type NewRequestLog } from "../db/schema.ts";

const columns = Object.entries(getTableColumns(requestLogs)) as [keyof NewRequestLog, { name: string; columnType: string; dataType: string }][];

/** A row's values in column order, encoded the way Drizzle stores them (JSON text, booleans as 0/1). */
function encodeRow(e: NewRequestLog): (string | number | null)[] {
  return columns.map(([key, col]) => {
    const v = e[key] as unknown;
    if (v === undefined || v === null) return defaults[key] ?? null;
    if (col.dataType === "json") return JSON.stringify(v);
    if (typeof v === "boolean") return v ? 1 : 0;
    return v as string | number;
  });
}
const defaults: Partial<Record<keyof NewRequestLog, string | number>> = { method: "POST", stream: 0 };

export class LogWriter {
  private queue: NewRequestLog[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private insert: Statement;
  written = 0;

  constructor(
    private store: Store,
    private opts: { flushMs?: number; maxBatch?: number } = {},
  ) {
    const names = columns.map(([, c]) => `"${c.name}"`).join(", ");
    this.insert = store.sqlite.prepare(`INSERT INTO request_logs (${names}) VALUES (${columns.map(() => "?").join(", ")})`);
  }

  push(entry: NewRequestLog): void {
    this.queue.push(entry);
    if (this.queue.length >= (this.opts.maxBatch ?? 1000)) queueMicrotask(() => this.flush());
    else this.timer ??= setTimeout(() => this.flush(), this.opts.flushMs ?? 200);
  }

  flush(): number {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    if (!batch.length) return 0;
    this.queue = [];
    try {
      this.store.sqlite.transaction(() => {
        for (const e of batch) this.insert.run(...encodeRow(e));
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
