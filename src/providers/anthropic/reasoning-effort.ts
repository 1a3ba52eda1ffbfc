/**
 * OpenAI `reasoning_effort` → Anthropic extended thinking (`thinking: {type: "enabled", budget_tokens}`).
 *
 * The budget is a share of `max_tokens` (thinking counts toward it): low 30 %, medium 60 %, high 90 %,
 * `minimal` the minimum, `none` no thinking. Anthropic requires 1024 ≤ budget_tokens < max_tokens, so a
 * budget is never under 1024, and when that minimum does not fit under the client's `max_tokens`,
 * `max_tokens` is raised to budget + the client's `max_tokens` (thinking, then an answer as long as the
 * client allowed) — noted in the log.
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#working-with-thinking-budgets
 */
import { badRequest } from "../../http/errors.ts";

export const MIN_THINKING_BUDGET = 1024;

export const EFFORT_SHARE: Readonly<Record<string, number>> = {
  minimal: 0,
  low: 0.3,
  medium: 0.6,
  high: 0.9,
};

export interface ThinkingPlan {
  thinking?: { type: "enabled"; budget_tokens: number };
  maxTokens: number;
  /** set when max_tokens had to be raised */
  raisedFrom?: number;
}

export function thinkingForEffort(effort: unknown, maxTokens: number): ThinkingPlan {
  if (effort == null || effort === "none") return { maxTokens };
  if (typeof effort !== "string" || !(effort in EFFORT_SHARE)) {
    throw badRequest(
      `reasoning_effort must be one of none, minimal, low, medium, high (got ${JSON.stringify(effort)})`,
      "reasoning_effort",
    );
  }
  const budget = Math.max(MIN_THINKING_BUDGET, Math.floor(maxTokens * EFFORT_SHARE[effort]!));
  if (budget < maxTokens) return { thinking: { type: "enabled", budget_tokens: budget }, maxTokens };
  return { thinking: { type: "enabled", budget_tokens: budget }, maxTokens: budget + maxTokens, raisedFrom: maxTokens };
}
