/**
 * Loopback benchmark: a mock upstream, the gateway (auth and request logging on) and a bare Bun fetch proxy, each
 * loaded with the same concurrency for the same time, the targets taking turns in short runs so that a shared
 * machine's changing load falls on all of them alike. Prints RPS, p50/p99 latency, the gateway's RSS and the
 * gateway / bare-proxy ratio, once for each load generator (--client). Usage:
 * npm run bench [-- --seconds 5 --concurrency 1,32 --rounds 10 --client raw,fetch]
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { benchAnthropicStream } from "./anthropic-stream.ts";
import { allocPerRequest } from "./alloc.ts";
import { benchHotPath } from "./hot-path.ts";
import { loadRaw, type Run } from "./loadgen.ts";
import { STREAM_EVENTS } from "./upstream.ts";

const { values } = parseArgs({
  options: { seconds: { type: "string" }, concurrency: { type: "string" }, rounds: { type: "string" }, client: { type: "string" } },
});
const SECONDS = Number(values.seconds ?? 5);
/** each target's time is split into this many runs, the targets taking turns (a shared machine's load drifts) */
const ROUNDS = Math.max(1, Number(values.rounds ?? 10));
const LEVELS = (values.concurrency ?? "1,32").split(",").map(Number);
/**
 * The load generators for the non-streaming runs: "raw" (bench/loadgen.ts: keep-alive HTTP/1.1 on one thread, like
 * wrk) and "fetch" (concurrent fetch loops, as a JS client would send them: more CPU per request, and a second
 * thread, taken from the shared cores).
 */
const CLIENTS = (values.client ?? "raw,fetch").split(",") as ("raw" | "fetch")[];
if (CLIENTS.some((c) => c !== "raw" && c !== "fetch")) throw new Error("--client takes raw, fetch or raw,fetch");
const root = join(import.meta.dir, "..");

async function startProc(args: string[], env: Record<string, string> = {}, ready = /^(\d+)$/m, exe = process.execPath) {
  const proc = Bun.spawn([exe, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "inherit", cwd: root });
  const reader = proc.stdout.getReader();
  let out = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`process ${args.join(" ")} exited: ${out}`);
    out += new TextDecoder().decode(value);
    const m = ready.exec(out);
    if (m) return { proc, match: m };
  }
}

function rssMb(pid: number, field = "VmRSS"): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

interface Result {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}


const CHAT = JSON.stringify({ model: "bench/gpt-4o-mini", messages: [{ role: "user", content: "Hello!" }] });

/** `check`, when given, says whether an answer is whole (a stream that ends early counts as an error). */
async function load(
  url: string,
  headers: Record<string, string>,
  concurrency: number,
  seconds: number,
  body = CHAT,
  check?: (text: string) => boolean,
): Promise<Run> {
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      const res = await fetch(url, { method: "POST", headers, body });
      if (check) {
        if (res.status !== 200 || !check(await res.text())) errors++;
      } else {
        await res.arrayBuffer();
        if (res.status !== 200) errors++;
      }
      lat.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { lat, seconds, errors };
}

function summary(runs: Run[]): Result {
  const lat = runs.flatMap((r) => r.lat).sort((a, b) => a - b);
  const seconds = runs.reduce((t, r) => t + r.seconds, 0);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))]!;
  return { rps: lat.length / seconds, p50: q(0.5), p99: q(0.99), errors: runs.reduce((t, r) => t + r.errors, 0) };
}

