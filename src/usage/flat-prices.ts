/**
 * The catalogue's flat prices without loading the catalogue: `flat-prices.gen.json` holds, for the providers the
 * gateway prices from @pydantic/genai-prices, each model's match rule and its flat per-1M prices (or "calc" when its
 * price depends on the date, the time of day or token tiers). Made by `npm run gen:prices` from the installed
 * package; test/usage/flat-prices.test.ts checks it is current and that a lookup here finds what calcPrice finds.
 *
 * Why: the package keeps its whole data set (every provider, every price change) in memory once loaded — ~3 MB of
 * resident memory and ~15,000 more live objects for every full garbage collection to mark. Models whose price
 * needs the package still load it (pricing.ts), as does the admin catalogue listing.
 */
import type { ModelCost } from "../providers/types.ts";

/** A genai-prices match rule. */
export type MatchRule =
  | { or: MatchRule[] }
  | { and: MatchRule[] }
  | { equals: string }
  | { starts_with: string }
  | { ends_with: string }
  | { contains: string }
  | { regex: string };

export interface FlatModel {
  id: string;
  match: MatchRule;
  /** flat prices per 1M tokens, or "calc" when only calcPrice can price it */
  price: ModelCost | "calc";
}

export interface FlatProvider {
  models: FlatModel[];
  fallback?: string[];
}

export type FlatPriceData = Record<string, FlatProvider>;

/** The package's match semantics: case-insensitive string rules, regexes as written. */
export function matches(rule: MatchRule, id: string): boolean {
  if ("or" in rule) return rule.or.some((r) => matches(r, id));
  if ("and" in rule) return rule.and.every((r) => matches(r, id));
  const lower = id.toLowerCase();
  if ("equals" in rule) return lower === rule.equals.toLowerCase();
  if ("starts_with" in rule) return lower.startsWith(rule.starts_with.toLowerCase());
  if ("ends_with" in rule) return lower.endsWith(rule.ends_with.toLowerCase());
  if ("contains" in rule) return lower.includes(rule.contains.toLowerCase());
  if ("regex" in rule) return new RegExp(rule.regex).test(id);
  return false;
}

function inProvider(data: FlatPriceData, p: FlatProvider, id: string, withFallback: boolean): FlatModel | undefined {
  const m = p.models.find((x) => matches(x.match, id));
  if (m || !withFallback || !p.fallback) return m;
  for (const f of p.fallback) {
    const fp = data[f];
    const fm = fp && inProvider(data, fp, id, false);
    if (fm) return fm;
  }
  return undefined;
}

/** "-20250514" → "-2025-05-14" (valid dates only), as the package retries a model id. */
const DATE = /(-)(20\d{2})(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?=-|:|$)/g;
function withDashedDates(id: string): string {
  return id.replace(DATE, (all, dash, y, m, d) => {
    const t = new Date(Date.UTC(Number(y), Number(m) - 1, Number(d)));
    return t.getUTCFullYear() !== Number(y) || t.getUTCMonth() !== Number(m) - 1 || t.getUTCDate() !== Number(d) ? all : `${dash}${y}-${m}-${d}`;
  });
}

/** The model calcPrice would price for this provider and model id; undefined when the catalogue has none. */
export function findFlatModel(data: FlatPriceData, providerId: string, modelId: string): FlatModel | undefined {
  const p = data[providerId];
  if (!p) return undefined;
  const id = modelId.toLowerCase().trim();
  const m = inProvider(data, p, id, true);
  if (m) return m;
  const dashed = withDashedDates(id);
  return dashed !== id ? inProvider(data, p, dashed, true) : undefined;
}
