/**
 * A mock of Anthropic's Messages API (`POST /v1/messages`) for tests.
 *
 * It enforces the rules of the real API that a translation can break, answering Anthropic-shaped
 * errors (`{"type":"error","error":{"type","message"}}`) when they are violated: `x-api-key` present
 * (401 for a configured bad key), `anthropic-version` present, `model` and `max_tokens` required,
 * no `system` role, user first and strict user/assistant alternation, non-empty content, no message (or
 * `system`) whose text is only whitespace, block types allowed per role, tool ids matching
 * `^[a-zA-Z0-9_-]+$`, `tool_result` blocks first in the user turn right after the assistant turn with the
 * matching `tool_use` ids, stop sequences non-empty and not only whitespace, thinking budget ≥ 1024 and < max_tokens, the sampling parameters and forced
 * tool use thinking forbids, thinking blocks first in the assistant turn of an active tool loop,
 * temperature 0–1, tool_choice naming a known tool, the Files API beta for file sources.
 *
 * Replies are scripted per request (FIFO): `mock.reply({ json })`, `mock.reply({ stream: events })`
 * (real SSE, written event by event, optionally `delayMs` apart), `mock.reply({ status: 529, json })`.
 * Without a queued reply it answers a plain text echo of the last user text (a forced tool gets a
 * `tool_use` with `{}` input; thinking gets a signed thinking block first), streamed when asked.
 * A request that breaks a rule does not consume a queued reply.
 */
import type { Server } from "bun";

export type AnthropicEvent = { type: string; [k: string]: any };

export type MockReply =
  | { json: any; status?: number; headers?: Record<string, string> }
  | {
      stream: AnthropicEvent[];
      /** pause before each event after the first */
      delayMs?: number;
      status?: number;
      headers?: Record<string, string>;
    }
  | { text: string; status: number; headers?: Record<string, string> };

export interface RecordedRequest {
  method: string;
  path: string;
  /** lower-case header names */
  headers: Record<string, string>;
  body: any;
}

export interface AnthropicMockOptions {
  /** keys answered with 401 authentication_error */
  badKeys?: string[];
  /** default pause between streamed events */
  delayMs?: number;
}

export interface AnthropicMock {
  url: string;
  port: number;
  requests: RecordedRequest[];
  /** queue a reply for the next valid request */
  reply(reply: MockReply): AnthropicMock;
  /** replies still queued */
  pending(): number;
  /** forget recorded requests and queued replies */
  reset(): void;
  close(): Promise<void>;
}

export interface RuleViolation {
  status: number;
  type: string;
  message: string;
}

export function startAnthropicMock(opts: AnthropicMockOptions = {}): AnthropicMock {
  const requests: RecordedRequest[] = [];
  const queue: MockReply[] = [];
  let counter = 0;

  const server: Server<undefined> = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const url = new URL(req.url);
      const headers: Record<string, string> = {};
      req.headers.forEach((value, name) => {
        headers[name.toLowerCase()] = value;
      });
      const text = await req.text();
      let body: any;
      try {
        body = text === "" ? undefined : JSON.parse(text);
      } catch {
        body = text;
      }
      requests.push({ method: req.method, path: url.pathname, headers, body });
      const requestId = `req_mock_${++counter}`;

      if (req.method !== "POST" || url.pathname !== "/v1/messages") {
        return errorResponse({ status: 404, type: "not_found_error", message: `Not found: ${req.method} ${url.pathname}` }, requestId);
      }
      const violation = checkAnthropicRequest(headers, body, opts.badKeys ?? []);
      if (violation) return errorResponse(violation, requestId);

      const reply = queue.shift() ?? defaultReply(body, counter);
      return replyResponse(reply, opts.delayMs ?? 0, requestId);
    },
  });

  const mock: AnthropicMock = {
    url: `http://127.0.0.1:${server.port}`,
    port: server.port!,
    requests,
    reply(reply) {
      queue.push(reply);
      return mock;
    },
    pending: () => queue.length,
    reset() {
      requests.length = 0;
      queue.length = 0;
    },
    close: async () => {
      await server.stop(true);
    },
  };
  return mock;
}

