/**
 * Cost in USD of one request: the model's configured price when it has one, else the @pydantic/genai-prices
 * catalogue. Cached reads and cache writes are priced separately (prompt tokens include both).
 */
import type * as GenaiPrices from "@pydantic/genai-prices";

/**
 * The catalogue package is loaded only when needed (~3 MB resident in the compiled binary, ~20 MB from source): for
 * a model whose catalogue price needs calcPrice (date, time of day or token tiers) and for the admin catalogue
 * listing. Flat prices come from the generated table (flat-prices.ts).
 */
let lib: typeof GenaiPrices | undefined;
const prices = (): typeof GenaiPrices => (lib ??= require("@pydantic/genai-prices") as typeof GenaiPrices);
import type { ModelCost, ModelRecord, ProviderKind, Target, Usage } from "../providers/types.ts";
import { findFlatModel, type FlatPriceData } from "./flat-prices.ts";

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
 * records, so a changed model id is looked up again) in the generated table (flat-prices.ts), which spares loading
 * the whole catalogue. Models whose prices depend on the date, the time of day or token tiers ("calc") are priced
 * by calcPrice itself on every request.
 */
const flatPrices = new WeakMap<ModelRecord, CataloguePrice | null>();
let flatTable: FlatPriceData | undefined;

/** A model's catalogue price and the catalogue id it was found under. */
interface CataloguePrice {
  price: ModelCost | "calc";
  id: string;
}

/**
 * Looked up by the upstream model id, else by the model's name: an Azure deployment (`model_id: my-4o-mini`) is
 * priced as the model it is named after (`name: gpt-4o-mini`).
 */
function catalogueCost(providerId: string, model: ModelRecord): CataloguePrice | null {
  let p = flatPrices.get(model);
  if (p === undefined) {
    flatTable ??= require("./flat-prices.gen.json") as FlatPriceData;
    p = null;
    for (const id of model.name === model.modelId ? [model.modelId] : [model.modelId, model.name]) {
      const found = findFlatModel(flatTable, providerId, id);
      if (found) {
        p = { price: found.price, id };
        break;
      }
    }
    flatPrices.set(model, p);
  }
  return p;
}

export function costOf(target: Target, u: Usage): number | null {
  if (target.model.cost) return configuredCost(target.model.cost, u);
  const providerId = CATALOGUE_PROVIDER[target.account.provider];
  if (!providerId) return null;
  try {
    const found = catalogueCost(providerId, target.model);
    if (found === null) return null;
    if (found.price !== "calc") return configuredCost(found.price, u);
    const r = prices().calcPrice(
      {
        input_tokens: u.promptTokens,
        output_tokens: u.completionTokens,
        cache_read_tokens: u.cachedTokens || undefined,
        cache_write_tokens: u.cacheWriteTokens || undefined,
        cache_write_1h_tokens: u.cacheWrite1hTokens || undefined,
      },
      found.id,
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
    // the catalogue's Google list holds the models Vertex AI serves, Anthropic's among them; the Gemini API serves
    // Google's own only
    .filter((m) => !m.deprecated && !(kind === "google-gemini" && /^claude/i.test(m.id)))
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
