/**
 * An OpenAI chat-completions request → an Anthropic Messages API request body, the `anthropic-beta`
 * values it needs, and notes for the request log. Pure: no I/O, throws `badRequest` (400 with `param`)
 * for input Anthropic would reject or that cannot be translated faithfully, before any upstream call.
 *
 * Parameters, which way they go:
 * - `messages` → `system` + `messages` (see to-anthropic-messages.ts); tools, `tool_choice`,
 *   `parallel_tool_calls`, `response_format` → tools (see to-anthropic-tools.ts).
 * - `max_completion_tokens` / `max_tokens` → `max_tokens`; absent → the model's maximum output.
 * - `stop` → `stop_sequences` (empty ones left out, whitespace-only ones — `"\n"` — dropped with a note:
 *   Anthropic rejects both); `temperature` (0–1; above 1 → 400), `top_p`, `top_k` → same names;
 *   `user` / `safety_identifier` → `metadata.user_id`.
 * - `reasoning_effort` → `thinking` (see reasoning-effort.ts); a `thinking` object in the body is
 *   passed through as is and wins over `reasoning_effort`. Thinking is left off for one request
 *   (see below) when the tool loop being answered lost its thinking blocks.
 * - `n`, `logprobs`, `top_logprobs`, `frequency_penalty`, `presence_penalty`, `seed`, `logit_bias`,
 *   `audio`, `modalities` (other than text), `prediction`, `web_search_options`, `functions`,
 *   `function_call`: Anthropic has no equivalent. At OpenAI's neutral values (`n: 1`, penalties 0,
 *   `logprobs: false`, `top_logprobs: 0`, `logit_bias: {}`, `modalities: ["text"]`) they are dropped
 *   silently; other values → 400 with `param`, or dropped with a note when the account sets
 *   `drop_unsupported_params`.
 * - `store`, `metadata`, `service_tier`, `prompt_cache_key`, `prompt_cache_retention`, `verbosity`,
 *   `stream_options` are OpenAI-side settings and are dropped silently (the core handles
 *   `stream_options.include_usage`).
 *
 * With thinking enabled Anthropic forbids changing `temperature` (must be 1), `top_k`, `top_p` below
 * 0.95, and forced tool use. Sampling parameters only tune the answer, and many clients send a
 * temperature by default, so they are dropped with a note. A forced `tool_choice` (`required` or a
 * named function) changes what the answer is, so it is a 400 (param `tool_choice`), or becomes `auto`
 * with a note when the account sets `drop_unsupported_params`. The gateway's own forced JSON-output
 * tool becomes `auto` with a note (the model is told to answer through the tool).
 *
 * With thinking enabled Anthropic also requires that, in an active tool loop (the conversation ends
 * with a user turn carrying `tool_result` blocks), the assistant turn whose `tool_use` blocks are being
 * answered start with its `thinking` / `redacted_thinking` block, sent back unmodified; otherwise it
 * answers 400 ("Expected `thinking` or `redacted_thinking`, but found `tool_use`"). Clients send it back
 * as `message.thinking_blocks` (see to-anthropic-messages.ts), but many OpenAI clients (typed SDK
 * models, LangChain, …) drop that non-standard field when they resend the conversation. When that
 * assistant turn carries no thinking block at all, thinking is left off for this request (as LiteLLM
 * does), with a note: `thinking` is omitted, `max_tokens` stays as asked (or the default) and the
 * sampling parameters and `tool_choice` are kept, as without reasoning. Only the current tool loop
 * matters: earlier assistant turns without thinking blocks keep thinking on (Anthropic allows that),
 * and earlier turns' thinking blocks may stay when it is off (Anthropic refuses thinking blocks with
 * thinking off only in the final assistant turn).
 *
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#feature-compatibility
 * @see https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking#preserving-thinking-blocks
 */
import { badRequest } from "../../http/errors.ts";
import type { AnthropicMessageParam, AnthropicRequestBody } from "./anthropic-types.ts";
import { isBlank, type TranslationAcc } from "./to-anthropic-content.ts";
import { toAnthropicMessages } from "./to-anthropic-messages.ts";
import { toAnthropicTools } from "./to-anthropic-tools.ts";
import { thinkingForEffort } from "./reasoning-effort.ts";

export interface ToAnthropicOptions {
  /** the upstream model id */
  model: string;
  /** `max_tokens` when the client sends none (see max-output-tokens.ts) */
  defaultMaxTokens: number;
  /** the account's `drop_unsupported_params` */
  dropUnsupported?: boolean;
}

