/**
 * End to end through the gateway with the OpenAI SDK, against the Anthropic mock: `reasoning_effort`
 * and native `thinking`, thinking with tools over two turns (signature sent back, or dropped by the
 * client: thinking left off for that turn), prompt caching (`cache_control`, cached usage, cost with
 * separate cache read / write prices).
 */
import { describe, expect, test } from "bun:test";
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { anthropicMessage, messageToStreamEvents } from "../mocks/anthropic.ts";
import { schemaErrors } from "../helpers/openapi.ts";
import {
  assembleStream,
  DEFAULT_MAX_TOKENS,
  expectAnthropicHeaders,
  MODEL,
  MODEL_ID,
  useAnthropicGateway, WEATHER,
} from "./anthropic-setup.ts";

const t = useAnthropicGateway();


describe("reasoning_effort → thinking budgets", () => {
  const cases: Array<[effort: "low" | "medium" | "high", maxTokens: number | undefined, budget: number]> = [
    ["low", 10_000, 3_000],
    ["medium", 10_000, 6_000],
    ["high", 10_000, 9_000],
    ["low", undefined, 19_200], // 30 % of the model's 64 000
    ["high", undefined, 57_600],
    ["low", 2_000, 1_024], // 600 is under Anthropic's minimum
  ];
  for (const [effort, maxTokens, budget] of cases) {
    test(`${effort}, max_tokens ${maxTokens ?? "unset"} → budget ${budget}`, async () => {
      const res = await t.client.chat.completions.create({
        model: MODEL,
        messages: [{ role: "user", content: "Think first." }],
        reasoning_effort: effort,
        ...(maxTokens ? { max_completion_tokens: maxTokens } : {}),
      });
      const up = t.last();
      expectAnthropicHeaders(up, t.key);
      expect(up.body.thinking).toEqual({ type: "enabled", budget_tokens: budget });
      expect(up.body.max_tokens).toBe(maxTokens ?? DEFAULT_MAX_TOKENS);
      expect(up.body.reasoning_effort).toBeUndefined();
      // the mock thinks first when thinking is on
      const msg: any = res.choices[0]!.message;
      expect(msg.content).toBe("echo: Think first.");
      expect(msg.reasoning_content).toBe("Let me think about that.");
      expect(msg.thinking_blocks).toEqual([{ type: "thinking", thinking: "Let me think about that.", signature: expect.stringMatching(/^mock-signature-/) }]);
      expect(schemaErrors("CreateChatCompletionResponse", res)).toEqual([]);
    });
  }

  test("a max_tokens too small for the minimum budget is raised, with a note in the log; temperature dropped", async () => {
    await t.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "Think." }],
      reasoning_effort: "medium",
      max_tokens: 500,
      temperature: 0.3,
    });
    const up = t.last();
    expect(up.body.thinking).toEqual({ type: "enabled", budget_tokens: 1024 });
    expect(up.body.max_tokens).toBe(1524);
    expect(up.body.temperature).toBeUndefined();
    const notes = t.g.logs()[0].notes as string;
    expect(notes).toContain("max_tokens raised from 500 to 1524");
    expect(notes).toContain("dropped temperature");
  });
});

describe("thinking and forced tool use", () => {
  test("reasoning + tool_choice required → 400 param tool_choice, nothing sent (Anthropic forbids it)", async () => {
    const err = await t.client.chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "x" }], tools: [WEATHER], tool_choice: "required", reasoning_effort: "low" })
      .catch((e) => e);
    expect(err.status).toBe(400);
    expect(err.error.param).toBe("tool_choice");
    expect(err.error.message).toContain("cannot be combined with reasoning");
    expect(t.mock.requests).toHaveLength(0);
  });

  test("reasoning + response_format: the JSON tool is offered, not forced (auto), and its input is the content", async () => {
    t.mock.reply({
      json: anthropicMessage({
        model: MODEL_ID,
        content: [
          { type: "thinking", thinking: "A small object will do.", signature: "sig-json" },
          { type: "tool_use", id: "toolu_01J", name: "json_output", input: { answer: 42 } },
        ],
        stop_reason: "tool_use",
      }),
    });
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "The answer, as JSON" }],
      reasoning_effort: "low",
      max_completion_tokens: 4000,
      response_format: { type: "json_object" },
    });
    expect(t.last().body.tool_choice).toEqual({ type: "auto" });
    expect(t.last().body.thinking).toEqual({ type: "enabled", budget_tokens: 1200 });
    expect(res.choices[0]!.message.content).toBe('{"answer":42}');
    expect((res.choices[0]!.message as any).reasoning_content).toBe("A small object will do.");
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(t.g.logs()[0].notes).toContain("structured-output tool no longer forced");
  });
});

