/**
 * WAL checkpoints off the thread that serves requests.
 *
 * SQLite runs a checkpoint inside the commit that crosses `wal_autocheckpoint` (1000 pages): it copies the WAL's
 * pages into the database file and fsyncs both. In the server that commit is a request-log flush on the event loop,
 * so every request waited for the fsync: ~1–15 ms on a quiet disk, and 0.4–1 s stalls were measured on a disk other
 * work kept busy. Here the serving connection never checkpoints (`wal_autocheckpoint = 0`); a Worker with its own
 * connection runs a PASSIVE checkpoint every CHECK_MS (one that never waits for, nor blocks, the serving
 * connection's reads and writes), so the fsyncs happen on the Worker's thread. Commits in WAL mode with
 * `synchronous = NORMAL` do not fsync, so the serving thread does no fsync at all.
 *
 * Costs ~4 MB of RSS (the Worker's own small heap). Should the Worker fail, the serving connection checkpoints
 * itself again as before. The Worker's code is inline (a Blob URL): nothing to ship beside the executable.
 */
import type { Store } from "./client.ts";

const CHECK_MS = 200;
/** SQLite's default, restored on the serving connection if the Worker stops working */
const AUTOCHECKPOINT_PAGES = 1000;

const WORKER_SOURCE = `
import { Database } from "bun:sqlite";
let db;
let timer;
self.onmessage = (e) => {
  if (e.data.stop) {
    clearInterval(timer);
    try { db?.close(); } catch {}
    postMessage({ stopped: true });
    return;
  }
  db = new Database(e.data.file);
  db.exec("PRAGMA busy_timeout = 5000");
  // a checkpoint copies pages through its own buffer: this connection needs next to no page cache
  db.exec("PRAGMA cache_size = -64");
  const checkpoint = db.prepare("PRAGMA wal_checkpoint(PASSIVE)");
  timer = setInterval(() => {
    try {
      checkpoint.get();
    } catch (err) {
      // a busy or locked database: the next tick tries again; anything else ends the Worker (the server takes over)
      if (!/busy|locked/i.test(String(err && err.message))) throw err;
    }
  }, e.data.everyMs);
  postMessage({ started: true });
};
`;

export interface WalCheckpointer {
  /** Stops the Worker (the serving connection's close checkpoints what is left). */
  stop(): Promise<void>;
}

export function startWalCheckpointer(store: Store, file: string, everyMs = CHECK_MS): WalCheckpointer {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: "application/javascript" }));
  // smol: the Worker runs one statement on a timer; a small heap is all it needs
  const worker = new Worker(url, { smol: true } as WorkerOptions);
  store.sqlite.exec("PRAGMA wal_autocheckpoint = 0");
  let failed = false;
  const takeOver = (why: string) => {
    if (failed) return;
    failed = true;
    console.error(`WAL checkpoints: the checkpoint thread stopped (${why}); the server checkpoints on its own thread again`);
    try {
      store.sqlite.exec(`PRAGMA wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    } catch {}
  };
  worker.addEventListener("error", (e) => takeOver((e as ErrorEvent).message ?? "error"));
  // (the URL is let go once the Worker has loaded its code from it)
  worker.addEventListener("message", (e) => (e as MessageEvent).data?.started && URL.revokeObjectURL(url), { once: true });
  // the Worker alone must not keep the process alive
  (worker as Worker & { unref(): void }).unref();
  worker.postMessage({ file, everyMs });
  return {
    stop: () =>
      new Promise<void>((resolve) => {
        if (failed) {
          worker.terminate();
          return resolve();
        }
        const done = () => {
          worker.terminate();
          resolve();
        };
        const t = setTimeout(done, 1000);
        worker.addEventListener("message", (e) => {
          if ((e as MessageEvent).data?.stopped) {
            clearTimeout(t);
            done();
          }
        });
        worker.postMessage({ stop: true });
      }),
  };
}
