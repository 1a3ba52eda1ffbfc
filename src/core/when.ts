/**
 * A point in time as users write it: a duration like `24h` / `30d` (counted back from now for `since`, forward for
 * an expiry), epoch milliseconds, or a date. Undefined when absent, null when it cannot be read.
 */
const UNIT_MS = { s: 1e3, m: 6e4, h: 36e5, d: 864e5 } as const;
const MAX_EXPIRY_MS = 100 * 365 * 864e5;

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

/**
 * An expiry as users write it: like `parseWhen`, and in the future (`30` alone is 30 ms after 1970, not 30 days;
 * `0` is not "never"). A string saying why not, when it is not.
 */
export function parseExpiry(v: string | undefined): number | undefined | string {
  const n = parseWhen(v, "future");
  if (n === undefined) return undefined;
  if (n === null) return "expected a date, epoch ms or a duration like 30d";
  if (n <= Date.now()) {
    if (/^\d+[smhd]$/.test(v!)) return `a duration of '${v}' is not in the future`;
    return `${/^\d+$/.test(v!) ? "epoch milliseconds" : "the date"} '${v}' is not in the future (a duration needs its unit: 30d)`;
  }
  // a date no one will reach (and past what a Date can show: 99999999d made `keys list` fail)
  if (n > Date.now() + MAX_EXPIRY_MS) return `'${v}' is more than 100 years from now`;
  return n;
}
