/**
 * The generated flat-price table against the package it is made from: it must be current, and a lookup in it must
 * find, for every model id we can think of, what calcPrice finds (or tell the caller to ask calcPrice).
 */
import { calcPrice } from "@pydantic/genai-prices";
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildFlatPrices } from "../../scripts/gen-prices.ts";
import { findFlatModel, type FlatPriceData, type MatchRule } from "../../src/usage/flat-prices.ts";
import { CATALOGUE_PROVIDER } from "../../src/usage/pricing.ts";

const table: FlatPriceData = JSON.parse(readFileSync(join(import.meta.dir, "../../src/usage/flat-prices.gen.json"), "utf8"));

test("flat-prices.gen.json is what `npm run gen:prices` makes from the installed package", () => {
  expect(table).toEqual(buildFlatPrices());
});

/** What pricing.ts did before the table: calcPrice's model price, flat or not. */
function viaCalcPrice(providerId: string, modelId: string) {
  const r = calcPrice({ input_tokens: 0, output_tokens: 0 }, modelId, { providerId });
  if (!r) return null;
  const mp: any = r.model_price;
  const fields = ["input_mtok", "output_mtok", "cache_read_mtok", "cache_write_mtok", "cache_write_1h_mtok"];
  const flat = !Array.isArray((r.model as any).prices) && fields.every((f) => mp[f] === undefined || typeof mp[f] === "number");
  if (!flat) return "calc";
  const out: Record<string, number> = {};
  for (const [k, f] of [["input", "input_mtok"], ["output", "output_mtok"], ["cache_read", "cache_read_mtok"], ["cache_write", "cache_write_mtok"], ["cache_write_1h", "cache_write_1h_mtok"]] as const) {
    if (mp[f] !== undefined) out[k] = mp[f];
  }
  return out;
}

function strings(rule: MatchRule): string[] {
  if ("or" in rule) return rule.or.flatMap(strings);
  if ("and" in rule) return rule.and.flatMap(strings);
  if ("regex" in rule) return [];
  return [Object.values(rule)[0] as string];
}

test("a lookup in the table finds what calcPrice finds, for every catalogue model and its variants", () => {
  let checked = 0;
  for (const providerId of new Set(Object.values(CATALOGUE_PROVIDER).filter((p): p is string => !!p))) {
    const ids = new Set<string>(["gpt-4o-mini", "claude-sonnet-4-5", "no-such-model", "llama-3.3-70b-versatile"]);
    const providers = [providerId, ...(table[providerId]!.fallback ?? [])];
    for (const p of providers) {
      for (const m of table[p]!.models) {
        for (const s of [m.id, ...strings(m.match)]) {
          for (const v of [s, s.toUpperCase(), ` ${s} `, `${s}-20250514`, `${s}-2024-08-06`, `${s}-latest`, `${s}:0`, `us.${s}`]) ids.add(v);
        }
      }
    }
    for (const id of ids) {
      const expected = viaCalcPrice(providerId, id);
      const got = findFlatModel(table, providerId, id)?.price ?? null;
      expect({ providerId, id, price: got }).toEqual({ providerId, id, price: expected as any });
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(2000);
});
