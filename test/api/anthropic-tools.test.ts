/**
 * End to end through the gateway with the OpenAI SDK, against the Anthropic mock: tools and
 * `tool_choice`, a full tool round trip, parallel tool calls in a stream, `response_format`.
 */
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import { anthropicMessage, messageToStreamEvents } from "../mocks/anthropic.ts";
import { schemaErrors } from "../helpers/openapi.ts";
import { assembleStream, expectAnthropicHeaders, MODEL, MODEL_ID, rejection, useAnthropicGateway, WEATHER } from "./anthropic-setup.ts";

const t = useAnthropicGateway();

const TIME: ChatCompletionTool = {
  type: "function",
  function: { name: "get_time", description: "Local time in a city", parameters: { type: "object", properties: { city: { type: "string" } } } },
};
const ANTHROPIC_TOOLS = [
  { name: "get_weather", description: "Current weather for a city", input_schema: WEATHER.function.parameters },
  { name: "get_time", description: "Local time in a city", input_schema: TIME.function.parameters },
];
const ask = (content: string): ChatCompletionMessageParam[] => [{ role: "user", content }];

const toolUseMessage = (id: string, calls: Array<{ id: string; name: string; input: any }>, text?: string) =>
  anthropicMessage({
    id,
    model: MODEL_ID,
    content: [...(text ? [{ type: "text", text }] : []), ...calls.map((c) => ({ type: "tool_use", ...c }))],
    stop_reason: "tool_use",
    usage: { input_tokens: 120, output_tokens: 40 },
  });

describe("tool_choice, each kind", () => {
  test("auto → {type:auto}; a tool_use answer becomes tool_calls with Anthropic's id", async () => {
    t.mock.reply({ json: toolUseMessage("msg_01Auto", [{ id: "toolu_01Paris", name: "get_weather", input: { city: "Paris" } }], "Let me check.") });
    const res = await t.client.chat.completions.create({ model: MODEL, messages: ask("Weather in Paris?"), tools: [WEATHER, TIME], tool_choice: "auto" });
    const up = t.last();
    expectAnthropicHeaders(up, t.key);
    expect(up.body.tools).toEqual(ANTHROPIC_TOOLS);
    expect(up.body.tool_choice).toEqual({ type: "auto" });

    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe("tool_calls");
    expect(choice.message.content).toBe("Let me check.");
    expect(choice.message.tool_calls).toEqual([
      { id: "toolu_01Paris", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
    ]);
    expect(schemaErrors("CreateChatCompletionResponse", res)).toEqual([]);
  });

  test("none → {type:none}, tools still sent; the answer is text", async () => {
    const res = await t.client.chat.completions.create({ model: MODEL, messages: ask("Just chat."), tools: [WEATHER], tool_choice: "none" });
    expect(t.last().body.tool_choice).toEqual({ type: "none" });
    expect(t.last().body.tools).toEqual([ANTHROPIC_TOOLS[0]]);
    expect(res.choices[0]!.message.content).toBe("echo: Just chat.");
    expect(res.choices[0]!.message.tool_calls).toBeUndefined();
    expect(res.choices[0]!.finish_reason).toBe("stop");
  });

  test("required → {type:any}; parallel_tool_calls: false → disable_parallel_tool_use", async () => {
    t.mock.reply({ json: toolUseMessage("msg_01Any", [{ id: "toolu_01Time", name: "get_time", input: { city: "Oslo" } }]) });
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: ask("Time in Oslo?"),
      tools: [WEATHER, TIME],
      tool_choice: "required",
      parallel_tool_calls: false,
    });
    expect(t.last().body.tool_choice).toEqual({ type: "any", disable_parallel_tool_use: true });
    expect(res.choices[0]!.message.content).toBeNull();
    expect(res.choices[0]!.message.tool_calls![0]).toMatchObject({ id: "toolu_01Time", function: { name: "get_time", arguments: '{"city":"Oslo"}' } });
    expect(res.choices[0]!.finish_reason).toBe("tool_calls");
  });

  test("a named function → {type:tool, name}", async () => {
    // the mock answers a forced tool with a tool_use of that tool and empty input
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: ask("Anything"),
      tools: [WEATHER, TIME],
      tool_choice: { type: "function", function: { name: "get_time" } },
    });
    expect(t.last().body.tool_choice).toEqual({ type: "tool", name: "get_time" });
    const call = res.choices[0]!.message.tool_calls![0]!;
    expect(call.type).toBe("function");
    expect(call.id).toMatch(/^toolu_mock_/);
    expect((call as any).function).toEqual({ name: "get_time", arguments: "{}" });
    expect(res.choices[0]!.finish_reason).toBe("tool_calls");
  });

  test("a named function that is not in tools → 400 param tool_choice, nothing sent", async () => {
    const err = await rejection(
      t.client.chat.completions.create({ model: MODEL, messages: ask("x"), tools: [WEATHER], tool_choice: { type: "function", function: { name: "nope" } } }),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error.param).toBe("tool_choice");
    expect(t.mock.requests).toHaveLength(0);
  });
});

