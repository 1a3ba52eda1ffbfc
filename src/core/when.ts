/**
 * A point in time as users write it: a duration like `24h` / `30d` (counted back from now for `since`, forward for
 * an expiry), epoch milliseconds, or a date. Undefined when absent, null when it cannot be read.
 */
const UNIT_MS = { s: 1e3, m: 6e4, h: 36e5, d: 864e5 } as const;

export function parseWhen(v: string | undefined, direction: "past" | "future"): number | undefined | null {
  if (!v) return undefined;
  const rel = /^(\d+)([smhd])$/.exec(v);
  if (rel) {
    const ms = Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS];
    return direction === "future" ? Date.now() + ms : Date.now() - ms;
  }
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  return Number.isFinite(n) ? n : null;
}
