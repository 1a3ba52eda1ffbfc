/** The Anthropic mock itself: the rules it enforces, its replies, and real event-by-event streaming. */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { anthropicErrorBody, anthropicMessage, messageToStreamEvents, startAnthropicMock } from "../../mocks/anthropic.ts";

const mock = startAnthropicMock({ badKeys: ["bad-key"] });
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const HEADERS = { "x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json" };
const post = (body: any, headers: Record<string, string> = HEADERS) =>
  fetch(`${mock.url}/v1/messages`, { method: "POST", headers, body: JSON.stringify(body) });
const ok = { model: "claude-sonnet-4-5", max_tokens: 100, messages: [{ role: "user", content: "Hi" }] };

async function violation(body: any, headers: Record<string, string> = HEADERS) {
  const res = await post(body, headers);
  const json: any = await res.json();
  expect(json.type).toBe("error");
  return { status: res.status, type: json.error.type as string, message: json.error.message as string };
}

describe("Anthropic mock rules", () => {
  test("headers: x-api-key required, bad key 401, anthropic-version required", async () => {
    const { "x-api-key": _, ...noKey } = HEADERS;
    expect(await violation(ok, noKey)).toMatchObject({ status: 401, type: "authentication_error" });
    expect(await violation(ok, { ...HEADERS, "x-api-key": "bad-key" })).toMatchObject({ status: 401, type: "authentication_error", message: "invalid x-api-key" });
    const { "anthropic-version": __, ...noVersion } = HEADERS;
    expect(await violation(ok, noVersion)).toMatchObject({ status: 400, type: "invalid_request_error", message: "anthropic-version: header is required" });
  });

  test.each([
    ["max_tokens required", { model: "m", messages: [{ role: "user", content: "Hi" }] }, "max_tokens: Field required"],
    ["system role", { ...ok, messages: [{ role: "system", content: "S" }, { role: "user", content: "Hi" }] }, 'Unexpected role "system"'],
    ["user first", { ...ok, messages: [{ role: "assistant", content: "Hi" }] }, 'first message must use the "user" role'],
    ["alternation", { ...ok, messages: [{ role: "user", content: "A" }, { role: "user", content: "B" }] }, "roles must alternate"],
    ["non-empty content", { ...ok, messages: [{ role: "user", content: "" }] }, "all messages must have non-empty content"],
    ["empty text block", { ...ok, messages: [{ role: "user", content: [{ type: "text", text: "" }] }] }, "text content blocks must be non-empty"],
    ["temperature ≤ 1", { ...ok, temperature: 1.2 }, "temperature"],
    [
      "tool_result without the matching tool_use",
      { ...ok, messages: [{ role: "user", content: "Q" }, { role: "assistant", content: "A" }, { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_x", content: "r" }] }] },
      "unexpected `tool_use_id`",
    ],
    [
      "tool_use without tool_result right after",
      {
        ...ok,
        messages: [
          { role: "user", content: "Q" },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "f", input: {} }] },
          { role: "user", content: "never mind" },
        ],
      },
      "`tool_use` ids were found without `tool_result` blocks immediately after: toolu_1",
    ],
    [
      "tool_result must come first",
      {
        ...ok,
        messages: [
          { role: "user", content: "Q" },
          { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: "f", input: {} }] },
          { role: "user", content: [{ type: "text", text: "here:" }, { type: "tool_result", tool_use_id: "toolu_1", content: "r" }] },
        ],
      },
      "tool_result blocks must come first",
    ],
    ["tool_result in an assistant message", { ...ok, messages: [{ role: "user", content: "Q" }, { role: "assistant", content: [{ type: "tool_result", tool_use_id: "t" }] }] }, "not allowed in assistant"],
    ["thinking budget ≥ 1024", { ...ok, max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 1000 } }, "greater than or equal to 1024"],
    ["thinking budget < max_tokens", { ...ok, max_tokens: 2000, thinking: { type: "enabled", budget_tokens: 2000 } }, "`max_tokens` must be greater than `thinking.budget_tokens`"],
    ["temperature with thinking", { ...ok, max_tokens: 4000, temperature: 0.5, thinking: { type: "enabled", budget_tokens: 1024 } }, "`temperature` may only be set to 1"],
    [
      "forced tool with thinking",
      { ...ok, max_tokens: 4000, thinking: { type: "enabled", budget_tokens: 1024 }, tools: [{ name: "f", input_schema: { type: "object" } }], tool_choice: { type: "any" } },
      "tool_choice forces tool use",
    ],
    ["tool_choice naming an unknown tool", { ...ok, tools: [{ name: "f", input_schema: { type: "object" } }], tool_choice: { type: "tool", name: "g" } }, "Tool 'g' not found"],
    ["image media type", { ...ok, messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/bmp", data: "x" } }] }] }, "media_type"],
    ["file source needs the Files API beta", { ...ok, messages: [{ role: "user", content: [{ type: "document", source: { type: "file", file_id: "f" } }] }] }, "files-api-2025-04-14"],
    ["trailing whitespace in a final assistant message", { ...ok, messages: [{ role: "user", content: "Q" }, { role: "assistant", content: "A " }] }, "trailing whitespace"],
    ["a user message that is only whitespace", { ...ok, messages: [{ role: "user", content: "  " }] }, "messages: text content blocks must contain non-whitespace text"],
    [
      "an assistant turn that is only whitespace",
      { ...ok, messages: [{ role: "user", content: "Q" }, { role: "assistant", content: [{ type: "text", text: "\n\n" }] }, { role: "user", content: "Q2" }] },
      "messages: text content blocks must contain non-whitespace text",
    ],
    ["a system prompt that is only whitespace", { ...ok, system: " \n" }, "system: text content blocks must contain non-whitespace text"],
    ["system blocks that are only whitespace", { ...ok, system: [{ type: "text", text: " " }] }, "system: text content blocks must contain non-whitespace text"],
    ["an empty stop sequence", { ...ok, stop_sequences: ["END", ""] }, "stop_sequences: each stop sequence must be non-empty"],
    ["a whitespace-only stop sequence", { ...ok, stop_sequences: ["\n"] }, "stop_sequences: each stop sequence must contain non-whitespace"],
    [
      "a tool_use id with characters outside [a-zA-Z0-9_-]",
      { ...ok, messages: [{ role: "user", content: "Q" }, { role: "assistant", content: [{ type: "tool_use", id: "call.abc:1", name: "f", input: {} }] }] },
      "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'",
    ],
    [
      "a tool_result tool_use_id with characters outside [a-zA-Z0-9_-]",
      {
        ...ok,
        messages: [
          { role: "user", content: "Q" },
          { role: "assistant", content: [{ type: "tool_use", id: "call_abc_1", name: "f", input: {} }] },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "call.abc:1", content: "r" }] },
        ],
      },
      "messages.2.content.0.tool_result.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'",
    ],
  ])("%s", async (_name, body, message) => {
    const v = await violation(body);
    expect(v.status).toBe(400);
    expect(v.type).toBe("invalid_request_error");
    expect(v.message).toContain(message);
  });

  test("whitespace Anthropic accepts: next to other text, before a tool_use, inside a tool_result", async () => {
    const res = await post({
      ...ok,
      system: [{ type: "text", text: "Be brief." }, { type: "text", text: " " }],
      messages: [
        { role: "user", content: [{ type: "text", text: " " }, { type: "text", text: "Q" }] },
        { role: "assistant", content: [{ type: "text", text: "\n\n" }, { type: "tool_use", id: "toolu_1", name: "f", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "\n" }] },
      ],
      stop_sequences: ["\n\nHuman:"],
    });
    expect(res.status).toBe(200);
  });

  test("a valid tool round trip with thinking passes", async () => {
    const res = await post({
      ...ok,
      max_tokens: 4000,
      thinking: { type: "enabled", budget_tokens: 1024 },
      tools: [{ name: "f", input_schema: { type: "object" } }],
      messages: [
        { role: "user", content: "Q" },
        { role: "assistant", content: [{ type: "thinking", thinking: "t", signature: "s" }, { type: "tool_use", id: "toolu_1", name: "f", input: {} }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "r" }, { type: "text", text: "thanks" }] },
      ],
    });
    expect(res.status).toBe(200);
  });

  test("a rule violation does not consume the queued reply; unknown paths are 404", async () => {
    mock.reply({ json: anthropicMessage({ content: [{ type: "text", text: "queued" }] }) });
    expect((await post({ ...ok, max_tokens: undefined })).status).toBe(400);
    expect(mock.pending()).toBe(1);
    const body: any = await (await post(ok)).json();
    expect(body.content[0].text).toBe("queued");
    const res = await fetch(`${mock.url}/v1/complete`, { method: "POST", headers: HEADERS, body: "{}" });
    expect(res.status).toBe(404);
    expect(mock.requests.map((r) => r.path)).toEqual(["/v1/messages", "/v1/messages", "/v1/complete"]);
  });
});

