/**
 * Cost in USD of one request: the model's configured price when it has one, else the @pydantic/genai-prices
 * catalogue. Cached reads and cache writes are priced separately (prompt tokens include both).
 */
import type * as GenaiPrices from "@pydantic/genai-prices";

/**
 * The catalogue is loaded on first use (~20 MB of memory): a gateway whose models all have configured prices never
 * loads it.
 */
let lib: typeof GenaiPrices | undefined;
const prices = (): typeof GenaiPrices => (lib ??= require("@pydantic/genai-prices") as typeof GenaiPrices);
import type { ModelCost, ModelRecord, ProviderKind, Target, Usage } from "../providers/types.ts";

/** Our provider kinds → the catalogue's provider ids. Self-hosted servers have no catalogue price. */
export const CATALOGUE_PROVIDER: Record<ProviderKind, string | undefined> = {
  openai: "openai",
  "azure-openai": "azure",
  groq: "groq",
  anthropic: "anthropic",
  "google-gemini": "google",
  "google-vertex": "google",
  "aws-bedrock": "aws",
  "openai-compatible": undefined,
};

export function configuredCost(cost: ModelCost, u: Usage): number {
  const input = cost.input ?? 0;
  const uncached = Math.max(0, u.promptTokens - u.cachedTokens - u.cacheWriteTokens);
  const write1h = Math.min(u.cacheWrite1hTokens, u.cacheWriteTokens);
  const cacheWrite = cost.cache_write ?? input;
  return (
    (uncached * input +
      u.cachedTokens * (cost.cache_read ?? input) +
      (u.cacheWriteTokens - write1h) * cacheWrite +
      write1h * (cost.cache_write_1h ?? cacheWrite) +
      u.completionTokens * (cost.output ?? 0)) /
    1_000_000
  );
}

/**
 * The catalogue's flat per-1M prices of a model, looked up once per model record (a registry reload makes new
 * records, so a changed model id is looked up again). Models whose prices depend on the date or on token tiers are
 * priced by calcPrice itself on every request.
 */
const flatPrices = new WeakMap<ModelRecord, ModelCost | "calc" | null>();

function catalogueCost(providerId: string, model: ModelRecord): ModelCost | "calc" | null {
  let p = flatPrices.get(model);
  if (p === undefined) {
    const r = prices().calcPrice({ input_tokens: 0, output_tokens: 0 }, model.modelId, { providerId });
    const mp = r?.model_price;
    const flat =
      mp &&
      [mp.input_mtok, mp.output_mtok, mp.cache_read_mtok, mp.cache_write_mtok, mp.cache_write_1h_mtok].every(
        (v) => v === undefined || typeof v === "number",
      );
    p = !r ? null : flat && !Array.isArray(r.model.prices)
      ? {
          input: mp!.input_mtok as number | undefined,
          output: mp!.output_mtok as number | undefined,
          cache_read: mp!.cache_read_mtok as number | undefined,
          cache_write: mp!.cache_write_mtok as number | undefined,
          cache_write_1h: mp!.cache_write_1h_mtok as number | undefined,
        }
      : "calc";
    flatPrices.set(model, p);
  }
  return p;
}

export function costOf(target: Target, u: Usage): number | null {
  if (target.model.cost) return configuredCost(target.model.cost, u);
  const providerId = CATALOGUE_PROVIDER[target.account.provider];
  if (!providerId) return null;
  try {
    const flat = catalogueCost(providerId, target.model);
    if (flat === null) return null;
    if (flat !== "calc") return configuredCost(flat, u);
    const r = prices().calcPrice(
      {
        input_tokens: u.promptTokens,
        output_tokens: u.completionTokens,
        cache_read_tokens: u.cachedTokens || undefined,
        cache_write_tokens: u.cacheWriteTokens || undefined,
        cache_write_1h_tokens: u.cacheWrite1hTokens || undefined,
      },
      target.model.modelId,
      { providerId },
    );
    return r ? r.total_price : null;
  } catch {
    return null;
  }
}

export interface CatalogueEntry {
  id: string;
  name?: string;
  context_window?: number;
  /** USD per 1M tokens */
  input?: number;
  output?: number;
  cache_read?: number;
  cache_write?: number;
  cache_write_1h?: number;
}

const perM = (v: unknown) => (typeof v === "number" ? v : v && typeof v === "object" && "base" in v ? (v as any).base : undefined);

export function catalogue(kind: ProviderKind): CatalogueEntry[] | undefined {
  const id = CATALOGUE_PROVIDER[kind];
  const p = id ? prices().findProvider({ providerId: id }) : undefined;
  if (!p) return undefined;
  return p.models
    .filter((m) => !m.deprecated)
    .map((m) => {
      const prices = Array.isArray(m.prices) ? (m.prices.at(-1)?.prices ?? {}) : m.prices;
      return {
        id: m.id,
        name: m.name,
        context_window: m.context_window,
        input: perM(prices.input_mtok),
        output: perM(prices.output_mtok),
        cache_read: perM(prices.cache_read_mtok),
        cache_write: perM(prices.cache_write_mtok),
        cache_write_1h: perM(prices.cache_write_1h_mtok),
      };
    });
}
