/**
 * The parts of Anthropic's Messages API wire format the translators read and write.
 * Kept loose (extra fields allowed) because Anthropic adds fields often and the translators
 * must pass through what they do not understand rather than reject it.
 *
 * @see https://docs.anthropic.com/en/api/messages
 */

export type AnthropicStopReason =
  | "end_turn"
  | "max_tokens"
  | "stop_sequence"
  | "tool_use"
  | "pause_turn"
  | "refusal"
  | "model_context_window_exceeded";

export interface CacheControl {
  type: "ephemeral";
  ttl?: "5m" | "1h";
}

export interface AnthropicUsage {
  input_tokens?: number | null;
  output_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
  /** the cache writes split by TTL (1-hour writes cost more than 5-minute ones) */
  cache_creation?: { ephemeral_5m_input_tokens?: number | null; ephemeral_1h_input_tokens?: number | null } | null;
  [key: string]: unknown;
}

export type AnthropicContentBlock =
  | { type: "text"; text: string; cache_control?: CacheControl; [k: string]: unknown }
  | { type: "image"; source: Record<string, unknown>; cache_control?: CacheControl }
  | { type: "document"; source: Record<string, unknown>; cache_control?: CacheControl; [k: string]: unknown }
  | { type: "tool_use"; id: string; name: string; input: unknown; cache_control?: CacheControl }
  | {
      type: "tool_result";
      tool_use_id: string;
      content?: string | AnthropicContentBlock[];
      is_error?: boolean;
      cache_control?: CacheControl;
    }
  | { type: "thinking"; thinking: string; signature: string }
  | { type: "redacted_thinking"; data: string };

export interface AnthropicMessageParam {
  role: "user" | "assistant";
  content: string | AnthropicContentBlock[];
}

export interface AnthropicTool {
  name: string;
  description?: string;
  input_schema: Record<string, unknown>;
  cache_control?: CacheControl;
}

export type AnthropicToolChoice =
  | { type: "auto"; disable_parallel_tool_use?: boolean }
  | { type: "any"; disable_parallel_tool_use?: boolean }
  | { type: "tool"; name: string; disable_parallel_tool_use?: boolean }
  | { type: "none" };

export interface AnthropicRequestBody {
  model: string;
  max_tokens: number;
  messages: AnthropicMessageParam[];
  system?: string | Array<{ type: "text"; text: string; cache_control?: CacheControl }>;
  tools?: AnthropicTool[];
  tool_choice?: AnthropicToolChoice;
  stop_sequences?: string[];
  temperature?: number;
  top_p?: number;
  top_k?: number;
  metadata?: { user_id?: string };
  thinking?: { type: string; budget_tokens?: number; [k: string]: unknown };
  stream?: boolean;
}

/** A non-streaming Messages API response. */
export interface AnthropicMessage {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: Array<{ type: string; [k: string]: any }>;
  stop_reason: AnthropicStopReason | null;
  stop_sequence?: string | null;
  stop_details?: { type?: string; explanation?: string; [k: string]: unknown } | null;
  usage: AnthropicUsage;
}

/** One parsed SSE event of a streaming Messages API response (the SSE event name equals `type`). */
export type AnthropicStreamEvent = { type: string; [k: string]: any };