export interface AnthropicRequest {
  body: AnthropicRequestBody;
  /** values for the `anthropic-beta` header */
  betas: string[];
  /** things the request log should say (parameters dropped or changed) */
  notes: string[];
  /** name of the structured-output tool, for the response translators */
  jsonTool?: string;
  stream: boolean;
}

/** OpenAI-only parameters and the value at which dropping them changes nothing. */
const NEUTRAL_VALUE: Readonly<Record<string, (v: unknown) => boolean>> = {
  n: (v) => v === 1,
  logprobs: (v) => v === false,
  top_logprobs: (v) => v === 0,
  frequency_penalty: (v) => v === 0,
  presence_penalty: (v) => v === 0,
  seed: () => false,
  logit_bias: (v) => !!v && typeof v === "object" && Object.keys(v).length === 0,
  modalities: (v) => Array.isArray(v) && v.every((m) => m === "text"),
  audio: () => false,
  prediction: () => false,
  web_search_options: () => false,
  functions: () => false,
  function_call: () => false,
};

/** Note for the log when thinking is left off because the tool loop lost its thinking blocks. */
export const THINKING_OFF_IN_TOOL_LOOP_NOTE =
  "thinking disabled: the assistant turn with tool calls being answered carries no thinking block (send message.thinking_blocks back to keep thinking on)";

export const MAX_TEMPERATURE = 1;
export const MIN_TOP_P_WITH_THINKING = 0.95;

export function toAnthropicRequest(openai: Record<string, any>, opts: ToAnthropicOptions): AnthropicRequest {
  const acc: TranslationAcc = { betas: new Set(), notes: [] };
  checkUnsupported(openai, !!opts.dropUnsupported, acc);

  if (!Array.isArray(openai.messages)) throw badRequest("messages must be an array", "messages");
  const { system, messages } = toAnthropicMessages(openai.messages, acc);

  const maxTokens = maxTokensParam(openai) ?? opts.defaultMaxTokens;
  const body: AnthropicRequestBody = { model: opts.model, max_tokens: maxTokens, messages };
  if (system !== undefined) body.system = system;

  const tools = toAnthropicTools(openai);
  if (tools.tools) body.tools = tools.tools;
  if (tools.toolChoice) body.tool_choice = tools.toolChoice;

  const stop = stopSequences(openai.stop, acc);
  if (stop) body.stop_sequences = stop;
  if (openai.temperature != null) body.temperature = temperature(openai.temperature);
  if (openai.top_p != null) body.top_p = unitInterval(openai.top_p, "top_p");
  if (openai.top_k != null) body.top_k = positiveInteger(openai.top_k, "top_k");
  const user = openai.user ?? openai.safety_identifier;
  if (typeof user === "string" && user !== "") body.metadata = { user_id: user };

  // `thinking` / `reasoning_effort` are validated even when thinking ends up left off
  const plan =
    openai.thinking != null ? nativeThinking(openai.thinking, maxTokens) : thinkingForEffort(openai.reasoning_effort, maxTokens);
  if (plan.thinking && plan.thinking.type !== "disabled" && toolLoopWithoutThinking(messages)) {
    acc.notes.push(THINKING_OFF_IN_TOOL_LOOP_NOTE);
  } else if (plan.thinking) {
    body.thinking = plan.thinking;
    if (plan.raisedFrom !== undefined) {
      acc.notes.push(
        `max_tokens raised from ${plan.raisedFrom} to ${plan.maxTokens} to fit the thinking budget of ${plan.thinking.budget_tokens}`,
      );
      body.max_tokens = plan.maxTokens;
    }
  }
  if (body.thinking && body.thinking.type !== "disabled") applyThinkingRules(body, tools, !!opts.dropUnsupported, acc);

  const stream = openai.stream === true;
  if (stream) body.stream = true;
  return { body, betas: [...acc.betas], notes: acc.notes, jsonTool: tools.jsonTool, stream };
}

function checkUnsupported(openai: Record<string, any>, drop: boolean, acc: TranslationAcc) {
  for (const [param, isNeutral] of Object.entries(NEUTRAL_VALUE)) {
    const value = openai[param];
    if (value == null || isNeutral(value)) continue;
    if (drop) {
      acc.notes.push(`dropped unsupported parameter '${param}' (Anthropic has no equivalent)`);
      continue;
    }
    throw badRequest(
      `'${param}' is not supported by Anthropic models (set drop_unsupported_params on the account to drop it)`,
      param,
      "unsupported_parameter",
    );
  }
}

/** A `thinking` object in the body: passed through as is (Anthropic validates its fields). */
function nativeThinking(
  thinking: unknown,
  maxTokens: number,
): { thinking: AnthropicRequestBody["thinking"]; maxTokens: number; raisedFrom?: undefined } {
  if (typeof thinking !== "object") throw badRequest("thinking must be an object", "thinking");
  return { thinking: thinking as AnthropicRequestBody["thinking"], maxTokens };
}

