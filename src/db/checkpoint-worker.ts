/**
 * The WAL checkpointer's thread (see wal-checkpointer.ts): a PASSIVE checkpoint of the database every `everyMs`.
 * A module of its own, built into the executable as a second entry point (package.json `build`), so that it is
 * loaded as precompiled bytecode like the rest: a Worker made from source text had the engine's parser and
 * compiler paged in for it (~6 MB more of the executable resident).
 */
import { Database } from "bun:sqlite";

declare const self: Worker;

let db: Database | undefined;
let timer: ReturnType<typeof setInterval> | undefined;

self.onmessage = (e: MessageEvent<{ stop?: boolean; file: string; everyMs: number }>) => {
  if (e.data.stop) {
    clearInterval(timer);
    try {
      db?.close();
    } catch {}
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
      if (!/busy|locked/i.test(String((err as Error)?.message))) throw err;
    }
  }, e.data.everyMs);
  postMessage({ started: true });
};