describe("a full tool round trip", () => {
  test("assistant tool_calls → tool results → final answer, the SDK's own message sent back", async () => {
    t.mock.reply({
      json: toolUseMessage("msg_01Turn1", [
        { id: "toolu_01W", name: "get_weather", input: { city: "Paris" } },
        { id: "toolu_01T", name: "get_time", input: { city: "Paris" } },
      ]),
    });
    const messages: ChatCompletionMessageParam[] = [
      { role: "system", content: "Use the tools." },
      { role: "user", content: "Weather and time in Paris?" },
    ];
    const first = await t.client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER, TIME] });
    const calls = first.choices[0]!.message.tool_calls!;
    expect(calls.map((c) => c.id)).toEqual(["toolu_01W", "toolu_01T"]);

    messages.push(first.choices[0]!.message as ChatCompletionMessageParam);
    messages.push({ role: "tool", tool_call_id: "toolu_01W", content: "18 °C, sunny" });
    messages.push({ role: "tool", tool_call_id: "toolu_01T", content: [{ type: "text", text: "14:05" }] });

    t.mock.reply({
      json: anthropicMessage({
        id: "msg_01Turn2",
        model: MODEL_ID,
        content: [{ type: "text", text: "It is 18 °C and sunny in Paris; the time is 14:05." }],
        usage: { input_tokens: 210, output_tokens: 18 },
      }),
    });
    const final = await t.client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER, TIME] });
    expect(final.id).toBe("msg_01Turn2");
    expect(final.choices[0]!.message.content).toBe("It is 18 °C and sunny in Paris; the time is 14:05.");
    expect(final.choices[0]!.finish_reason).toBe("stop");
    expect(final.usage!.prompt_tokens).toBe(210);

    const up = t.last();
    expectAnthropicHeaders(up, t.key);
    expect(up.body.system).toBe("Use the tools.");
    expect(up.body.messages).toEqual([
      { role: "user", content: "Weather and time in Paris?" },
      {
        role: "assistant",
        content: [
          { type: "tool_use", id: "toolu_01W", name: "get_weather", input: { city: "Paris" } },
          { type: "tool_use", id: "toolu_01T", name: "get_time", input: { city: "Paris" } },
        ],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_01W", content: "18 °C, sunny" },
          { type: "tool_result", tool_use_id: "toolu_01T", content: "14:05" },
        ],
      },
    ]);
    const logs = t.g.logs();
    expect(logs.slice(0, 2).map((l) => [l.prompt_tokens, l.completion_tokens])).toEqual([
      [210, 18],
      [120, 40],
    ]);
  });
});

describe("parallel tool calls in a stream", () => {
  test("two calls: stable indexes, id and name in the first deltas, argument fragments after, finish tool_calls", async () => {
    const message = toolUseMessage(
      "msg_01Parallel",
      [
        { id: "toolu_01Rome", name: "get_weather", input: { city: "Rome" } },
        { id: "toolu_01Oslo", name: "get_time", input: { city: "Oslo, Norway" } },
      ],
      "Checking both.",
    );
    t.mock.reply({ stream: messageToStreamEvents(message, { chunkSize: 5 }), delayMs: 2 });
    const stream = await t.client.chat.completions.create({
      model: MODEL,
      messages: ask("Weather in Rome and time in Oslo?"),
      tools: [WEATHER, TIME],
      stream: true,
      stream_options: { include_usage: true },
    });
    const a = await assembleStream(stream);

    expect(a.content).toBe("Checking both.");
    expect(a.finishReason).toBe("tool_calls");
    expect(a.toolCalls).toEqual([
      { index: 0, id: "toolu_01Rome", type: "function", name: "get_weather", arguments: '{"city":"Rome"}' },
      { index: 1, id: "toolu_01Oslo", type: "function", name: "get_time", arguments: '{"city":"Oslo, Norway"}' },
    ]);
    // first delta of each call: id, type, name, empty arguments
    expect(a.firstToolDeltas).toEqual([
      { index: 0, id: "toolu_01Rome", type: "function", function: { name: "get_weather", arguments: "" } },
      { index: 1, id: "toolu_01Oslo", type: "function", function: { name: "get_time", arguments: "" } },
    ]);
    // later deltas: only index and an arguments fragment, several per call
    const deltas = a.chunks.flatMap((c) => c.choices.flatMap((ch) => ch.delta.tool_calls ?? []));
    const later = deltas.filter((d) => !a.firstToolDeltas.includes(d));
    for (const d of later) {
      expect(d.id).toBeUndefined();
      expect(d.function?.name).toBeUndefined();
      expect(typeof d.function?.arguments).toBe("string");
    }
    expect(later.filter((d) => d.index === 0).length).toBeGreaterThan(1);
    expect(later.filter((d) => d.index === 1).length).toBeGreaterThan(1);
    // call 0 is complete before call 1 starts, as Anthropic streams blocks one after the other
    const order = deltas.map((d) => d.index);
    expect(order).toEqual([...order].sort());
    expect(a.usage).toMatchObject({ prompt_tokens: 120, completion_tokens: 40 });
    for (const c of a.chunks) expect(schemaErrors("CreateChatCompletionStreamResponse", c)).toEqual([]);
    expect(t.last().body.stream).toBe(true);
    expect(t.last().body.tools).toEqual(ANTHROPIC_TOOLS);
  });
});