// ---------------------------------------------------------------------------------------------
// replies

function replyResponse(reply: MockReply, defaultDelay: number, requestId: string): Response {
  const base = { "request-id": requestId, ...reply.headers };
  if ("stream" in reply) {
    return new Response(sseBody(reply.stream, reply.delayMs ?? defaultDelay), {
      status: reply.status ?? 200,
      headers: { ...base, "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  }
  if ("json" in reply) {
    return new Response(JSON.stringify(reply.json), {
      status: reply.status ?? 200,
      headers: { ...base, "content-type": "application/json" },
    });
  }
  return new Response(reply.text, { status: reply.status, headers: base });
}

/** Real SSE, one event per pull (and per delay), never one buffer. */
export function sseBody(events: AnthropicEvent[], delayMs = 0): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let i = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (i >= events.length) {
        controller.close();
        return;
      }
      if (delayMs > 0 && i > 0) await Bun.sleep(delayMs);
      const event = events[i++]!;
      controller.enqueue(encoder.encode(`event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`));
    },
  });
}

function errorResponse(v: RuleViolation, requestId: string): Response {
  return new Response(JSON.stringify(anthropicErrorBody(v.type, v.message, requestId)), {
    status: v.status,
    headers: { "content-type": "application/json", "request-id": requestId },
  });
}

/** Anthropic's error envelope. */
export function anthropicErrorBody(type: string, message: string, requestId = "req_mock") {
  return { type: "error", error: { type, message }, request_id: requestId };
}

/** A complete Messages API response, with defaults for what a test does not care about. */
export function anthropicMessage(partial: Partial<Record<string, any>> = {}): Record<string, any> {
  return {
    id: "msg_mock",
    type: "message",
    role: "assistant",
    model: "claude-mock-1",
    content: [{ type: "text", text: "Hello!" }],
    stop_reason: "end_turn",
    stop_sequence: null,
    ...partial,
    usage: {
      input_tokens: 10,
      output_tokens: 5,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      ...partial.usage,
    },
  };
}

/**
 * The event sequence Anthropic streams for a message: message_start (input usage), per block
 * content_block_start / deltas (text split every `chunkSize` characters) / content_block_stop,
 * message_delta (stop reason, output usage), message_stop.
 */
export function messageToStreamEvents(message: Record<string, any>, opts: { chunkSize?: number } = {}): AnthropicEvent[] {
  const size = opts.chunkSize ?? 8;
  const split = (s: string) => {
    const parts: string[] = [];
    for (let i = 0; i < s.length; i += size) parts.push(s.slice(i, i + size));
    return parts;
  };
  const { usage = {}, content = [], stop_reason, stop_sequence = null, ...rest } = message;
  const events: AnthropicEvent[] = [
    {
      type: "message_start",
      message: { ...rest, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } },
    },
  ];
  (content as any[]).forEach((block, index) => {
    if (block.type === "text") {
      events.push({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
      for (const text of split(block.text)) events.push({ type: "content_block_delta", index, delta: { type: "text_delta", text } });
    } else if (block.type === "thinking") {
      events.push({ type: "content_block_start", index, content_block: { type: "thinking", thinking: "", signature: "" } });
      for (const thinking of split(block.thinking)) {
        events.push({ type: "content_block_delta", index, delta: { type: "thinking_delta", thinking } });
      }
      events.push({ type: "content_block_delta", index, delta: { type: "signature_delta", signature: block.signature } });
    } else if (block.type === "tool_use") {
      events.push({ type: "content_block_start", index, content_block: { type: "tool_use", id: block.id, name: block.name, input: {} } });
      for (const partial_json of split(JSON.stringify(block.input ?? {}))) {
        events.push({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } });
      }
    } else {
      events.push({ type: "content_block_start", index, content_block: block });
    }
    events.push({ type: "content_block_stop", index });
  });
  events.push({ type: "message_delta", delta: { stop_reason, stop_sequence }, usage: { output_tokens: usage.output_tokens ?? 0 } });
  events.push({ type: "message_stop" });
  return events;
}

