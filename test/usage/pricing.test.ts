import { describe, expect, test } from "bun:test";
import { calcPrice } from "@pydantic/genai-prices";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { sharedPath } from "../helpers/shared.ts";
import { convertAnthropicUsage } from "../../src/providers/anthropic/convert-anthropic-usage.ts";
import type { ModelRecord, ProviderKind, Target } from "../../src/providers/types.ts";
import { normalizeUsage, usageFromJsonText, withProvider } from "../../src/usage/normalize.ts";
import { configuredCost, costOf } from "../../src/usage/pricing.ts";
import { catalogue } from "../../src/usage/pricing.ts";

const target = (provider: ProviderKind, modelId: string, cost?: ModelRecord["cost"]): Target =>
  ({ account: { name: "a", provider } as any, model: { account: "a", name: "m", modelId, types: ["chat"], cost }, id: "a/m" }) as Target;

describe("usage", () => {
  test("usage is read from the text of every recorded OpenAI-compatible response as normalizeUsage reads the parsed body", () => {
    const dir = sharedPath("fixtures/recorded");
    let n = 0;
    for (const provider of readdirSync(dir)) {
      if (!statSync(join(dir, provider)).isDirectory()) continue;
      for (const f of readdirSync(join(dir, provider))) {
        if (!f.endsWith(".json")) continue;
        const text = readFileSync(join(dir, provider, f), "utf8");
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          continue;
        }
        if (!body || typeof body !== "object" || !("usage" in body)) continue;
        expect({ f, usage: usageFromJsonText(text) }).toEqual({ f, usage: normalizeUsage(body.usage) });
        n++;
      }
    }
    expect(n).toBeGreaterThan(3);
  });

  test("usage from text: details, the Responses names, spacing, fractions and odd shapes", () => {
    const cases: unknown[] = [
      { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15, prompt_tokens_details: { cached_tokens: 4, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 3, audio_tokens: 0, accepted_prediction_tokens: 0 } },
      { input_tokens: 7, output_tokens: 2, input_tokens_details: { cached_tokens: 1 }, output_tokens_details: { reasoning_tokens: 1 } },
      { prompt_tokens: 9, input_tokens: 3, completion_tokens: null, output_tokens: 4 },
      { prompt_tokens: 12, prompt_tokens_details: { cached_tokens: 2, cache_creation_tokens: 5, cache_creation_1h_tokens: 3 } },
      { prompt_tokens: 1.5e3, completion_tokens: -3, queue_time: 0.0123 },
      { prompt_tokens: 1, prompt_tokens_details: null, completion_tokens_details: {} },
      { prompt_tokens: 1, model: "x", completion_tokens: 2 },
      { prompt_tokens: 1, extra: { deep: { deeper: 1 } }, completion_tokens: 2 },
      { prompt_tokens: "12", completion_tokens: 2 },
      { prompt_tokens: 1, list: [1, 2], completion_tokens: 2 },
    ];
    for (const usage of cases) {
      const body = { id: "x", choices: [{ message: { content: 'say "usage":{"prompt_tokens":999}' } }], usage };
      for (const text of [JSON.stringify(body), JSON.stringify(body, null, 2)]) {
        expect(usageFromJsonText(text)).toEqual(normalizeUsage(usage));
      }
    }
    expect(usageFromJsonText('{"id":"x","usage":null}')).toBeNull();
    expect(usageFromJsonText('{"id":"x"}')).toBeNull();
    expect(usageFromJsonText("not json")).toBeNull();
    // a "usage" key inside message content (its quotes escaped) is not the body's
    const first = { usage: { prompt_tokens: 1, completion_tokens: 2 }, choices: [{ message: { content: '"usage":{"prompt_tokens":7}' } }] };
    expect(usageFromJsonText(JSON.stringify(first))).toEqual(normalizeUsage(first.usage));
  });

  test("withProvider adds the account without touching the rest", () => {
    const out = withProvider('{"id":"x","n":1.0}', "openai-main");
    expect(out).toBe('{"provider":"openai-main","id":"x","n":1.0}');
    expect(JSON.parse(withProvider("{}", "a"))).toEqual({ provider: "a" });
  });
});