/**
 * True when the conversation is in an active tool loop (the last turn is a user turn with
 * `tool_result` blocks) and the assistant turn before it, which made the tool calls, carries no
 * `thinking` / `redacted_thinking` block: Anthropic refuses that with thinking enabled.
 */
export function toolLoopWithoutThinking(messages: AnthropicMessageParam[]): boolean {
  const last = messages[messages.length - 1];
  const assistant = messages[messages.length - 2];
  if (last?.role !== "user" || assistant?.role !== "assistant") return false;
  if (!Array.isArray(last.content) || !last.content.some((b) => b.type === "tool_result")) return false;
  if (!Array.isArray(assistant.content) || !assistant.content.some((b) => b.type === "tool_use")) return false;
  return !assistant.content.some((b) => b.type === "thinking" || b.type === "redacted_thinking");
}

function applyThinkingRules(
  body: AnthropicRequestBody,
  tools: ReturnType<typeof toAnthropicTools>,
  drop: boolean,
  acc: TranslationAcc,
) {
  if (body.temperature !== undefined && body.temperature !== 1) {
    delete body.temperature;
    acc.notes.push("dropped temperature: Anthropic requires the default temperature with extended thinking");
  }
  if (body.top_k !== undefined) {
    delete body.top_k;
    acc.notes.push("dropped top_k: not allowed with extended thinking");
  }
  if (body.top_p !== undefined && body.top_p < MIN_TOP_P_WITH_THINKING) {
    delete body.top_p;
    acc.notes.push(`dropped top_p: extended thinking allows only ${MIN_TOP_P_WITH_THINKING}–1`);
  }
  const choice = body.tool_choice;
  if (choice && (choice.type === "any" || choice.type === "tool")) {
    if (tools.clientForcedTool && !drop) {
      throw badRequest(
        "tool_choice 'required' or a named function cannot be combined with reasoning on Anthropic models (Anthropic forbids forced tool use with extended thinking); use 'auto'",
        "tool_choice",
      );
    }
    const disable = choice.disable_parallel_tool_use;
    body.tool_choice = disable ? { type: "auto", disable_parallel_tool_use: true } : { type: "auto" };
    acc.notes.push(
      tools.clientForcedTool
        ? "tool_choice changed to 'auto': Anthropic forbids forced tool use with extended thinking"
        : "structured-output tool no longer forced: Anthropic forbids forced tool use with extended thinking",
    );
  }
}

function maxTokensParam(openai: Record<string, any>): number | undefined {
  for (const param of ["max_completion_tokens", "max_tokens"]) {
    const v = openai[param];
    if (v != null) return positiveInteger(v, param);
  }
  return undefined;
}

function temperature(v: unknown): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw badRequest("temperature must be a number between 0 and 1", "temperature");
  }
  if (v > MAX_TEMPERATURE) {
    throw badRequest(
      `temperature ${v} is above the maximum of ${MAX_TEMPERATURE} for Anthropic models`,
      "temperature",
    );
  }
  return v;
}

function unitInterval(v: unknown, param: string): number {
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 1) {
    throw badRequest(`${param} must be a number between 0 and 1`, param);
  }
  return v;
}

function positiveInteger(v: unknown, param: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1) {
    throw badRequest(`${param} must be a positive integer`, param);
  }
  return v;
}

/**
 * Anthropic rejects an empty stop sequence ("each stop sequence must be non-empty") and one that is only
 * whitespace ("each stop sequence must contain non-whitespace"): empty ones are left out (they stop nothing
 * at OpenAI either), whitespace-only ones dropped with a note (at OpenAI they would have stopped the answer).
 */
function stopSequences(stop: unknown, acc: TranslationAcc): string[] | undefined {
  if (stop == null) return undefined;
  const list = typeof stop === "string" ? [stop] : stop;
  if (!Array.isArray(list) || list.some((s) => typeof s !== "string")) {
    throw badRequest("stop must be a string or an array of strings", "stop");
  }
  const kept = list.filter((s: string) => !isBlank(s)); // "" is blank too
  if (kept.length < list.length) {
    const blank = list.filter((s: string) => s !== "" && isBlank(s));
    if (blank.length > 0) {
      acc.notes.push(
        `dropped whitespace-only stop sequence${blank.length > 1 ? "s" : ""} ${blank.map((s: string) => JSON.stringify(s)).join(", ")}: Anthropic accepts only stop sequences with non-whitespace text`,
      );
    }
  }
  return kept.length > 0 ? kept : undefined;
}
