import type { AnthropicUsage } from "./anthropic-types.ts";

/** OpenAI's usage object, plus `cache_creation_tokens` (OpenAI has no cache writes; the core reads it for cost). */
export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** `cache_creation_1h_tokens` (part of cache_creation_tokens) only when the prompt wrote to a 1-hour cache */
  prompt_tokens_details: { cached_tokens: number; cache_creation_tokens: number; cache_creation_1h_tokens?: number };
  completion_tokens_details: { reasoning_tokens: number };
}

/**
 * Anthropic usage → OpenAI usage.
 *
 * Anthropic's `input_tokens` counts only the uncached part of the prompt; tokens read from the cache
 * and tokens written to it are reported separately. OpenAI's `prompt_tokens` is the whole prompt, with
 * the cached part repeated in `prompt_tokens_details.cached_tokens`. So the prompt is the sum of the
 * three, and cost must price the three parts separately (input, cache read, cache write) — pricing
 * `prompt_tokens` at the input rate would over-bill cache reads and under-bill cache writes.
 *
 * Anthropic does not split thinking tokens out of `output_tokens`, so `reasoning_tokens` is 0
 * (they are billed as output, which `completion_tokens` already includes).
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#tracking-cache-performance
 */
export function convertAnthropicUsage(usage: AnthropicUsage | null | undefined): OpenAIUsage {
  const input = num(usage?.input_tokens);
  const cacheRead = num(usage?.cache_read_input_tokens);
  const cacheWrite = num(usage?.cache_creation_input_tokens);
  const output = num(usage?.output_tokens);
  const prompt = input + cacheRead + cacheWrite;
  // 1-hour cache writes are priced at 2x input, 5-minute ones at 1.25x: the split must reach the cost
  const write1h = num(usage?.cache_creation?.ephemeral_1h_input_tokens);
  const details: OpenAIUsage["prompt_tokens_details"] = { cached_tokens: cacheRead, cache_creation_tokens: cacheWrite };
  if (write1h > 0) details.cache_creation_1h_tokens = write1h;
  return {
    prompt_tokens: prompt,
    completion_tokens: output,
    total_tokens: prompt + output,
    prompt_tokens_details: details,
    completion_tokens_details: { reasoning_tokens: 0 },
  };
}

/**
 * Streams report usage in two places: `message_start.message.usage` has the input and cache counts
 * (and a provisional output count), `message_delta.usage` has the cumulative output count and may
 * repeat the input counts. Later non-null numbers win; absent or null fields keep the earlier value.
 */
export function mergeAnthropicUsage(base: AnthropicUsage, update: AnthropicUsage | null | undefined): AnthropicUsage {
  if (!update) return base;
  const merged: AnthropicUsage = { ...base };
  for (const key of ["input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"] as const) {
    const value = update[key];
    if (typeof value === "number") merged[key] = value;
  }
  if (update.cache_creation) merged.cache_creation = update.cache_creation;
  return merged;
}

const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : 0);