describe("response_format", () => {
  const STRICT_SCHEMA = {
    type: "object",
    properties: { name: { type: "string" }, age: { type: "integer" } },
    required: ["name", "age"],
    additionalProperties: false,
  };
  const jsonAnswer = (input: any) =>
    anthropicMessage({
      id: "msg_01Json",
      model: MODEL_ID,
      content: [{ type: "tool_use", id: "toolu_01Json", name: "json_output", input }],
      stop_reason: "tool_use",
      usage: { input_tokens: 80, output_tokens: 20 },
    });

  test("json_schema strict: a forced json_output tool upstream, the JSON text as content, finish stop", async () => {
    t.mock.reply({ json: jsonAnswer({ name: "Ada", age: 36 }) });
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: ask("Who wrote the first program?"),
      response_format: { type: "json_schema", json_schema: { name: "person", strict: true, schema: STRICT_SCHEMA } },
    });
    expect(res.choices[0]!.message.content).toBe('{"name":"Ada","age":36}');
    expect(JSON.parse(res.choices[0]!.message.content!)).toEqual({ name: "Ada", age: 36 });
    expect(res.choices[0]!.message.tool_calls).toBeUndefined();
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(schemaErrors("CreateChatCompletionResponse", res)).toEqual([]);

    const up = t.last();
    expectAnthropicHeaders(up, t.key);
    expect(up.body.tools).toEqual([{ name: "json_output", description: "Respond with a JSON object (person).", input_schema: STRICT_SCHEMA }]);
    expect(up.body.tool_choice).toEqual({ type: "tool", name: "json_output" });
  });

  test("json_schema strict, streamed: the JSON arrives as content fragments", async () => {
    t.mock.reply({ stream: messageToStreamEvents(jsonAnswer({ name: "Grace Hopper", age: 85 }), { chunkSize: 6 }) });
    const stream = await t.client.chat.completions.create({
      model: MODEL,
      messages: ask("Another one"),
      response_format: { type: "json_schema", json_schema: { name: "person", strict: true, schema: STRICT_SCHEMA } },
      stream: true,
    });
    const a = await assembleStream(stream);
    expect(JSON.parse(a.content)).toEqual({ name: "Grace Hopper", age: 85 });
    expect(a.chunks.filter((c) => c.choices[0]?.delta?.content).length).toBeGreaterThan(3);
    expect(a.toolCalls).toEqual([]);
    expect(a.finishReason).toBe("stop");
  });

  test("json_schema non-strict: optional properties allowed; content is the JSON text", async () => {
    const schema = { type: "object", properties: { city: { type: "string" }, country: { type: "string" } }, required: ["city"] };
    t.mock.reply({ json: jsonAnswer({ city: "Lyon" }) });
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: ask("A French city"),
      response_format: { type: "json_schema", json_schema: { name: "place", description: "A place", schema } },
    });
    expect(JSON.parse(res.choices[0]!.message.content!)).toEqual({ city: "Lyon" });
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(t.last().body.tools).toEqual([{ name: "json_output", description: "Respond with a JSON object (place): A place", input_schema: schema }]);
    expect(t.last().body.tool_choice).toEqual({ type: "tool", name: "json_output" });
  });

  test("json_object: an open object schema; with client tools the model may call either (tool_choice any)", async () => {
    t.mock.reply({ json: jsonAnswer({ ok: true, items: [1, 2] }) });
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: ask("JSON please"),
      tools: [WEATHER],
      response_format: { type: "json_object" },
    });
    expect(res.choices[0]!.message.content).toBe('{"ok":true,"items":[1,2]}');
    expect(res.choices[0]!.message.tool_calls).toBeUndefined();
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(t.last().body.tools).toEqual([
      ANTHROPIC_TOOLS[0],
      { name: "json_output", description: "Respond with a JSON object.", input_schema: { type: "object", additionalProperties: true } },
    ]);
    expect(t.last().body.tool_choice).toEqual({ type: "any" });
  });

  test("strict schema with a property missing from required → 400 before any upstream call", async () => {
    const err = await rejection(
      t.client.chat.completions.create({
        model: MODEL,
        messages: ask("x"),
        response_format: {
          type: "json_schema",
          json_schema: { name: "person", strict: true, schema: { ...STRICT_SCHEMA, required: ["name"] } },
        },
      }),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error.param).toBe("response_format");
    expect(err.error.message).toContain("Missing 'age'");
    expect(t.mock.requests).toHaveLength(0);
  });
});
