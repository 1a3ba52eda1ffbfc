/**
 * OpenAI `messages` → Anthropic `system` + `messages`.
 *
 * Anthropic's rules, and how OpenAI's freer conversation is fitted to them:
 * - There is no system role: `system` and `developer` messages (wherever they appear) become the
 *   top-level `system`, a string, or text blocks when any of them carries `cache_control`.
 * - Roles alternate user/assistant: consecutive messages of the same role are merged into one turn.
 * - Tool results are `tool_result` blocks at the start of the user turn right after the assistant turn
 *   that called the tools: `tool` messages become such blocks, grouped into one user turn (and put
 *   before any text a user message adds to that turn).
 * - The first message must be from the user: a conversation that opens with an assistant message
 *   (a greeting in a chat UI) gets a "." user turn in front, noted in the log. A conversation made
 *   only of system messages sends them as the user turn (OpenAI accepts that, Anthropic would not).
 * - Assistant `tool_calls` → `tool_use` blocks (arguments parsed; invalid JSON → 400 naming the message).
 * - Tool-call ids are mapped to the characters Anthropic accepts, the same way for calls and results
 *   (see tool-use-ids.ts), noted in the log when one changed.
 * - Text that is empty or only whitespace is left out (Anthropic rejects a message whose text is only
 *   whitespace; see to-anthropic-content.ts); a message left with nothing is dropped, and its neighbours
 *   of the same role merged as above. When the conversation's last message is a user message with no
 *   content left, dropping it would make the assistant turn before it a prefill (or leave nothing to
 *   answer): that is a 400 naming `messages[i].content` instead.
 * - Thinking blocks a client sends back (`thinking_blocks`, or `reasoning_content` with
 *   `reasoning_signature`/`signature`) come first in the assistant turn, as Anthropic requires for
 *   tool use with thinking (when the tool turn being answered has none, to-anthropic-request.ts leaves
 *   thinking off for the request). Reasoning text without a signature is left out: Anthropic rejects
 *   unsigned thinking and ignores earlier turns' thinking anyway.
 * - A final assistant message (prefill) may not end with whitespace: it is trimmed.
 * - `cache_control` on a message goes on its last block.
 *
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use
 * @see https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#preserving-thinking-blocks
 */
import { badRequest } from "../../http/errors.ts";
import type { AnthropicContentBlock, AnthropicMessageParam, AnthropicRequestBody } from "./anthropic-types.ts";
import { toAnthropicContent, type TranslationAcc } from "./to-anthropic-content.ts";
import { TOOL_IDS_REWRITTEN_NOTE, ToolUseIds } from "./tool-use-ids.ts";

export const LEADING_USER_PLACEHOLDER = ".";

type Turn = { role: "user" | "assistant"; blocks: AnthropicContentBlock[] };
type SystemBlock = { type: "text"; text: string; cache_control?: any };

