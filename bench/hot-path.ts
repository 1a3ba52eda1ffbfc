/**
 * The gateway's own CPU per request, in-process: the chat-completions route handler (auth, JSON, schema, resolution,
 * timeout wiring, usage, cost, request log with its batched SQLite write) called directly with a Request, its
 * upstream call answered in memory (what the pooled client hands over: status and the decoded body). No sockets, so the number is steadier than the loopback benchmark and shows
 * what a change to the handler saves. "bare" is the same loop through a handler that forwards body and answer.
 *
 * Usage: bun bench/hot-path.ts [--requests 10000] [--rounds 9]   (also part of `npm run bench`)
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openGateway } from "../src/boot.ts";
import { applyConfig } from "../src/config/apply.ts";
import { parseConfig } from "../src/config/load-config.ts";
import { createKey } from "../src/db/keys-repo.ts";
import { hotRoutes } from "../src/http/hot-routes.ts";
import type { UpstreamFetch } from "../src/providers/http1.ts";
import { COMPLETION } from "./completion.ts";

export interface HotPathResult {
  /** µs of CPU per request, median over the rounds */
  gateway: number;
  bare: number;
}

export interface HotPath {
  /** the gateway's chat-completions route handler, its upstream answered in memory */
  gateway: (r: Request) => Promise<Response>;
  /** a handler that forwards body and answer, through the same in-memory upstream */
  bare: (r: Request) => Promise<Response>;
  /** a chat completion request as the benchmark sends it */
  request(): Request;
  /** the gateway's request log, to flush */
  flush(): void;
  close(): void;
}

/** The gateway's chat handler on a fresh data dir, its upstream answered in memory (as the pooled client hands it over). */
export function makeHotPath(): HotPath {
  const upstreamText = JSON.stringify(COMPLETION);
  const upstream = (async () => new Response(upstreamText, { headers: { "content-type": "application/json" } })) as unknown as typeof fetch;
  // the gateway's upstream client answers a whole JSON body as a decoded string (providers/http1.ts); so does its
  // stand-in here
  const pooled: UpstreamFetch = async () => ({
    status: 200,
    ok: true,
    passesOn: false,
    get headers() {
      return new Headers({ "content-type": "application/json" });
    },
    body: null,
    text: async () => upstreamText,
    bufferedText: () => upstreamText,
    json: async () => JSON.parse(upstreamText),
    arrayBuffer: async () => new TextEncoder().encode(upstreamText).buffer,
  });
  const dataDir = mkdtempSync(join(tmpdir(), "sb-hot-"));
  const gw = openGateway({ dataDir, fetch: pooled });
  applyConfig(
    gw,
    parseConfig(
      "accounts:\n  - name: bench\n    provider: openai\n    base_url: http://127.0.0.1:9/v1\n    auth: { api_key: upstream }\n    models:\n      - { name: gpt-4o-mini, types: [chat] }\n",
      "bench.yaml",
    ),
  );
  const key = createKey(gw.store, { name: "bench", subject: "user:bench", role: "admin" }).key;
  gw.registry.reload();
  const body = JSON.stringify({ model: "bench/gpt-4o-mini", messages: [{ role: "user", content: "Hello!" }] });
  const headers = { "content-type": "application/json", authorization: `Bearer ${key}`, "content-length": String(body.length) };
  return {
    gateway: hotRoutes(gw, ["/v1"])["/v1/chat/completions"]!.POST,
    bare: async (req: Request) => {
      const res = await upstream("http://127.0.0.1:9/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: "Bearer upstream" },
        body: await req.text(),
      });
      const h = new Headers(res.headers);
      h.delete("content-length");
      return new Response(res.body, { status: res.status, headers: h });
    },
    request: () => new Request("http://127.0.0.1/v1/chat/completions", { method: "POST", headers, body }),
    flush: () => gw.logs.flush(),
    close: () => {
      gw.store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** `requests` through `handler`, 32 in flight at a time like the loopback benchmark. */
export async function drive(hp: HotPath, handler: (r: Request) => Promise<Response>, requests: number): Promise<void> {
  for (let i = 0; i < requests; i += 32) {
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        const res = await handler(hp.request());
        const text = await res.text();
        if (res.status !== 200) throw new Error(`hot path answered ${res.status}: ${text}`);
      }),
    );
  }
}

export async function benchHotPath(requests = 10_000, rounds = 9): Promise<HotPathResult> {
  const hp = makeHotPath();
  try {
    // the log is flushed before the clock stops
    const run = async (handler: (r: Request) => Promise<Response>): Promise<number> => {
      const c0 = process.cpuUsage();
      await drive(hp, handler, requests);
      hp.flush();
      const c = process.cpuUsage(c0);
      return (c.user + c.system) / requests;
    };
    const g: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < rounds + 1; r++) {
      const gr = await run(hp.gateway);
      const br = await run(hp.bare);
      if (r > 0) (g.push(gr), b.push(br)); // the first round warms up the JIT
    }
    const median = (v: number[]) => v.sort((x, y) => x - y)[v.length >> 1]!;
    return { gateway: median(g), bare: median(b) };
  } finally {
    hp.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { requests: { type: "string" }, rounds: { type: "string" } } });
  const r = await benchHotPath(Number(values.requests ?? 10_000), Number(values.rounds ?? 9));
  console.log(`hot path, µs CPU per request (median): gateway ${r.gateway.toFixed(2)}, bare ${r.bare.toFixed(2)}, gateway's own work ${(r.gateway - r.bare).toFixed(2)}`);
}
