/**
 * Request logs are queued in memory and written in batches (one transaction per flush), off the request path.
 */
import type { Store } from "../db/client.ts";
import { requestLogs, type NewRequestLog } from "../db/schema.ts";

export class LogWriter {
  private queue: NewRequestLog[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  written = 0;

  constructor(
    private store: Store,
    private opts: { flushMs?: number; maxBatch?: number } = {},
  ) {}

  push(entry: NewRequestLog): void {
    this.queue.push(entry);
    if (this.queue.length >= (this.opts.maxBatch ?? 500)) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.opts.flushMs ?? 200);
  }

  flush(): number {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    if (!batch.length) return 0;
    this.queue = [];
    try {
      this.store.db.transaction((tx) => {
        for (let i = 0; i < batch.length; i += 50) tx.insert(requestLogs).values(batch.slice(i, i + 50)).run();
      });
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