export function toAnthropicMessages(
  messages: unknown[],
  acc: TranslationAcc,
): { system?: AnthropicRequestBody["system"]; messages: AnthropicMessageParam[] } {
  const system: SystemBlock[] = [];
  const turns: Turn[] = [];
  const ids = new ToolUseIds(); // its maps are made when the first tool call or result comes
  /** index of the last non-system message when it is a user message with no content left, else -1 */
  let blankLastUser = -1;
  const push = (role: Turn["role"], blocks: AnthropicContentBlock[]) => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    if (last && last.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  };

  messages.forEach((raw, i) => {
    const path = `messages[${i}]`;
    const m = raw as Record<string, any>;
    if (!m || typeof m !== "object") throw badRequest(`${path} must be an object`, path);
    switch (m.role) {
      case "system":
      case "developer": {
        const blocks = toAnthropicContent(m.content, `${path}.content`, "system", acc) as SystemBlock[];
        system.push(...withMessageCacheControl(blocks, m.cache_control));
        return;
      }
      case "user": {
        const blocks = toAnthropicContent(m.content, `${path}.content`, "user", acc);
        blankLastUser = blocks.length === 0 ? i : -1;
        push("user", withMessageCacheControl(blocks, m.cache_control));
        return;
      }
      case "assistant":
        blankLastUser = -1;
        push("assistant", assistantBlocks(m, path, acc, ids));
        return;
      case "tool":
        blankLastUser = -1;
        push("user", [toolResultBlock(m, path, acc, ids)]);
        return;
      case "function":
        throw badRequest(`${path}: role 'function' is deprecated and not supported; use tools`, `${path}.role`);
      default:
        throw badRequest(`${path}.role '${String(m.role)}' is not supported`, `${path}.role`);
    }
  });

  if (ids.changed) acc.notes.push(TOOL_IDS_REWRITTEN_NOTE);
  // (with nothing at all to send, the error below says so)
  if (blankLastUser >= 0 && (turns.length > 0 || system.length > 0) && turns[turns.length - 1]?.role !== "user") {
    const param = `messages[${blankLastUser}].content`;
    throw badRequest(`${param} is empty or only whitespace: the last message must have content (Anthropic rejects text that is only whitespace)`, param);
  }
  if (turns.length === 0) {
    if (system.length === 0) throw badRequest("messages must contain at least one non-empty message", "messages");
    acc.notes.push("the conversation had only system messages: sent them as the user turn (Anthropic needs one)");
    turns.push({ role: "user", blocks: system.splice(0) });
  }
  if (turns[0]!.role !== "user") {
    acc.notes.push("the conversation opened with an assistant message: added a '.' user turn before it (Anthropic requires user first)");
    turns.unshift({ role: "user", blocks: [{ type: "text", text: LEADING_USER_PLACEHOLDER }] });
  }
  trimFinalAssistant(turns);

  return {
    system: systemParam(system),
    messages: turns.map((t) => ({ role: t.role, content: compact(t.role === "user" ? toolResultsFirst(t.blocks) : t.blocks) })),
  };
}

function assistantBlocks(m: Record<string, any>, path: string, acc: TranslationAcc, ids: ToolUseIds): AnthropicContentBlock[] {
  if (m.function_call != null) {
    throw badRequest(`${path}.function_call is deprecated and not supported; use tool_calls`, `${path}.function_call`);
  }
  const thinking = thinkingBlocks(m, path);
  const content = withMessageCacheControl(toAnthropicContent(m.content, `${path}.content`, "assistant", acc), m.cache_control);
  const toolUses: AnthropicContentBlock[] = [];
  if (m.tool_calls != null) {
    if (!Array.isArray(m.tool_calls)) throw badRequest(`${path}.tool_calls must be an array`, `${path}.tool_calls`);
    m.tool_calls.forEach((call: any, j: number) => toolUses.push(toolUseBlock(call, `${path}.tool_calls[${j}]`, ids)));
  }
  return [...thinking, ...content, ...toolUses];
}

function thinkingBlocks(m: Record<string, any>, path: string): AnthropicContentBlock[] {
  if (Array.isArray(m.thinking_blocks)) {
    return m.thinking_blocks.map((b: any, j: number): AnthropicContentBlock => {
      const p = `${path}.thinking_blocks[${j}]`;
      if (b?.type === "thinking" && typeof b.thinking === "string" && typeof b.signature === "string") {
        return { type: "thinking", thinking: b.thinking, signature: b.signature };
      }
      if (b?.type === "redacted_thinking" && typeof b.data === "string") return { type: "redacted_thinking", data: b.data };
      throw badRequest(
        `${p} must be {type:"thinking", thinking, signature} or {type:"redacted_thinking", data}`,
        p,
      );
    });
  }
  const signature = m.reasoning_signature ?? m.signature;
  if (typeof m.reasoning_content === "string" && typeof signature === "string" && signature !== "") {
    return [{ type: "thinking", thinking: m.reasoning_content, signature }];
  }
  return [];
}