describe("native thinking object", () => {
  test("passed through as is, and wins over reasoning_effort", async () => {
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "Native." }],
      max_tokens: 4096,
      reasoning_effort: "high",
      thinking: { type: "enabled", budget_tokens: 2048 },
    } as any);
    const up = t.last();
    expect(up.body.thinking).toEqual({ type: "enabled", budget_tokens: 2048 });
    expect(up.body.max_tokens).toBe(4096);
    expect((res.choices[0]!.message as any).reasoning_content).toBe("Let me think about that.");
    expect(res.choices[0]!.message.content).toBe("echo: Native.");
  });

  test("thinking: disabled is passed through and the answer has no reasoning", async () => {
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "No thinking." }],
      thinking: { type: "disabled" },
    } as any);
    expect(t.last().body.thinking).toEqual({ type: "disabled" });
    expect((res.choices[0]!.message as any).reasoning_content).toBeUndefined();
    expect(res.choices[0]!.message.content).toBe("echo: No thinking.");
  });
});

describe("thinking + tools over two turns", () => {
  const SIGNATURE = "EqQBCkYIBRgCIkDsig+/turn1+signature==";
  const turnOne = () =>
    anthropicMessage({
      id: "msg_01Think1",
      model: MODEL_ID,
      content: [
        { type: "thinking", thinking: "The user wants the weather. I should call get_weather.", signature: SIGNATURE },
        { type: "text", text: "Let me look." },
        { type: "tool_use", id: "toolu_01Berlin", name: "get_weather", input: { city: "Berlin" } },
      ],
      stop_reason: "tool_use",
      usage: { input_tokens: 300, output_tokens: 90 },
    });
  const expectedAssistantTurn = {
    role: "assistant",
    content: [
      { type: "thinking", thinking: "The user wants the weather. I should call get_weather.", signature: SIGNATURE },
      { type: "text", text: "Let me look." },
      { type: "tool_use", id: "toolu_01Berlin", name: "get_weather", input: { city: "Berlin" } },
    ],
  };
  const finalAnswer = () =>
    anthropicMessage({
      id: "msg_01Think2",
      model: MODEL_ID,
      content: [{ type: "text", text: "Berlin: 9 °C and raining." }],
      usage: { input_tokens: 420, output_tokens: 12 },
    });

  test("non-stream: the SDK's assistant message (with thinking_blocks) goes back; the signature reaches Anthropic", async () => {
    t.mock.reply({ json: turnOne() });
    const messages: ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Berlin?" }];
    const body = { model: MODEL, tools: [WEATHER], reasoning_effort: "low" as const, max_completion_tokens: 8000 };
    const first = await t.client.chat.completions.create({ ...body, messages });
    const msg: any = first.choices[0]!.message;
    expect(first.choices[0]!.finish_reason).toBe("tool_calls");
    expect(msg.reasoning_content).toBe("The user wants the weather. I should call get_weather.");
    expect(msg.thinking_blocks).toEqual([expectedAssistantTurn.content[0]]);
    expect(msg.tool_calls[0]).toEqual({ id: "toolu_01Berlin", type: "function", function: { name: "get_weather", arguments: '{"city":"Berlin"}' } });
    expect(t.last().body.thinking).toEqual({ type: "enabled", budget_tokens: 2400 });

    messages.push(msg, { role: "tool", tool_call_id: "toolu_01Berlin", content: "9 °C, rain" });
    t.mock.reply({ json: finalAnswer() });
    const second = await t.client.chat.completions.create({ ...body, messages });
    expect(second.choices[0]!.message.content).toBe("Berlin: 9 °C and raining.");
    expect(t.mock.requests).toHaveLength(2);
    const up = t.last();
    expectAnthropicHeaders(up, t.key);
    expect(up.body.messages).toEqual([
      { role: "user", content: "Weather in Berlin?" },
      expectedAssistantTurn,
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01Berlin", content: "9 °C, rain" }] },
    ]);
  });

  test("stream: reasoning and the signed block stream out; rebuilt from deltas, they are accepted back", async () => {
    t.mock.reply({ stream: messageToStreamEvents(turnOne(), { chunkSize: 10 }) });
    const messages: ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Berlin?" }];
    const body = { model: MODEL, tools: [WEATHER], reasoning_effort: "low" as const, max_completion_tokens: 8000 };
    const a = await assembleStream(await t.client.chat.completions.create({ ...body, messages, stream: true }));
    expect(a.reasoning).toBe("The user wants the weather. I should call get_weather.");
    expect(a.thinkingBlocks).toEqual([expectedAssistantTurn.content[0]]);
    expect(a.content).toBe("Let me look.");
    expect(a.toolCalls).toEqual([{ index: 0, id: "toolu_01Berlin", type: "function", name: "get_weather", arguments: '{"city":"Berlin"}' }]);
    expect(a.finishReason).toBe("tool_calls");
    for (const c of a.chunks) expect(schemaErrors("CreateChatCompletionStreamResponse", c)).toEqual([]);

    messages.push({
      role: "assistant",
      content: a.content,
      tool_calls: a.toolCalls.map((c) => ({ id: c.id, type: "function" as const, function: { name: c.name, arguments: c.arguments } })),
      thinking_blocks: a.thinkingBlocks,
    } as any);
    messages.push({ role: "tool", tool_call_id: "toolu_01Berlin", content: "9 °C, rain" });
    t.mock.reply({ stream: messageToStreamEvents(finalAnswer()) });
    const b = await assembleStream(await t.client.chat.completions.create({ ...body, messages, stream: true }));
    expect(b.content).toBe("Berlin: 9 °C and raining.");
    expect(b.finishReason).toBe("stop");
    expect(t.last().body.messages[1]).toEqual(expectedAssistantTurn);
  });
});