/** Parses a recorded `.chunks.txt` file (one event JSON per line). */
export function parseChunksFile(text: string): AnthropicEvent[] {
  return text
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
}

function defaultReply(body: any, n: number): MockReply {
  const content: any[] = [];
  if (body.thinking?.type === "enabled") {
    content.push({ type: "thinking", thinking: "Let me think about that.", signature: `mock-signature-${n}` });
  }
  let stop = "end_turn";
  if (body.tool_choice?.type === "tool") {
    content.push({ type: "tool_use", id: `toolu_mock_${n}`, name: body.tool_choice.name, input: {} });
    stop = "tool_use";
  } else {
    content.push({ type: "text", text: `echo: ${lastUserText(body.messages)}` });
  }
  const message = anthropicMessage({
    id: `msg_mock_${n}`,
    model: body.model,
    content,
    stop_reason: stop,
    usage: { input_tokens: Math.ceil(JSON.stringify(body.messages).length / 4), output_tokens: 7 },
  });
  return body.stream === true ? { stream: messageToStreamEvents(message) } : { json: message };
}

function lastUserText(messages: any[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m.role !== "user") continue;
    if (typeof m.content === "string") return m.content;
    const text = m.content.filter((b: any) => b.type === "text").map((b: any) => b.text).join(" ");
    if (text) return text;
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// rules

const IMAGE_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"];
const BLOCKS_BY_ROLE: Record<string, string[]> = {
  user: ["text", "image", "document", "tool_result", "search_result"],
  assistant: ["text", "tool_use", "thinking", "redacted_thinking", "server_tool_use", "web_search_tool_result"],
};

const invalid = (message: string): RuleViolation => ({ status: 400, type: "invalid_request_error", message });

/** The rules of Anthropic's Messages API that the mock enforces; null when the request is acceptable. */
export function checkAnthropicRequest(headers: Record<string, string>, body: any, badKeys: string[] = []): RuleViolation | null {
  const key = headers["x-api-key"];
  if (!key) return { status: 401, type: "authentication_error", message: "x-api-key header is required" };
  if (badKeys.includes(key)) return { status: 401, type: "authentication_error", message: "invalid x-api-key" };
  if (!headers["anthropic-version"]) return invalid("anthropic-version: header is required");
  if (!body || typeof body !== "object" || Array.isArray(body)) return invalid("body: expected a JSON object");
  if (typeof body.model !== "string" || body.model === "") return invalid("model: Field required");
  if (body.max_tokens == null) return invalid("max_tokens: Field required");
  if (!Number.isInteger(body.max_tokens) || body.max_tokens < 1) return invalid("max_tokens: Input should be a positive integer");
  if (body.temperature != null && (typeof body.temperature !== "number" || body.temperature < 0 || body.temperature > 1)) {
    return invalid("temperature: Input should be less than or equal to 1");
  }
  if (body.stop_sequences != null && (!Array.isArray(body.stop_sequences) || body.stop_sequences.some((s: any) => typeof s !== "string"))) {
    return invalid("stop_sequences: Input should be a valid list of strings");
  }
  if (body.stop_sequences?.some((s: string) => s === "")) return invalid("stop_sequences: each stop sequence must be non-empty");
  if (body.stop_sequences?.some((s: string) => isBlank(s))) return invalid("stop_sequences: each stop sequence must contain non-whitespace");
  return checkSystem(body.system) ?? checkTools(body) ?? checkMessages(body, headers) ?? checkThinking(body);
}

/** Only whitespace (Anthropic's "non-whitespace text" rules). */
const isBlank = (text: string) => !/\S/.test(text);

const NON_WHITESPACE = "text content blocks must contain non-whitespace text";

function checkSystem(system: any): RuleViolation | null {
  if (system == null || system === "") return null;
  if (typeof system === "string") return isBlank(system) ? invalid(`system: ${NON_WHITESPACE}`) : null;
  if (!Array.isArray(system)) return invalid("system: Input should be a valid string or list of text blocks");
  for (const [i, b] of system.entries()) {
    if (b?.type !== "text" || typeof b.text !== "string") return invalid(`system.${i}: Input should be a text block`);
    if (b.text === "") return invalid(`system.${i}.text: text content blocks must be non-empty`);
  }
  if (system.length > 0 && system.every((b: any) => isBlank(b.text))) return invalid(`system: ${NON_WHITESPACE}`);
  return null;
}

/**
 * As Anthropic answers (checked against the real API by others: LibreChat-AI/agents#124,
 * experientiallabs/experiential#804): a message whose blocks are all text, and all only whitespace, is
 * rejected; whitespace text next to other text or a tool_use is accepted, and so is whitespace in a tool_result.
 */
function whitespaceOnly(blocks: any[]): boolean {
  return blocks.length > 0 && blocks.every((b: any) => b?.type === "text" && typeof b.text === "string" && b.text !== "" && isBlank(b.text));
}

const TOOL_ID = /^[a-zA-Z0-9_-]+$/;

function checkTools(body: any): RuleViolation | null {
  const tools = body.tools ?? [];
  if (!Array.isArray(tools)) return invalid("tools: Input should be a valid list");
  for (const [i, t] of tools.entries()) {
    if (typeof t?.name !== "string" || !/^[a-zA-Z0-9_-]{1,128}$/.test(t.name)) return invalid(`tools.${i}.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`);
    if (t.input_schema?.type !== "object") return invalid(`tools.${i}.input_schema.type: Input should be 'object'`);
  }
  const choice = body.tool_choice;
  if (choice == null) return null;
  if (!["auto", "any", "tool", "none"].includes(choice.type)) return invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
  if (choice.type !== "none" && tools.length === 0) return invalid("tool_choice: tool_choice may only be specified while providing tools");
  if (choice.type === "tool" && !tools.some((t: any) => t.name === choice.name)) {
    return invalid(`tool_choice: Tool '${choice.name}' not found in provided tools`);
  }
  return null;
}

function blocksOf(content: any): any[] {
  return typeof content === "string" ? [{ type: "text", text: content }] : content;
}

function checkMessages(body: any, headers: Record<string, string>): RuleViolation | null {
  const messages = body.messages;
  if (!Array.isArray(messages)) return invalid("messages: Field required");
  if (messages.length === 0) return invalid("messages: at least one message is required");
  for (const [i, m] of messages.entries()) {
    if (m?.role === "system") {
      return invalid(`messages.${i}.role: Unexpected role "system". The Messages API accepts a top-level \`system\` parameter, not "system" as an input message role.`);
    }
    if (m?.role !== "user" && m?.role !== "assistant") return invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    if (i === 0 && m.role !== "user") return invalid('messages: first message must use the "user" role');
    if (i > 0 && messages[i - 1].role === m.role) {
      return invalid(`messages: roles must alternate between "user" and "assistant", but found multiple "${m.role}" roles in a row`);
    }
    const isFinalAssistant = i === messages.length - 1 && m.role === "assistant";
    if (typeof m.content !== "string" && !Array.isArray(m.content)) return invalid(`messages.${i}.content: Input should be a valid string or list`);
    const blocks = blocksOf(m.content);
    if ((blocks.length === 0 || m.content === "") && !isFinalAssistant) {
      return invalid(`messages.${i}: all messages must have non-empty content except for the optional final assistant message`);
    }
    for (const [j, b] of blocks.entries()) {
      const v = checkBlock(b, `messages.${i}.content.${j}`, m.role, headers);
      if (v) return v;
    }
    if (whitespaceOnly(blocks) && !isFinalAssistant) return invalid(`messages: ${NON_WHITESPACE}`);
    if (isFinalAssistant) {
      const last = blocks[blocks.length - 1];
      if (last?.type === "text" && /\s$/.test(last.text)) return invalid("messages: final assistant content cannot end with trailing whitespace");
    }
  }
  // the pairing of tool calls and results is checked once every block has passed the schema checks above
  for (let i = 0; i < messages.length; i++) {
    const v = checkToolPairing(messages, i);
    if (v) return v;
  }
  return null;
}

function checkBlock(b: any, path: string, role: string, headers: Record<string, string>): RuleViolation | null {
  if (!b || typeof b.type !== "string") return invalid(`${path}.type: Field required`);
  if (!BLOCKS_BY_ROLE[role]!.includes(b.type)) return invalid(`${path}.type: '${b.type}' blocks are not allowed in ${role} messages`);
  switch (b.type) {
    case "text":
      if (typeof b.text !== "string" || b.text === "") return invalid(`${path}.text: text content blocks must be non-empty`);
      return null;
    case "image":
      if (b.source?.type === "base64") {
        if (!IMAGE_TYPES.includes(b.source.media_type)) return invalid(`${path}.source.base64.media_type: Input should be ${IMAGE_TYPES.join(", ")}`);
        if (typeof b.source.data !== "string" || b.source.data === "") return invalid(`${path}.source.base64.data: Field required`);
        return null;
      }
      if (b.source?.type === "url" && typeof b.source.url === "string") return null;
      return invalid(`${path}.source: Input should be a base64 or url image source`);
    case "document":
      return checkDocument(b, path, headers);
    case "thinking":
      if (typeof b.thinking !== "string") return invalid(`${path}.thinking: Field required`);
      if (typeof b.signature !== "string" || b.signature === "") return invalid(`${path}.thinking.signature: Field required`);
      return null;
    case "redacted_thinking":
      return typeof b.data === "string" && b.data !== "" ? null : invalid(`${path}.data: Field required`);
    case "tool_use":
      if (typeof b.id !== "string" || typeof b.name !== "string") return invalid(`${path}: tool_use blocks need id and name`);
      if (!TOOL_ID.test(b.id)) return invalid(`${path}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
      if (!b.input || typeof b.input !== "object" || Array.isArray(b.input)) return invalid(`${path}.input: Input should be a valid dictionary`);
      return null;
    case "tool_result":
      if (typeof b.tool_use_id !== "string") return invalid(`${path}.tool_use_id: Field required`);
      if (!TOOL_ID.test(b.tool_use_id)) return invalid(`${path}.tool_result.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'`);
      if (Array.isArray(b.content)) {
        for (const [k, inner] of b.content.entries()) {
          if (!["text", "image", "document", "search_result"].includes(inner?.type)) return invalid(`${path}.content.${k}.type: not allowed in tool_result`);
          const v = checkBlock(inner, `${path}.content.${k}`, "user", headers);
          if (v) return v;
        }
      }
      return null;
  }
  return null;
}

function checkDocument(b: any, path: string, headers: Record<string, string>): RuleViolation | null {
  const s = b.source ?? {};
  if (s.type === "base64") {
    return s.media_type === "application/pdf" && typeof s.data === "string" && s.data !== ""
      ? null
      : invalid(`${path}.source.base64: media_type must be application/pdf with data`);
  }
  if (s.type === "text") return s.media_type === "text/plain" && typeof s.data === "string" ? null : invalid(`${path}.source.text: invalid`);
  if (s.type === "url") return typeof s.url === "string" ? null : invalid(`${path}.source.url.url: Field required`);
  if (s.type === "file") {
    if (!(headers["anthropic-beta"] ?? "").split(",").map((x) => x.trim()).includes("files-api-2025-04-14")) {
      return invalid(`${path}.source.file: the files-api-2025-04-14 beta is required for file sources`);
    }
    return typeof s.file_id === "string" ? null : invalid(`${path}.source.file.file_id: Field required`);
  }
  return invalid(`${path}.source: Input should be a base64, text, url or file document source`);
}

/** tool_result blocks: first in the user turn right after the assistant turn whose tool_use ids they answer. */
function checkToolPairing(messages: any[], i: number): RuleViolation | null {
  const m = messages[i];
  const blocks = blocksOf(m.content);
  if (m.role === "user") {
    const prev = i > 0 ? blocksOf(messages[i - 1].content) : [];
    const ids = new Set(prev.filter((b: any) => b.type === "tool_use").map((b: any) => b.id));
    let seenOther = false;
    for (const [j, b] of blocks.entries()) {
      if (b.type !== "tool_result") {
        seenOther = true;
        continue;
      }
      if (seenOther) return invalid(`messages.${i}.content.${j}: tool_result blocks must come first in the content array, before any other content`);
      if (!ids.has(b.tool_use_id)) {
        return invalid(
          `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${b.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
    }
    return null;
  }
  const toolUses = blocks.filter((b: any) => b.type === "tool_use");
  if (toolUses.length === 0 || i === messages.length - 1) return null;
  const ids = toolUses.map((b: any) => b.id);
  if (new Set(ids).size !== ids.length) return invalid(`messages.${i}: \`tool_use\` ids must be unique`);
  const next = blocksOf(messages[i + 1].content);
  const answered = new Set(next.filter((b: any) => b.type === "tool_result").map((b: any) => b.tool_use_id));
  const missing = ids.filter((id: string) => !answered.has(id));
  if (missing.length > 0) {
    return invalid(
      `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(", ")}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
    );
  }
  return null;
}

function checkThinking(body: any): RuleViolation | null {
  const thinking = body.thinking;
  if (thinking == null || thinking.type === "disabled") return null;
  if (thinking.type !== "enabled") return invalid("thinking.type: Input should be 'enabled' or 'disabled'");
  const budget = thinking.budget_tokens;
  if (!Number.isInteger(budget)) return invalid("thinking.enabled.budget_tokens: Field required");
  if (budget < 1024) return invalid("thinking.enabled.budget_tokens: Input should be greater than or equal to 1024");
  if (body.max_tokens <= budget) return invalid("`max_tokens` must be greater than `thinking.budget_tokens`");
  if (body.temperature != null && body.temperature !== 1) return invalid("`temperature` may only be set to 1 when thinking is enabled.");
  if (body.top_k != null) return invalid("`top_k` must be unset when thinking is enabled.");
  if (body.top_p != null && body.top_p < 0.95) return invalid("`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled.");
  if (body.tool_choice?.type === "any" || body.tool_choice?.type === "tool") {
    return invalid("Thinking may not be enabled when tool_choice forces tool use.");
  }
  // in an active tool loop (the conversation ends with tool results), the assistant turn that called the
  // tools must start with its thinking block, sent back as received
  const messages = body.messages;
  const last = messages[messages.length - 1];
  const lastBlocks = blocksOf(last.content);
  if (last.role === "user" && lastBlocks.length > 0 && lastBlocks.every((b: any) => b.type === "tool_result") && messages.length >= 2) {
    const i = messages.length - 2;
    const first = blocksOf(messages[i].content)[0];
    if (first?.type !== "thinking" && first?.type !== "redacted_thinking") {
      return invalid(
        `messages.${i}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${first?.type}\`. When \`thinking\` is enabled, a final \`assistant\` message must start with a thinking block.`,
      );
    }
  }
  return null;
}