describe("Anthropic mock replies", () => {
  test("default reply echoes the last user text; records headers and body", async () => {
    const body: any = await (await post({ ...ok, messages: [{ role: "user", content: [{ type: "text", text: "ping" }] }] })).json();
    expect(body.type).toBe("message");
    expect(body.content).toEqual([{ type: "text", text: "echo: ping" }]);
    expect(body.model).toBe("claude-sonnet-4-5");
    expect(mock.requests[0]!.headers["anthropic-version"]).toBe("2023-06-01");
    expect(mock.requests[0]!.body.max_tokens).toBe(100);
  });

  test("default reply to a forced tool is a tool_use", async () => {
    const body: any = await (await post({ ...ok, tools: [{ name: "f", input_schema: { type: "object" } }], tool_choice: { type: "tool", name: "f" } })).json();
    expect(body.stop_reason).toBe("tool_use");
    expect(body.content[0]).toMatchObject({ type: "tool_use", name: "f", input: {} });
  });

  test("scripted error status and body", async () => {
    mock.reply({ status: 529, json: anthropicErrorBody("overloaded_error", "Overloaded") });
    const res = await post(ok);
    expect(res.status).toBe(529);
    expect(((await res.json()) as any).error).toEqual({ type: "overloaded_error", message: "Overloaded" });
  });

  test("streams are real SSE written event by event, with the delay between events", async () => {
    const events = messageToStreamEvents(anthropicMessage({ content: [{ type: "text", text: "abcdefghij" }] }), { chunkSize: 2 });
    mock.reply({ stream: events, delayMs: 40 });
    const t0 = performance.now();
    const res = await post({ ...ok, stream: true });
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    const firstAt = performance.now() - t0;
    expect(first).toStartWith('event: message_start\ndata: {"type":"message_start"');
    let rest = "";
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += new TextDecoder().decode(r.value);
    const total = performance.now() - t0;
    expect(firstAt).toBeLessThan(total - 100); // the first event arrived long before the last
    const all = first + rest;
    expect(all.match(/^event: /gm)!.length).toBe(events.length);
    expect(all).toContain('event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"ab"}}\n\n');
    expect(all.trimEnd()).toEndWith('event: message_stop\ndata: {"type":"message_stop"}');
  });

  test("messageToStreamEvents follows Anthropic's event order", () => {
    const events = messageToStreamEvents(
      anthropicMessage({
        content: [
          { type: "thinking", thinking: "hmm", signature: "sig" },
          { type: "tool_use", id: "toolu_1", name: "f", input: { a: 1 } },
        ],
        stop_reason: "tool_use",
      }),
      { chunkSize: 100 },
    );
    expect(events.map((e) => e.type + (e.delta?.type ? `:${e.delta.type}` : ""))).toEqual([
      "message_start",
      "content_block_start",
      "content_block_delta:thinking_delta",
      "content_block_delta:signature_delta",
      "content_block_stop",
      "content_block_start",
      "content_block_delta:input_json_delta",
      "content_block_stop",
      "message_delta",
      "message_stop",
    ]);
    expect(events[8]!.delta.stop_reason).toBe("tool_use");
  });
});
