/**
 * The adapter against the Anthropic mock, which enforces Anthropic's request rules — so every
 * translated request here is also checked for validity.
 */
import { afterAll, beforeEach, describe, expect, test } from "bun:test";
import { GatewayError } from "../../../src/http/errors.ts";
import { anthropicAdapter } from "../../../src/providers/anthropic/adapter.ts";
import { THINKING_OFF_IN_TOOL_LOOP_NOTE } from "../../../src/providers/anthropic/to-anthropic-request.ts";
import type { ChatResult, StreamItem } from "../../../src/providers/types.ts";
import { itemStream } from "../../../src/providers/upstream.ts";
import { anthropicErrorBody, anthropicMessage, messageToStreamEvents, startAnthropicMock } from "../../mocks/anthropic.ts";
import { assemble, collect, fixtureFiles, readChunksFixture, readJsonFixture, testContext } from "./helpers.ts";
import { anthropicStreamTranslator } from "../../../src/providers/anthropic/anthropic-stream.ts";
import { streamOf } from "./helpers.ts";

const mock = startAnthropicMock({ badKeys: ["sk-ant-revoked"] });
afterAll(() => mock.close());
beforeEach(() => mock.reset());

const chat = (body: Record<string, any>, opts: Parameters<typeof testContext>[1] = {}) => {
  const ctx = testContext(mock.url, opts);
  return { ctx, result: anthropicAdapter.chat(ctx, { model: "anthropic-main/claude", ...body }) };
};
const json = async (p: Promise<ChatResult>) => {
  const r = await p;
  if (r.stream || !("body" in r)) throw new Error("expected a JSON result");
  return r.body;
};
const items = async (p: Promise<ChatResult>): Promise<StreamItem[]> => {
  const r = await p;
  if (!r.stream) throw new Error("expected a stream");
  return collect(itemStream(r.items));
};
const rejection = async (p: Promise<unknown>): Promise<GatewayError> => {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error("expected a rejection");
};

const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather in a given location",
    parameters: { type: "object", properties: { location: { type: "string" } }, required: ["location"] },
  },
};

