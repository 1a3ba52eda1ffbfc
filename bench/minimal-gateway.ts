/**
 * Reference: the least a gateway must do per request, in ~40 lines of Bun — look the key up, parse the body, swap
 * the model id, forward, read usage from the answer, queue a log row (written in batches to a WAL SQLite file),
 * answer with a request id. No schema, no access rules, no timeout, no cost, no errors worth the name. It shows
 * what that work costs against the bare proxy on the same machine, i.e. how close to the bare proxy any gateway
 * written this way can get.
 */
import { Database } from "bun:sqlite";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const upstream = process.env.UPSTREAM!;
const keys = new Map([[`Bearer ${process.env.BENCH_KEY}`, "key_bench"]]);
const db = new Database(join(mkdtempSync(join(tmpdir(), "sb-minimal-")), "log.db"));
db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL");
db.exec("CREATE TABLE log (id TEXT, ts INTEGER, key TEXT, model TEXT, status INTEGER, latency REAL, prompt INTEGER, completion INTEGER)");
const insert = db.prepare("INSERT INTO log VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
let queue: (string | number)[][] = [];
let timer: Timer | undefined;
const flush = () => {
  timer = undefined;
  const rows = queue;
  queue = [];
  db.transaction(() => rows.forEach((r) => insert.run(...r)))();
};

const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  routes: {
    "/v1/chat/completions": {
      async POST(req) {
        const t0 = performance.now();
        const key = keys.get(req.headers.get("authorization") ?? "");
        if (!key) return Response.json({ error: { message: "bad key" } }, { status: 401 });
        const body = (await req.json()) as { model: string };
        const model = body.model.slice(body.model.indexOf("/") + 1);
        body.model = model;
        const res = await fetch(upstream + "/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json", authorization: "Bearer upstream" },
          body: JSON.stringify(body),
        });
        const text = await res.text();
        const usage = JSON.parse(text).usage ?? {};
        const id = `req_${Bun.randomUUIDv7()}`;
        queue.push([id, Date.now(), key, model, res.status, performance.now() - t0, usage.prompt_tokens ?? 0, usage.completion_tokens ?? 0]);
        timer ??= setTimeout(flush, 100);
        return new Response(text, { status: res.status, headers: { "content-type": "application/json", "x-request-id": id } });
      },
    },
  },
});
console.log(server.port);
