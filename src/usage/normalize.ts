/** OpenAI-shaped usage (as every adapter returns it) → the gateway's Usage. */
import type { Usage } from "../providers/types.ts";

/**
 * Reads `prompt_tokens` (which in OpenAI's sense already includes cached tokens), `completion_tokens`,
 * `prompt_tokens_details.cached_tokens`, `prompt_tokens_details.cache_creation_tokens` (set by the Anthropic
 * translator) and `completion_tokens_details.reasoning_tokens`. Embeddings report only prompt/total tokens.
 */
export function normalizeUsage(u: any): Usage | null {
  if (!u || typeof u !== "object") return null;
  const n = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : 0);
  return {
    promptTokens: n(u.prompt_tokens ?? u.input_tokens),
    completionTokens: n(u.completion_tokens ?? u.output_tokens),
    cachedTokens: n(u.prompt_tokens_details?.cached_tokens ?? u.input_tokens_details?.cached_tokens),
    cacheWriteTokens: n(u.prompt_tokens_details?.cache_creation_tokens),
    reasoningTokens: n(u.completion_tokens_details?.reasoning_tokens ?? u.output_tokens_details?.reasoning_tokens),
  };
}
