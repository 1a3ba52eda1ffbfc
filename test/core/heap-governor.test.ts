import { expect, test } from "bun:test";
import { HeapGovernor } from "../../src/core/heap-governor.ts";
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

test("each tick: a full collection over the limit, an eden collection once the heap grew by 64 KB, else nothing", () => {
  const MB = 1024 * 1024;
  let size = 5_000_000;
  let live = 6_000_000;
  const jsc = {
    heapSize: () => size,
    edenGC: () => (size -= 50_000), // what the collection freed; like bun:jsc, the size after it
    fullGC: () => (size = live),
  };
  const g = new HeapGovernor(jsc, 10 * MB);
  size = 5_030_000; // +30 KB: an idle gateway's drift, left alone
  expect(g.tick()).toBeNull();
  size = 5_100_000; // +100 KB since the last collection: eden
  expect(g.tick()).toBe("eden");
  size = 5_100_000; // 5_050_000 after it, +50 KB since: nothing
  expect(g.tick()).toBeNull();
  size = 11 * MB; // over the limit: full
  expect(g.tick()).toBe("full");
  expect(size).toBe(6_000_000);

  // a big deployment: 12 MB stay live after a full collection; the bar moves to 12 + 2 MB, not a full GC per tick
  live = 12 * MB;
  size = 11 * MB;
  expect(g.tick()).toBe("full");
  size = 12 * MB + 60_000; // grew, but under 64 KB… and under the new bar
  expect(g.tick()).toBeNull();
  size = 13 * MB; // under the bar: only an eden collection
  expect(g.tick()).toBe("eden");
  size = 14 * MB + 1; // over 12 + 2 MB: full again
  expect(g.tick()).toBe("full");
});
