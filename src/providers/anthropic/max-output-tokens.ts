/**
 * Anthropic requires `max_tokens` on every request; OpenAI clients usually omit it. The default is
 * the model's maximum output, so that a request without a limit behaves as on OpenAI (answer until
 * done): the model config (`maxOutputTokens`) wins, then this table of Claude families, then 4096 (the
 * smallest maximum of any Claude model, so it is always accepted).
 *
 * Figures from Anthropic's models overview ("Max output"). Patterns match the bare Anthropic id
 * (`claude-sonnet-4-5-20250929`), aliases (`claude-sonnet-4-5`), and the Bedrock / Vertex forms
 * (`anthropic.claude-sonnet-4-5-20250929-v1:0`, `claude-sonnet-4-5@20250929`). Order matters: the
 * first match wins, so newer minor versions come before their family. An unknown newer model falls
 * through to its family's older (smaller) figure, which is always accepted.
 *
 * @see https://docs.anthropic.com/en/docs/about-claude/models/overview
 */
export const CLAUDE_MAX_OUTPUT_TOKENS: ReadonlyArray<readonly [RegExp, number]> = [
  [/claude-(opus|sonnet)-4-6/, 128_000],
  [/claude-(opus|sonnet|haiku)-4-5/, 64_000],
  [/claude-opus-4/, 32_000], // Opus 4 and 4.1
  [/claude-sonnet-4/, 64_000],
  [/claude-3-7-sonnet/, 64_000],
  [/claude-3-5-(sonnet|haiku)/, 8_192],
  [/claude-3-(opus|sonnet|haiku)/, 4_096],
];

export const FALLBACK_MAX_OUTPUT_TOKENS = 4_096;

export function maxOutputTokens(model: { modelId: string; maxOutputTokens?: number }): number {
  if (typeof model.maxOutputTokens === "number" && model.maxOutputTokens > 0) return model.maxOutputTokens;
  const id = model.modelId.toLowerCase();
  for (const [pattern, tokens] of CLAUDE_MAX_OUTPUT_TOKENS) if (pattern.test(id)) return tokens;
  return FALLBACK_MAX_OUTPUT_TOKENS;
}