function toolUseBlock(call: any, path: string, ids: ToolUseIds): AnthropicContentBlock {
  if (!call || typeof call !== "object") throw badRequest(`${path} must be an object`, path);
  if (call.type != null && call.type !== "function") {
    throw badRequest(`${path}.type '${String(call.type)}' is not supported`, `${path}.type`);
  }
  if (typeof call.id !== "string" || call.id === "") throw badRequest(`${path}.id must be a non-empty string`, `${path}.id`);
  const fn = call.function;
  if (typeof fn?.name !== "string" || fn.name === "") {
    throw badRequest(`${path}.function.name must be a non-empty string`, `${path}.function.name`);
  }
  return { type: "tool_use", id: ids.map(call.id), name: fn.name, input: parseArguments(fn.arguments, `${path}.function.arguments`) };
}

/** Tool-call arguments are a JSON string in OpenAI's format; Anthropic wants the object. */
function parseArguments(args: unknown, param: string): Record<string, unknown> {
  if (args == null || args === "") return {};
  let value: unknown = args;
  if (typeof args === "string") {
    try {
      value = JSON.parse(args);
    } catch (err: any) {
      throw badRequest(`${param} is not valid JSON: ${err?.message ?? "parse error"}`, param);
    }
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest(`${param} must be a JSON object`, param);
  }
  return value as Record<string, unknown>;
}

function toolResultBlock(m: Record<string, any>, path: string, acc: TranslationAcc, ids: ToolUseIds): AnthropicContentBlock {
  if (typeof m.tool_call_id !== "string" || m.tool_call_id === "") {
    throw badRequest(`${path}.tool_call_id must be a non-empty string`, `${path}.tool_call_id`);
  }
  const blocks = toAnthropicContent(m.content, `${path}.content`, "tool", acc);
  const block: AnthropicContentBlock = { type: "tool_result", tool_use_id: ids.map(m.tool_call_id) };
  const content = compact(blocks);
  if (content !== "" && !(Array.isArray(content) && content.length === 0)) block.content = content;
  if (m.is_error === true) block.is_error = true;
  if (m.cache_control != null) block.cache_control = m.cache_control;
  return block;
}

function withMessageCacheControl<T extends AnthropicContentBlock>(blocks: T[], cacheControl: unknown): T[] {
  if (cacheControl == null || blocks.length === 0) return blocks;
  const last = blocks[blocks.length - 1] as any;
  if (last.cache_control == null) last.cache_control = cacheControl;
  return blocks;
}

function systemParam(blocks: SystemBlock[]): AnthropicRequestBody["system"] {
  if (blocks.length === 0) return undefined;
  if (blocks.some((b) => b.cache_control != null)) return blocks;
  return blocks.map((b) => b.text).join("\n");
}

/** Anthropic: "tool_result blocks must come first in the content array". Stable, so results keep their order. */
function toolResultsFirst(blocks: AnthropicContentBlock[]): AnthropicContentBlock[] {
  if (!blocks.some((b) => b.type === "tool_result")) return blocks;
  return [...blocks.filter((b) => b.type === "tool_result"), ...blocks.filter((b) => b.type !== "tool_result")];
}

function trimFinalAssistant(turns: Turn[]) {
  const last = turns[turns.length - 1];
  if (!last || last.role !== "assistant") return;
  const block = last.blocks[last.blocks.length - 1];
  if (block?.type !== "text") return;
  block.text = block.text.trimEnd();
  if (block.text === "") last.blocks.pop();
  if (last.blocks.length === 0) turns.pop();
}

/** A single plain text block is sent as a string, as in Anthropic's own examples. */
function compact(blocks: AnthropicContentBlock[]): string | AnthropicContentBlock[] {
  const only = blocks[0];
  if (blocks.length === 1 && only!.type === "text" && only.cache_control == null) return only.text;
  return blocks;
}