describe("thinking + tools when the client drops thinking_blocks", () => {
  test("the resent tool turn has no thinking block: thinking is left off for that request (noted), not a 400", async () => {
    const messages: ChatCompletionMessageParam[] = [{ role: "user", content: "Weather in Berlin?" }];
    const body = { model: MODEL, tools: [WEATHER], reasoning_effort: "low" as const, max_completion_tokens: 8000, temperature: 0.5 };
    t.mock.reply({
      json: anthropicMessage({
        model: MODEL_ID,
        content: [
          { type: "thinking", thinking: "I should call get_weather.", signature: "EqQBCkYIBRgCIkD+dropped+signature==" },
          { type: "tool_use", id: "toolu_01Drop", name: "get_weather", input: { city: "Berlin" } },
        ],
        stop_reason: "tool_use",
      }),
    });
    const first = await t.client.chat.completions.create({ ...body, messages });
    expect(t.last().body.thinking).toEqual({ type: "enabled", budget_tokens: 2400 });
    const msg = first.choices[0]!.message;
    // what a typed client (LangChain, an SDK model class) resends: only the standard fields
    messages.push({ role: "assistant", content: msg.content, tool_calls: msg.tool_calls });
    messages.push({ role: "tool", tool_call_id: "toolu_01Drop", content: "9 °C, rain" });

    const second = await t.client.chat.completions.create({ ...body, messages });
    expect(t.mock.requests).toHaveLength(2);
    const up = t.last();
    expectAnthropicHeaders(up, t.key);
    // the mock, like Anthropic, would answer 400 to this turn with thinking on
    expect(up.body.thinking).toBeUndefined();
    expect(up.body.max_tokens).toBe(8000);
    expect(up.body.temperature).toBe(0.5);
    expect(up.body.messages[1]).toEqual({ role: "assistant", content: [{ type: "tool_use", id: "toolu_01Drop", name: "get_weather", input: { city: "Berlin" } }] });
    expect(second.choices[0]!.message.content).toBe("echo: Weather in Berlin?");
    expect((second.choices[0]!.message as any).reasoning_content).toBeUndefined();
    expect(schemaErrors("CreateChatCompletionResponse", second)).toEqual([]);

    const log = t.g.logs()[0];
    expect(log.status).toBe(200);
    expect(log.notes).toBe("thinking disabled: the assistant turn with tool calls being answered carries no thinking block (send message.thinking_blocks back to keep thinking on)");
  });
});

