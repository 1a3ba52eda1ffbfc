/**
 * Writes src/usage/flat-prices.gen.json from the installed @pydantic/genai-prices: for each provider the gateway
 * prices from the catalogue (and the providers they fall back to), each model's match rule and flat prices.
 * Run after upgrading the package: npm run gen:prices (a test fails while the file is out of date).
 */
import { findProvider } from "@pydantic/genai-prices";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CATALOGUE_PROVIDER } from "../src/usage/pricing.ts";
import type { FlatPriceData, FlatModel } from "../src/usage/flat-prices.ts";

const FIELDS = ["input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok"] as const;

export function buildFlatPrices(): FlatPriceData {
  const data: FlatPriceData = {};
  const queue = [...new Set(Object.values(CATALOGUE_PROVIDER).filter((p): p is string => !!p))];
  while (queue.length) {
    const id = queue.shift()!;
    if (data[id]) continue;
    const p = findProvider({ providerId: id }) as any;
    if (!p) continue;
    const models: FlatModel[] = p.models.map((m: any) => {
      const prices = m.prices;
      const flat = !Array.isArray(prices) && FIELDS.every((f) => prices[f] === undefined || typeof prices[f] === "number");
      const price: FlatModel["price"] = flat
        ? Object.fromEntries(
            [
              ["input", prices.input_mtok],
              ["output", prices.output_mtok],
              ["cache_read", prices.cache_read_mtok],
              ["cache_write", prices.cache_write_mtok],
              ["cache_write_1h", prices.cache_write_1h_mtok],
            ].filter(([, v]) => v !== undefined),
          )
        : "calc";
      return { id: m.id, match: m.match, price };
    });
    data[id] = { models, ...(p.fallback_model_providers?.length ? { fallback: p.fallback_model_providers } : {}) };
    // a fallback provider is searched without its own fallbacks
    for (const f of p.fallback_model_providers ?? []) if (!data[f]) queue.push(f);
  }
  return data;
}

if (import.meta.main) {
  const out = join(import.meta.dir, "../src/usage/flat-prices.gen.json");
  writeFileSync(out, JSON.stringify(buildFlatPrices()) + "\n");
  console.log(`wrote ${out}`);
}