const dir = mkdtempSync(join(tmpdir(), "sb-bench-"));
const adminKey = "sk-sb-bench-admin-key-0123456789";
const upstream = await startProc(["bench/upstream.ts"]);
const upstreamUrl = `http://127.0.0.1:${upstream.match[1]}/v1`;
const streamUpstream = await startProc(["bench/upstream.ts"], { STREAM: "1" });
const streamUpstreamUrl = `http://127.0.0.1:${streamUpstream.match[1]}/v1`;
writeFileSync(
  join(dir, "gateway.yaml"),
  `accounts:\n  - name: bench\n    provider: openai\n    base_url: ${upstreamUrl}\n    auth: { api_key: upstream }\n    models:\n      - { name: gpt-4o-mini, types: [chat] }\n` +
    `  - name: bench-stream\n    provider: openai\n    base_url: ${streamUpstreamUrl}\n    auth: { api_key: upstream }\n    models:\n      - { name: gpt-4o-mini, types: [chat] }\n`,
);
const gwPort = 30000 + Math.floor(Math.random() * 20000);
// the gateway as users run it: the compiled executable when it has been built (npm run build), else the sources
const binary = join(root, "dist", "switchboard");
const useBinary = existsSync(binary) && !process.env.BENCH_FROM_SOURCE;
if (useBinary) {
  // a binary older than the sources would measure old code: rebuild it first
  const newest = (d: string): number =>
    Math.max(...readdirSync(d, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(d, e.name)) : statSync(join(d, e.name)).mtimeMs)));
  if (statSync(binary).mtimeMs < newest(join(root, "src"))) {
    console.log("dist/switchboard is older than src/: rebuilding (npm run build)");
    const b = Bun.spawnSync([process.execPath, "run", "build"], { cwd: root, stdout: "inherit", stderr: "inherit" });
    if (b.exitCode !== 0) throw new Error("build failed");
  }
}
const gateway = await startProc(
  [...(useBinary ? [] : ["src/main.ts"]), "serve", "--port", String(gwPort), "--host", "127.0.0.1", "--data-dir", join(dir, "data"), "--config", join(dir, "gateway.yaml")],
  { SWITCHBOARD_ADMIN_KEY: adminKey },
  /listening on/,
  useBinary ? binary : process.execPath,
);
const bare = await startProc(["bench/bare-proxy.ts"], { UPSTREAM: upstreamUrl });
const bareStream = await startProc(["bench/bare-proxy.ts"], { UPSTREAM: streamUpstreamUrl });
const ely = await startProc(["bench/elysia-proxy.ts"], { UPSTREAM: upstreamUrl });
const minimal = await startProc(["bench/minimal-gateway.ts"], { UPSTREAM: upstreamUrl, BENCH_KEY: adminKey });
interface Target {
  url: string;
  pid: number;
}
const chat = (port: string | number) => `http://127.0.0.1:${port}/v1/chat/completions`;
const targets: Record<string, Target> = {
  upstream: { url: `${upstreamUrl}/chat/completions`, pid: upstream.proc.pid },
  "bare proxy": { url: chat(bare.match[1]!), pid: bare.proc.pid },
  "elysia proxy": { url: chat(ely.match[1]!), pid: ely.proc.pid },
  "minimal gateway": { url: chat(minimal.match[1]!), pid: minimal.proc.pid },
  gateway: { url: chat(gwPort), pid: gateway.proc.pid },
};
const headers = { "content-type": "application/json", authorization: `Bearer ${adminKey}` };

/** CPU time (user + system) a process has used, in µs: steadier than req/s on a machine the load shares. */
function cpuMicros(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(f[11]) + Number(f[12])) * (1e6 / 100); // clock ticks at USER_HZ = 100
}

/**
 * SECONDS of load for each target in ROUNDS turns, the targets taking turns (starting one further each round);
 * the summary per target and its CPU per request.
 */
async function takeTurns(all: Record<string, Target>, run: (url: string, seconds: number) => Promise<Run>) {
  const names = Object.keys(all);
  const runs: Record<string, Run[]> = {};
  const cpu: Record<string, number> = {};
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < names.length; k++) {
      const name = names[(k + round) % names.length]!;
      const cpu0 = cpuMicros(all[name]!.pid);
      (runs[name] ??= []).push(await run(all[name]!.url, SECONDS / ROUNDS));
      cpu[name] = (cpu[name] ?? 0) + cpuMicros(all[name]!.pid) - cpu0;
    }
  }
  const out: Record<string, Result & { cpuPerReq: number; roundRps: number[] }> = {};
  for (const name of names) {
    const r = summary(runs[name]!);
    out[name] = { ...r, cpuPerReq: cpu[name]! / (r.rps * SECONDS), roundRps: runs[name]!.map((x) => x.lat.length / x.seconds) };
  }
  return out;
}

/**
 * The median over rounds of a's req/s over b's in the same round (run within a few seconds of each other), which a
 * burst of load from elsewhere on the machine (steal time, a neighbour) hitting one round moves less than the pooled
 * ratio.
 */
function medianRoundRatio(a: number[], b: number[]): number {
  const r = a.map((x, i) => x / b[i]!).sort((x, y) => x - y);
  const m = r.length >> 1;
  return r.length % 2 ? r[m]! : (r[m - 1]! + r[m]!) / 2;
}

// warm up every target (JIT, connection pools)
for (const t of Object.values(targets)) await load(t.url, headers, 8, 1);

const rows: string[] = [];
/** results[client][target][concurrency] */
const results: Record<string, Record<string, Record<number, Result & { roundRps: number[] }>>> = {};
for (const client of CLIENTS) {
  for (const t of Object.values(targets)) if (client === "raw") await loadRaw(t.url, headers, 8, 0.5, CHAT);
  for (const c of LEVELS) {
    const level = await takeTurns(targets, (url, seconds) => (client === "raw" ? loadRaw(url, headers, c, seconds, CHAT) : load(url, headers, c, seconds)));
    for (const [name, r] of Object.entries(level)) {
      ((results[client] ??= {})[name] ??= {})[c] = r;
      rows.push(`| ${client} | ${name} | ${c} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.cpuPerReq.toFixed(1)} | ${r.errors} |`);
    }
  }
}
// the peak of the non-streaming runs (the measure), before the streams add their own
const peakRssChat = rssMb(gateway.proc.pid, "VmHWM");

