/**
 * A bound on the JavaScript heap under load. JavaScriptCore's young-generation collections promote whatever is
 * alive at that moment (the requests in flight, the request-log page being filled), so under steady load the old
 * generation fills with objects that are already dead and is only collected once it has grown well past its last
 * size: the resident size of a busy gateway climbed ~30 MB above idle before that happened. A full collection as soon
 * as the heap passes the limit keeps it flat. It is checked on a timer (no work per request); a full collection of
 * the gateway's live heap (~8 MB) takes ~3 ms.
 */
import { fullGC, heapSize } from "bun:jsc";

export function startHeapGovernor(limitMb: number, everyMs = 50): () => void {
  if (!(limitMb > 0)) return () => {};
  const limit = limitMb * 1024 * 1024;
  const timer = setInterval(() => {
    if (heapSize() > limit) fullGC();
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
