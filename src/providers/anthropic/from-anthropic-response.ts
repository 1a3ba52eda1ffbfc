/**
 * A non-streaming Anthropic Messages response → an OpenAI `chat.completion`.
 *
 * - text blocks → `message.content` (joined; null when there is none, as OpenAI does for tool calls);
 * - `tool_use` → `message.tool_calls` (Anthropic's `id` kept, `input` serialised as `arguments`);
 * - the gateway's structured-output tool (see to-anthropic-tools.ts) → `message.content` JSON text,
 *   finish_reason `stop`; any text the model wrote around it is left out so the content parses as JSON;
 * - `thinking` → `message.reasoning_content` (the text) and `message.thinking_blocks` (each block with
 *   its signature, `redacted_thinking` blocks with their data) — a client sends `thinking_blocks` back
 *   on the assistant message so multi-turn tool use with thinking keeps working;
 * - `refusal` → finish_reason `content_filter`, Anthropic's explanation in `message.refusal`;
 * - `model` is the model Anthropic reports; `id` is Anthropic's message id.
 *
 * @see https://docs.anthropic.com/en/api/messages
 */
import type { AnthropicMessage } from "./anthropic-types.ts";
import { convertAnthropicUsage } from "./convert-anthropic-usage.ts";
import { mapAnthropicStopReason } from "./map-anthropic-stop-reason.ts";

export interface FromAnthropicOptions {
  /** name of the structured-output tool the request added, if any */
  jsonTool?: string;
  /** unix seconds; defaults to now */
  created?: number;
}

export type ThinkingBlock = { type: "thinking"; thinking: string; signature: string } | { type: "redacted_thinking"; data: string };

export function fromAnthropicResponse(msg: AnthropicMessage, opts: FromAnthropicOptions = {}): Record<string, any> {
  const texts: string[] = [];
  const json: string[] = [];
  const reasoning: string[] = [];
  const thinkingBlocks: ThinkingBlock[] = [];
  const toolCalls: Array<{ id: string; type: "function"; function: { name: string; arguments: string } }> = [];

  for (const block of Array.isArray(msg.content) ? msg.content : []) {
    switch (block.type) {
      case "text":
        texts.push(String(block.text ?? ""));
        break;
      case "thinking":
        reasoning.push(String(block.thinking ?? ""));
        thinkingBlocks.push({ type: "thinking", thinking: String(block.thinking ?? ""), signature: String(block.signature ?? "") });
        break;
      case "redacted_thinking":
        thinkingBlocks.push({ type: "redacted_thinking", data: String(block.data ?? "") });
        break;
      case "tool_use":
        if (opts.jsonTool !== undefined && block.name === opts.jsonTool) json.push(JSON.stringify(block.input ?? {}));
        else {
          toolCalls.push({
            id: block.id,
            type: "function",
            function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
          });
        }
        break;
      // server tool blocks, citations-only blocks and future types carry nothing OpenAI can show
    }
  }

  const message: Record<string, any> = {
    role: "assistant",
    content: json.length > 0 ? json.join("") : texts.length > 0 ? texts.join("") : null,
    refusal: msg.stop_reason === "refusal" ? (msg.stop_details?.explanation ?? null) : null,
  };
  if (thinkingBlocks.length > 0) {
    message.reasoning_content = reasoning.join("");
    message.thinking_blocks = thinkingBlocks;
  }
  if (toolCalls.length > 0) message.tool_calls = toolCalls;

  return {
    id: msg.id,
    object: "chat.completion",
    created: opts.created ?? Math.floor(Date.now() / 1000),
    model: msg.model,
    choices: [
      {
        index: 0,
        message,
        logprobs: null,
        finish_reason: mapAnthropicStopReason(msg.stop_reason, { onlyJsonTool: json.length > 0 && toolCalls.length === 0 }),
      },
    ],
    usage: convertAnthropicUsage(msg.usage),
  };
}
