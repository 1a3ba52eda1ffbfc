/**
 * JS heap bytes allocated per request on the hot path, in-process (bench/hot-path.ts: the chat handler, its
 * upstream answered in memory; "bare" is the forwarding handler, i.e. what the Request and Response themselves
 * cost). Every byte allocated per request is paid again by the garbage collector, whose pauses stall every request
 * in flight (docs/benchmarks.md), so this is worth watching next to the CPU numbers.
 *
 * How: JavaScriptCore reports, with BUN_JSC_logGC=1, the bytes allocated in each cycle when it starts a collection;
 * their sum over many requests, divided by the requests, is the allocation per request (to within one cycle). The
 * script runs itself again with that variable set and reads the report. Usage: bun bench/alloc.ts [--requests 200000]
 */
import { parseArgs } from "node:util";
import { drive, makeHotPath } from "./hot-path.ts";

export async function allocPerRequest(which: "gateway" | "bare", requests = 200_000): Promise<number> {
  const proc = Bun.spawn([process.execPath, import.meta.path, "--child", which, "--requests", String(requests)], {
    env: { ...process.env, BUN_JSC_logGC: "1" },
    stdout: "ignore",
    stderr: "pipe",
  });
  const log = await new Response(proc.stderr).text();
  if ((await proc.exited) !== 0) throw new Error(`alloc child failed: ${log.slice(-2000)}`);
  const part = log.slice(log.indexOf("ALLOC-START"), log.indexOf("ALLOC-END"));
  let bytes = 0;
  for (const m of part.matchAll(/bytes allocated this cycle: (\d+)/g)) bytes += Number(m[1]);
  return bytes / requests;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { requests: { type: "string" }, child: { type: "string" } } });
  const n = Number(values.requests ?? 200_000);
  if (values.child) {
    const hp = makeHotPath();
    const handler = values.child === "bare" ? hp.bare : hp.gateway;
    await drive(hp, handler, 3_000); // warm-up
    console.error("ALLOC-START");
    await drive(hp, handler, n);
    console.error("ALLOC-END");
    hp.flush();
    hp.close();
    process.exit(0);
  }
  const g = await allocPerRequest("gateway", n);
  const b = await allocPerRequest("bare", n);
  console.log(`JS heap allocated per request, in-process: gateway handler ${g.toFixed(0)} B, bare forwarding handler ${b.toFixed(0)} B, the gateway's own ${(g - b).toFixed(0)} B`);
}