// streaming: the same chat completion as an SSE stream of STREAM_EVENTS content chunks, bare proxy vs gateway
const STREAM_BODY = JSON.stringify({ model: "bench-stream/gpt-4o-mini", stream: true, messages: [{ role: "user", content: "Hello!" }] });
const streamWhole = (t: string) => t.includes(`tok${STREAM_EVENTS - 1} `) && t.trimEnd().endsWith("data: [DONE]");
const streamTargets: Record<string, Target> = {
  "bare proxy": { url: chat(bareStream.match[1]!), pid: bareStream.proc.pid },
  gateway: targets.gateway!,
};
const STREAM_C = 8;
for (const t of Object.values(streamTargets)) await load(t.url, headers, STREAM_C, 1, STREAM_BODY, streamWhole);
const streamResults = await takeTurns(streamTargets, (url, seconds) => load(url, headers, STREAM_C, seconds, STREAM_BODY, streamWhole));
const streamRows = Object.entries(streamResults).map(
  ([name, r]) =>
    `| ${name} | ${STREAM_C} | ${r.rps.toFixed(0)} | ${Math.round(r.rps * (STREAM_EVENTS + 4))} | ${r.p50.toFixed(2)} | ${r.p99.toFixed(2)} | ${r.cpuPerReq.toFixed(0)} | ${r.errors} |`,
);

const peakRss = rssMb(gateway.proc.pid, "VmHWM");
const rss = rssMb(gateway.proc.pid);
const chunk = await benchAnthropicStream();
const hot = await benchHotPath();
const allocGateway = await allocPerRequest("gateway");
const allocBare = await allocPerRequest("bare");

console.log(`\ngateway: ${useBinary ? "dist/switchboard (compiled)" : "bun src/main.ts"}`);
console.log(
  `\nLoopback, ${SECONDS} s per target and concurrency in ${ROUNDS} turns, non-streaming chat completions (${new Date().toISOString()})\n`,
);
console.log("| client | target | concurrency | req/s | p50 ms | p99 ms | µs CPU / req | errors |\n|---|---|---|---|---|---|---|---|");
console.log(rows.join("\n"));
console.log("");
for (const client of CLIENTS) for (const c of LEVELS) {
  const g = results[client]!.gateway![c]!;
  const b = results[client]!["bare proxy"]![c]!;
  const m = results[client]!["minimal gateway"]![c]!;
  console.log(
    `${client} client, concurrency ${c}: gateway/bare throughput ${((g.rps / b.rps) * 100).toFixed(1)} % (median of the ${ROUNDS} rounds' ratios ${(medianRoundRatio(g.roundRps, b.roundRps) * 100).toFixed(1)} %; minimal gateway/bare ${((m.rps / b.rps) * 100).toFixed(1)} %), added p50 ${(g.p50 - b.p50).toFixed(3)} ms, added p99 ${(g.p99 - b.p99).toFixed(3)} ms`,
  );
}
console.log(`\nStreams of ${STREAM_EVENTS} content events (+ role, finish, usage, [DONE]), ${STREAM_C} at a time:\n`);
console.log("| target | concurrency | streams/s | events/s | p50 ms | p99 ms | µs CPU / stream | errors |\n|---|---|---|---|---|---|---|---|");
console.log(streamRows.join("\n"));
console.log(
  `streams: gateway/bare throughput ${((streamResults.gateway!.rps / streamResults["bare proxy"]!.rps) * 100).toFixed(1)} %\n`,
);
console.log(
  `gateway RSS after load ${rss.toFixed(1)} MB, peak ${peakRssChat.toFixed(1)} MB under the non-streaming load, ${peakRss.toFixed(1)} MB with the streams`,
);
console.log(
  `for reference, peak RSS: bare proxy ${rssMb(bare.proc.pid, "VmHWM").toFixed(1)} MB, elysia proxy ${rssMb(ely.proc.pid, "VmHWM").toFixed(1)} MB, minimal gateway ${rssMb(minimal.proc.pid, "VmHWM").toFixed(1)} MB`,
);
const f = (x: number) => Math.round(x).toLocaleString("en-US");
console.log(
  `Anthropic stream, chunks/s on one core: translator ${f(chunk.translate)}; SSE bytes → chunks ${f(chunk.bytesToItems)}; SSE bytes → OpenAI SSE bytes ${f(chunk.bytesToBytes)}`,
);

console.log(
  `hot path in-process, µs CPU per request: gateway handler ${hot.gateway.toFixed(2)}, bare forwarding handler ${hot.bare.toFixed(2)}, gateway's own work ${(hot.gateway - hot.bare).toFixed(2)}`,
);

console.log(
  `JS heap allocated per request in-process (bench/alloc.ts): gateway handler ${allocGateway.toFixed(0)} B, bare forwarding handler ${allocBare.toFixed(0)} B`,
);

for (const p of [gateway.proc, bare.proc, bareStream.proc, ely.proc, minimal.proc, upstream.proc, streamUpstream.proc]) p.kill("SIGTERM");
await gateway.proc.exited;
rmSync(dir, { recursive: true, force: true });
process.exit(0);