describe("prompt caching", () => {
  const LONG_SYSTEM = "You are the support assistant of ACME. ".repeat(40).trim();
  const cachedRequest = (): ChatCompletionCreateParamsNonStreaming =>
    ({
      model: MODEL,
      messages: [
        { role: "system", content: [{ type: "text", text: LONG_SYSTEM, cache_control: { type: "ephemeral" } }] },
        { role: "user", content: "Where is my order?", cache_control: { type: "ephemeral" } },
      ],
      tools: [{ ...WEATHER, cache_control: { type: "ephemeral" } }],
    }) as any;
  const cachedUsage = { input_tokens: 50, cache_read_input_tokens: 2000, cache_creation_input_tokens: 1500, output_tokens: 100 };
  const cachedAnswer = () =>
    anthropicMessage({ id: "msg_01Cached", model: MODEL_ID, content: [{ type: "text", text: "It ships tomorrow." }], usage: cachedUsage });

  /** Claude Sonnet 4's prices as the gateway's catalogue endpoint reports them. */
  async function sonnet4Prices() {
    const res = await t.g.admin("/catalog/anthropic");
    expect(res.status).toBe(200);
    const catalog = (await res.json()) as any;
    expect(catalog.unit).toBe("USD per 1M tokens");
    const entry = catalog.data.find((m: any) => m.id === "claude-sonnet-4-0");
    expect(entry).toMatchObject({ name: "Claude Sonnet 4", input: 3, output: 15, cache_read: 0.3, cache_write: 3.75 });
    return entry as { input: number; output: number; cache_read: number; cache_write: number };
  }
  const expectedCost = (p: Awaited<ReturnType<typeof sonnet4Prices>>) =>
    (50 * p.input + 2000 * p.cache_read + 1500 * p.cache_write + 100 * p.output) / 1e6;

  test("cache_control on system and tools reaches Anthropic; cached usage and cost with separate cache prices", async () => {
    t.mock.reply({ json: cachedAnswer() });
    const res = await t.client.chat.completions.create(cachedRequest());
    const up = t.last();
    expectAnthropicHeaders(up, t.key);
    expect(up.body.system).toEqual([{ type: "text", text: LONG_SYSTEM, cache_control: { type: "ephemeral" } }]);
    expect(up.body.tools).toEqual([
      { name: "get_weather", description: "Current weather for a city", input_schema: WEATHER.function.parameters, cache_control: { type: "ephemeral" } },
    ]);
    // cache_control on a whole message goes on its (last) block
    expect(up.body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "Where is my order?", cache_control: { type: "ephemeral" } }] },
    ]);

    expect(res.choices[0]!.message.content).toBe("It ships tomorrow.");
    expect(res.usage).toMatchObject({
      prompt_tokens: 3550, // input + cache read + cache creation
      completion_tokens: 100,
      total_tokens: 3650,
      prompt_tokens_details: { cached_tokens: 2000 },
    });
    expect(schemaErrors("CreateChatCompletionResponse", res)).toEqual([]);

    const prices = await sonnet4Prices();
    const log = t.g.logs()[0];
    expect(log.prompt_tokens).toBe(3550);
    expect(log.cached_tokens).toBe(2000);
    expect(log.cache_write_tokens).toBe(1500);
    expect(log.completion_tokens).toBe(100);
    // 50×3 + 2000×0.3 + 1500×3.75 + 100×15 = 7875 USD per 1M
    expect(log.cost_usd).toBeCloseTo(expectedCost(prices), 12);
    expect(log.cost_usd).toBeCloseTo(0.007875, 12);
    // pricing the whole prompt at the input rate would give a different figure
    expect(Math.abs(log.cost_usd - (3550 * 3 + 100 * 15) / 1e6)).toBeGreaterThan(1e-4);
  });

  test("streamed: the usage chunk carries the cached tokens and the log the same cost", async () => {
    t.mock.reply({ stream: messageToStreamEvents(cachedAnswer()) });
    const a = await assembleStream(await t.client.chat.completions.create({ ...cachedRequest(), stream: true, stream_options: { include_usage: true } }));
    expect(a.content).toBe("It ships tomorrow.");
    expect(a.chunks.at(-1)!.usage).toMatchObject({ prompt_tokens: 3550, completion_tokens: 100, prompt_tokens_details: { cached_tokens: 2000 } });
    const log = t.g.logs()[0];
    expect(log.stream).toBe(1);
    expect(log.cached_tokens).toBe(2000);
    expect(log.cache_write_tokens).toBe(1500);
    expect(log.cost_usd).toBeCloseTo(expectedCost(await sonnet4Prices()), 12);
  });
});
