/**
 * A bound on the JavaScript heap under load, checked on a timer (no work per request):
 *
 * - **Young generation.** JavaScriptCore lets the heap grow ~10 MB above its live size before a young-generation
 *   (eden) collection, and the resident size follows that allowance. Each tick that finds the heap grown by at least
 *   EDEN_BUDGET since the last collection runs an eden collection, so under load the young generation stays at what
 *   one tick allocates. An idle or lightly used gateway allocates less than that per tick and is left alone.
 *   (heapSize() is the heap as the last collection left it — the runtime's own collections included — not what was
 *   allocated since: "grown" means the runtime collected since the last tick and kept more, which under load is
 *   every tick or two and when idle never.)
 *   Measured (pinned load, docs/benchmarks.md): peak RSS ~93 → ~85 MB, CPU per request unchanged within noise.
 * - **Old generation.** Eden collections promote whatever is alive at that moment (the requests in flight, the
 *   request-log page being filled), so the old generation fills with objects already dead and is only collected
 *   once it has grown well past its last size. A full collection as soon as the heap passes the limit keeps it flat;
 *   one takes ~3 ms on the gateway's live heap (~8 MB). A lower limit lowers the peak further (10 MB: ~80 MB RSS)
 *   at the price of more full collections.
 */
import { edenGC, fullGC, heapSize } from "bun:jsc";

/** Growth of the heap, since the last collection, that warrants an eden collection at the next tick. */
const EDEN_BUDGET = 64 * 1024;

/** bun:jsc's collector controls: each collection returns the heap size after it (one heapSize() call less per tick). */
export interface HeapControl {
  heapSize(): number;
  edenGC(): number;
  fullGC(): number;
}

/**
 * The governor's decisions, one `tick()` per timer tick. A full collection that leaves more than the limit live (a
 * gateway with many accounts and keys) raises the bar to that size plus FULL_HEADROOM, so that it never collects
 * at every tick.
 */
export class HeapGovernor {
  /** heap size after the last collection */
  private last: number;
  /** the size above which a full collection runs */
  private bar: number;

  constructor(
    private readonly jsc: HeapControl,
    private readonly limit: number,
  ) {
    this.last = jsc.heapSize();
    this.bar = limit;
  }

  tick(): "full" | "eden" | null {
    const size = this.jsc.heapSize();
    let did: "full" | "eden";
    if (size > this.bar) {
      this.last = this.jsc.fullGC();
      did = "full";
    } else if (size - this.last >= EDEN_BUDGET) {
      this.last = this.jsc.edenGC();
      did = "eden";
    } else {
      if (size < this.last) this.last = size;
      return null;
    }
    if (did === "full") this.bar = Math.max(this.limit, this.last + FULL_HEADROOM);
    return did;
  }
}

/** Room above the live heap before the next full collection, when the live heap alone is near the limit. */
const FULL_HEADROOM = 2 * 1024 * 1024;

export function startHeapGovernor(limitMb: number, everyMs = 25, jsc: HeapControl = { heapSize, edenGC, fullGC }): () => void {
  if (!(limitMb > 0)) return () => {};
  const governor = new HeapGovernor(jsc, limitMb * 1024 * 1024);
  const timer = setInterval(() => governor.tick(), everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
