import type { AnthropicStopReason } from "./anthropic-types.ts";

export type OpenAIFinishReason = "stop" | "length" | "tool_calls" | "content_filter";

/**
 * Anthropic `stop_reason` → OpenAI `finish_reason`.
 *
 * - `end_turn`, `stop_sequence` → `stop`.
 * - `max_tokens`, `model_context_window_exceeded` → `length` (the answer is cut off either way).
 * - `tool_use` → `tool_calls`, except when the only tool used is the gateway's own JSON-output tool
 *   (structured output through a forced tool): then the client sees JSON content and `stop`.
 * - `refusal` → `content_filter` (Anthropic's classifiers declined; OpenAI uses the same reason).
 * - `pause_turn` → `stop`. Anthropic pauses a long server-tool loop (web search and the like) and
 *   expects the caller to send the assistant content back to continue. OpenAI has no "paused" reason;
 *   the content so far is a valid prefix and a client continues by sending it back as the last
 *   assistant message, which the request translator forwards unchanged (Anthropic then resumes).
 *   The gateway only forwards function tools, so in practice this only happens with server tools
 *   added by an account's extra configuration.
 * - anything newer than this list → `stop` (the response itself is still valid).
 *
 * @see https://docs.anthropic.com/en/api/messages#response-stop-reason
 * @see https://docs.anthropic.com/en/docs/build-with-claude/handling-stop-reasons
 */
export function mapAnthropicStopReason(
  reason: AnthropicStopReason | null | undefined,
  opts: { onlyJsonTool?: boolean } = {},
): OpenAIFinishReason {
  if (reason == null) return "stop";
  switch (reason) {
    case "end_turn":
    case "stop_sequence":
    case "pause_turn":
      return "stop";
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return opts.onlyJsonTool ? "stop" : "tool_calls";
    case "refusal":
      return "content_filter";
    default: {
      // compile-time exhaustiveness; at run time a newer reason falls back to "stop"
      const unknown: never = reason;
      void unknown;
      return "stop";
    }
  }
}
