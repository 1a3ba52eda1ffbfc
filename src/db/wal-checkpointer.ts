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
 * Should the Worker fail, the serving connection checkpoints itself again as before. The Worker's code
 * (checkpoint-worker.ts) is a second entry point of the executable: nothing to ship beside it.
 */
import type { Store } from "./client.ts";

const CHECK_MS = 200;
/** SQLite's default, restored on the serving connection if the Worker stops working */
const AUTOCHECKPOINT_PAGES = 1000;


export interface WalCheckpointer {
  /** Stops the Worker (the serving connection's close checkpoints what is left). */
  stop(): Promise<void>;
}

export function startWalCheckpointer(store: Store, file: string, everyMs = CHECK_MS): WalCheckpointer {
  // smol: the Worker runs one statement on a timer; a small heap is all it needs
  const worker = new Worker(workerEntry(), { smol: true } as WorkerOptions);
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

/**
 * Where the Worker's module is: in the executable, the second entry point (`npm run build` lays entry points out
 * under /$bunfs/root/ by their path below src/); from source, the file beside this one.
 */
function workerEntry(): string {
  return Bun.main.startsWith("/$bunfs/") ? "/$bunfs/root/db/checkpoint-worker.js" : new URL("./checkpoint-worker.ts", import.meta.url).href;
}
