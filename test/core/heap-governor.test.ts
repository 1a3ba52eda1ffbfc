import { expect, test } from "bun:test";
import { join } from "node:path";

/** In a fresh process: the heap after the last full collection is then the gateway module's own, not the suite's. */
async function scenario(governed: boolean): Promise<{ limit: number; before: number; after: number }> {
  const script = `
    import { fullGC, heapSize } from "bun:jsc";
    import { startHeapGovernor } from ${JSON.stringify(join(import.meta.dir, "../../src/core/heap-governor.ts"))};
    fullGC();
    const limitMb = heapSize() / 1048576 + 8;
    let junk = [];
    for (let i = 0; i < 600; i++) junk.push(Array.from({ length: 1000 }, (_, j) => ({ i, j, pair: [i, j] })));
    const before = heapSize();
    junk = null; // garbage in the old generation now: only a full collection frees it
    const stop = ${governed} ? startHeapGovernor(limitMb, 5) : () => {};
    await Bun.sleep(80);
    stop();
    console.log(JSON.stringify({ limit: limitMb * 1048576, before, after: heapSize() }));
  `;
  const proc = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  return JSON.parse(out);
}

test("the heap governor runs a full collection once the heap passes its limit", async () => {
  const [governed, left] = await Promise.all([scenario(true), scenario(false)]);
  expect(governed.before).toBeGreaterThan(governed.limit + 4 * 1048576);
  expect(governed.after).toBeLessThan(governed.limit);
  // without it the garbage is still there: the check above is the governor's doing
  expect(left.before).toBeGreaterThan(left.limit + 4 * 1048576);
  expect(left.after).toBeGreaterThan(left.limit);
});