describe("cost", () => {
  test("configured price: uncached input, cache reads, output", () => {
    const u = normalizeUsage({ prompt_tokens: 1000, completion_tokens: 100, prompt_tokens_details: { cached_tokens: 400 } })!;
    expect(configuredCost({ input: 0.3, output: 1.2, cache_read: 0.15 }, u)).toBeCloseTo((600 * 0.3 + 400 * 0.15 + 100 * 1.2) / 1e6, 15);
  });

  test("catalogue price equals genai-prices' own calculation (OpenAI, cached tokens)", () => {
    const u = normalizeUsage({ prompt_tokens: 5000, completion_tokens: 700, prompt_tokens_details: { cached_tokens: 2000 } })!;
    const expected = calcPrice({ input_tokens: 5000, output_tokens: 700, cache_read_tokens: 2000 }, "gpt-4o-mini", { providerId: "openai" })!.total_price;
    expect(costOf(target("openai", "gpt-4o-mini"), u)).toBeCloseTo(expected, 15);
    expect(costOf(target("openai-compatible", "llama"), u)).toBeNull();
    expect(costOf(target("openai", "no-such-model-xyz"), u)).toBeNull();
  });

  test("an Azure deployment whose name differs from the model is priced as the model it is named after", () => {
    const u = normalizeUsage({ prompt_tokens: 11, completion_tokens: 7 })!;
    const expected = calcPrice({ input_tokens: 11, output_tokens: 7 }, "gpt-4o-mini", { providerId: "azure" })!.total_price;
    const deployment = (name: string, modelId: string): Target =>
      ({ account: { name: "az", provider: "azure-openai" } as any, model: { account: "az", name, modelId, types: ["chat"] }, id: `az/${name}` }) as Target;
    expect(expected).toBeGreaterThan(0);
    expect(costOf(deployment("gpt-4o-mini", "my-4o-mini-deployment"), u)).toBeCloseTo(expected, 15);
    // the upstream id first: a deployment named after one model but serving a known other is priced as that one
    const other = calcPrice({ input_tokens: 11, output_tokens: 7 }, "gpt-4o", { providerId: "azure" })!.total_price;
    expect(costOf(deployment("gpt-4o-mini", "gpt-4o"), u)).toBeCloseTo(other, 15);
    expect(costOf(deployment("my-bot", "my-deployment"), u)).toBeNull();
  });

  test("Anthropic cache writes: 5-minute and 1-hour priced apart (Sonnet 4: 3.75 vs 6 USD per 1M)", () => {
    const anthropicUsage = {
      input_tokens: 100,
      cache_read_input_tokens: 2000,
      cache_creation_input_tokens: 1500,
      cache_creation: { ephemeral_5m_input_tokens: 500, ephemeral_1h_input_tokens: 1000 },
      output_tokens: 50,
    };
    const openai = convertAnthropicUsage(anthropicUsage);
    expect(openai.prompt_tokens).toBe(3600);
    expect(openai.prompt_tokens_details).toEqual({ cached_tokens: 2000, cache_creation_tokens: 1500, cache_creation_1h_tokens: 1000 });
    const u = normalizeUsage(openai)!;
    const cost = costOf(target("anthropic", "claude-sonnet-4-20250514"), u)!;
    expect(cost).toBeCloseTo((100 * 3 + 2000 * 0.3 + 500 * 3.75 + 1000 * 6 + 50 * 15) / 1e6, 15);
    const lib = calcPrice(
      { input_tokens: 3600, cache_read_tokens: 2000, cache_write_tokens: 1500, cache_write_1h_tokens: 1000, output_tokens: 50 },
      "claude-sonnet-4-20250514",
      { providerId: "anthropic" },
    )!.total_price;
    expect(cost).toBeCloseTo(lib, 15);
    // configured prices: cache_write_1h defaults to cache_write
    expect(configuredCost({ input: 1, output: 1, cache_write: 2 }, u)).toBeCloseTo((100 + 2000 + 1500 * 2 + 50) / 1e6, 15);
  });
});

test("the google-gemini catalogue lists Google's models only; google-vertex also the Claude models Vertex AI serves", () => {
  const gemini = catalogue("google-gemini")!.map((m) => m.id);
  const vertex = catalogue("google-vertex")!.map((m) => m.id);
  expect(gemini.some((id) => id.startsWith("gemini"))).toBe(true);
  expect(gemini.some((id) => /claude/i.test(id))).toBe(false);
  expect(vertex.some((id) => /claude/i.test(id))).toBe(true);
});