describe("anthropicAdapter (non-streaming)", () => {
  test("plain chat: headers, URL, body, and an OpenAI chat.completion back", async () => {
    mock.reply({ json: readJsonFixture("anthropic-text.json") });
    const body = await json(chat({ messages: [{ role: "user", content: "Hello, how are you?" }] }).result);
    const req = mock.requests[0]!;
    expect(req.method).toBe("POST");
    expect(req.path).toBe("/v1/messages");
    expect(req.headers["x-api-key"]).toBe("sk-ant-test");
    expect(req.headers["anthropic-version"]).toBe("2023-06-01");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(req.headers["anthropic-beta"]).toBeUndefined();
    expect(req.body).toEqual({ model: "claude-sonnet-4-5-20250929", max_tokens: 64000, messages: [{ role: "user", content: "Hello, how are you?" }] });
    expect(body.object).toBe("chat.completion");
    expect(body.model).toBe("claude-sonnet-4-5-20250929");
    expect(body.choices[0].message.content).toStartWith("Hello! I'm doing well");
    expect(body.usage.total_tokens).toBe(41);
  });

  test("system + multi-turn, image by URL and base64, PDF: all accepted by the mock", async () => {
    const body = await json(
      chat({
        messages: [
          { role: "system", content: "You describe documents." },
          { role: "user", content: "Hi" },
          { role: "assistant", content: "Hello! Send me something." },
          {
            role: "user",
            content: [
              { type: "image_url", image_url: { url: "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg" } },
              { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
              { type: "file", file: { filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERi0x" } },
              { type: "text", text: "Compare them." },
            ],
          },
        ],
      }).result,
    );
    expect(body.choices[0].message.content).toBe("echo: Compare them.");
    expect(mock.requests[0]!.body.system).toBe("You describe documents.");
    expect(mock.requests[0]!.body.messages.map((m: any) => m.role)).toEqual(["user", "assistant", "user"]);
  });

  test("a full tool round trip", async () => {
    mock.reply({
      json: anthropicMessage({
        content: [
          { type: "text", text: "I'll check." },
          { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", input: { location: "San Francisco, CA" } },
        ],
        stop_reason: "tool_use",
      }),
    });
    const messages: any[] = [{ role: "user", content: "What's the weather in San Francisco?" }];
    const first = await json(chat({ messages, tools: [WEATHER_TOOL], tool_choice: "auto" }).result);
    expect(first.choices[0].finish_reason).toBe("tool_calls");
    const call = first.choices[0].message.tool_calls[0];
    expect(call).toEqual({ id: "toolu_01A09q90qw90lq917835lq9", type: "function", function: { name: "get_weather", arguments: '{"location":"San Francisco, CA"}' } });
    messages.push(first.choices[0].message, { role: "tool", tool_call_id: call.id, content: "15 degrees" });
    const second = await json(chat({ messages, tools: [WEATHER_TOOL] }).result);
    expect(second.choices[0].finish_reason).toBe("stop");
    expect(mock.requests[1]!.body.messages[2].content[0]).toEqual({ type: "tool_result", tool_use_id: "toolu_01A09q90qw90lq917835lq9", content: "15 degrees" });
  });

  test.each(["auto", "none", "required", { type: "function", function: { name: "get_weather" } }])("tool_choice %p is accepted", async (tool_choice) => {
    await json(chat({ messages: [{ role: "user", content: "Weather in Oslo?" }], tools: [WEATHER_TOOL], tool_choice }).result);
    expect(mock.requests).toHaveLength(1);
  });

  test("json_schema: forced tool upstream, JSON content back with finish stop", async () => {
    const schema = { type: "object", properties: { city: { type: "string" }, temp: { type: "number" } }, required: ["city", "temp"], additionalProperties: false };
    mock.reply({
      json: anthropicMessage({ content: [{ type: "tool_use", id: "toolu_j", name: "json_output", input: { city: "Oslo", temp: 4 } }], stop_reason: "tool_use" }),
    });
    const body = await json(
      chat({ messages: [{ role: "user", content: "Weather in Oslo as JSON" }], response_format: { type: "json_schema", json_schema: { name: "weather", strict: true, schema } } }).result,
    );
    expect(mock.requests[0]!.body.tool_choice).toEqual({ type: "tool", name: "json_output" });
    expect(JSON.parse(body.choices[0].message.content)).toEqual({ city: "Oslo", temp: 4 });
    expect(body.choices[0].finish_reason).toBe("stop");
    expect(body.choices[0].message.tool_calls).toBeUndefined();
  });

  test.each([
    ["low", 1228],
    ["medium", 2457],
    ["high", 3686],
  ])("reasoning_effort %s: budget %d accepted by the mock", async (reasoning_effort, budget) => {
    const body = await json(chat({ messages: [{ role: "user", content: "Think." }], max_tokens: 4096, reasoning_effort, temperature: 0.3 }).result);
    expect(mock.requests[0]!.body.thinking).toEqual({ type: "enabled", budget_tokens: budget });
    expect(mock.requests[0]!.body.temperature).toBeUndefined();
    expect(body.choices[0].message.reasoning_content).toBe("Let me think about that.");
  });

  test("thinking + tools over two turns: the signed thinking block goes back first", async () => {
    mock.reply({
      json: anthropicMessage({
        content: [
          { type: "thinking", thinking: "I should call get_weather.", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" },
          { type: "tool_use", id: "toolu_01CswdEQBMshySk6Y9DFKrfq", name: "get_weather", input: { location: "Paris" } },
        ],
        stop_reason: "tool_use",
      }),
    });
    const messages: any[] = [{ role: "user", content: "Weather in Paris?" }];
    const thinking = { type: "enabled", budget_tokens: 2000 };
    const first = await json(chat({ messages, tools: [WEATHER_TOOL], max_tokens: 8000, thinking }).result);
    const msg = first.choices[0].message;
    expect(msg.thinking_blocks).toHaveLength(1);
    messages.push(msg, { role: "tool", tool_call_id: msg.tool_calls[0].id, content: "88°F" });
    await json(chat({ messages, tools: [WEATHER_TOOL], max_tokens: 8000, thinking }).result);
    expect(mock.requests[1]!.body.messages[1].content.map((b: any) => b.type)).toEqual(["thinking", "tool_use"]);
    // a client that drops the block: thinking is left off for that request (the mock, like Anthropic,
    // would refuse the turn with thinking on), noted in the log
    const stripped = messages.map((m) => (m.role === "assistant" ? { ...m, thinking_blocks: undefined, reasoning_content: undefined } : m));
    const { ctx, result } = chat({ messages: stripped, tools: [WEATHER_TOOL], max_tokens: 8000, thinking });
    const third = await json(result);
    expect(third.choices[0].message.content).toBe("echo: Weather in Paris?");
    expect(third.choices[0].message.reasoning_content).toBeUndefined();
    const up = mock.requests[2]!.body;
    expect(up.thinking).toBeUndefined();
    expect(up.max_tokens).toBe(8000);
    expect(up.messages[1].content.map((b: any) => b.type)).toEqual(["tool_use"]);
    expect(ctx.notes).toEqual([THINKING_OFF_IN_TOOL_LOOP_NOTE]);
  });

  test("cache_control on system and tools; cached usage reported", async () => {
    mock.reply({
      json: anthropicMessage({ usage: { input_tokens: 50, cache_read_input_tokens: 100000, cache_creation_input_tokens: 248, output_tokens: 503 } }),
    });
    const body = await json(
      chat({
        messages: [
          { role: "system", content: [{ type: "text", text: "Huge manual", cache_control: { type: "ephemeral", ttl: "1h" } }] },
          { role: "user", content: "Question" },
        ],
        tools: [{ ...WEATHER_TOOL, cache_control: { type: "ephemeral" } }],
      }).result,
    );
    expect(mock.requests[0]!.body.system).toEqual([{ type: "text", text: "Huge manual", cache_control: { type: "ephemeral", ttl: "1h" } }]);
    expect(mock.requests[0]!.body.tools[0].cache_control).toEqual({ type: "ephemeral" });
    expect(body.usage).toEqual({
      prompt_tokens: 100298,
      completion_tokens: 503,
      total_tokens: 100801,
      prompt_tokens_details: { cached_tokens: 100000, cache_creation_tokens: 248 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  test("betas and account headers: combined anthropic-beta, extra headers sent", async () => {
    await json(
      chat(
        { messages: [{ role: "user", content: [{ type: "file", file: { file_id: "file_abc" } }, { type: "text", text: "Summarize" }] }] },
        { settings: { headers: { "anthropic-beta": "context-1m-2025-08-07", "x-team": "search" } } },
      ).result,
    );
    expect(mock.requests[0]!.headers["anthropic-beta"]).toBe("context-1m-2025-08-07,files-api-2025-04-14");
    expect(mock.requests[0]!.headers["x-team"]).toBe("search");
  });

  test("dropped parameters are noted in ctx.notes; untranslatable input fails before any upstream call", async () => {
    const { ctx, result } = chat({ messages: [{ role: "user", content: "Hi" }], seed: 7 }, { settings: { drop_unsupported_params: true } });
    await json(result);
    expect(ctx.notes).toEqual(["dropped unsupported parameter 'seed' (Anthropic has no equivalent)"]);
    const err = await rejection(chat({ messages: [{ role: "user", content: "Hi" }], temperature: 1.7 }).result);
    expect(err.param).toBe("temperature");
    expect(mock.requests).toHaveLength(1);
  });

  test("max_tokens defaults to the model config, then the family table", async () => {
    await json(chat({ messages: [{ role: "user", content: "Hi" }] }, { maxOutputTokens: 1234 }).result);
    await json(chat({ messages: [{ role: "user", content: "Hi" }] }, { modelId: "claude-3-5-haiku-20241022" }).result);
    expect(mock.requests.map((r) => r.body.max_tokens)).toEqual([1234, 8192]);
  });
});

describe("anthropicAdapter errors", () => {
  test("400 from upstream keeps status, type and message", async () => {
    mock.reply({ status: 400, json: anthropicErrorBody("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum") });
    const err = await rejection(chat({ messages: [{ role: "user", content: "Hi" }] }).result);
    expect(err.status).toBe(400);
    expect(err.type).toBe("invalid_request_error");
    expect(err.message).toBe("Upstream error from account 'anthropic-main': prompt is too long: 210000 tokens > 200000 maximum");
  });

  test("401 for a bad key", async () => {
    const err = await rejection(chat({ messages: [{ role: "user", content: "Hi" }] }, { apiKey: "sk-ant-revoked" }).result);
    expect(err.status).toBe(401);
    expect(err.type).toBe("authentication_error");
    expect(err.account).toBe("anthropic-main");
  });

  test("429 with retry-after", async () => {
    mock.reply({ status: 429, json: anthropicErrorBody("rate_limit_error", "Rate limited"), headers: { "retry-after": "30" } });
    const err = await rejection(chat({ messages: [{ role: "user", content: "Hi" }] }).result);
    expect(err.status).toBe(429);
    expect(err.headers).toEqual({ "retry-after": "30" });
  });

  test("529 before the first token, over HTTP (streaming request)", async () => {
    mock.reply({ status: 529, json: anthropicErrorBody("overloaded_error", "Overloaded") });
    const err = await rejection(chat({ messages: [{ role: "user", content: "Hi" }], stream: true }).result);
    expect(err.status).toBe(529);
    expect(err.type).toBe("overloaded_error");
  });

  test("529 before the first token, as an SSE error event: the first item is the error", async () => {
    mock.reply({ stream: [{ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }] });
    const out = await items(chat({ messages: [{ role: "user", content: "Hi" }], stream: true }).result);
    expect(out).toHaveLength(1);
    expect("error" in out[0]! && out[0].error.status).toBe(529);
  });

  test("an error mid-stream ends the stream after the content so far", async () => {
    const events = messageToStreamEvents(anthropicMessage({ content: [{ type: "text", text: "Once upon a time" }] }), { chunkSize: 5 });
    mock.reply({ stream: [...events.slice(0, 4), { type: "error", error: { type: "api_error", message: "Internal server error" } }, ...events.slice(4)] });
    const a = assemble(await items(chat({ messages: [{ role: "user", content: "Story" }], stream: true }).result));
    expect(a.content).toBe("Once upon ");
    expect(a.errors).toHaveLength(1);
    expect(a.errors[0].status).toBe(500);
    expect(a.finishReason).toBeNull();
  });

  test("an unreachable upstream → 502 naming the account", async () => {
    const ctx = testContext("http://127.0.0.1:1");
    const err = await rejection(anthropicAdapter.chat(ctx, { model: "x", messages: [{ role: "user", content: "Hi" }] }));
    expect(err.status).toBe(502);
    expect(err.message).toContain("anthropic-main");
  });
});

describe("anthropicAdapter (streaming)", () => {
  for (const file of fixtureFiles(".chunks.txt")) {
    test(`${file} over real SSE equals the direct translation`, async () => {
      const events = readChunksFixture(file);
      mock.reply({ stream: events, delayMs: 1 });
      const viaHttp = assemble(await items(chat({ messages: [{ role: "user", content: "Hi" }], stream: true, stream_options: { include_usage: true } }).result));
      const direct = assemble(await collect(streamOf(events).pipeThrough(anthropicStreamTranslator({ account: "anthropic-main" }))));
      expect(mock.requests[0]!.body.stream).toBe(true);
      expect(viaHttp.errors).toEqual([]);
      expect(viaHttp.content).toBe(direct.content);
      expect(viaHttp.reasoning).toBe(direct.reasoning);
      expect(viaHttp.toolCalls).toEqual(direct.toolCalls);
      expect(viaHttp.thinkingBlocks).toEqual(direct.thinkingBlocks);
      expect(viaHttp.finishReason).toBe(direct.finishReason);
      expect(viaHttp.usage).toEqual(direct.usage);
      expect(viaHttp.usage.prompt_tokens).toBeGreaterThan(0);
    });
  }

  test("json_schema in a stream: fragments as content, finish stop", async () => {
    const events = readChunksFixture("anthropic-json-tool.1.chunks.txt").map((e) =>
      e.type === "content_block_start" ? { ...e, content_block: { ...e.content_block, name: "json_output" } } : e,
    );
    mock.reply({ stream: events });
    const a = assemble(
      await items(
        chat({ messages: [{ role: "user", content: "Weather JSON" }], stream: true, response_format: { type: "json_schema", json_schema: { name: "w", schema: { type: "object" } } } })
          .result,
      ),
    );
    expect(JSON.parse(a.content)).toEqual({ elements: [{ location: "San Francisco", temperature: 58, condition: "sunny" }] });
    expect(a.finishReason).toBe("stop");
  });
});
