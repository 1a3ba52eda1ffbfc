/**
 * End to end with the OpenAI SDK, against the Anthropic mock (which enforces the rules in question as Anthropic
 * does): structured output when the model writes text before the JSON tool (streamed and not), tool-call ids from
 * other providers, whitespace-only text in the history, whitespace-only stop sequences, and an Anthropic error
 * answered with a 200.
 */
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { makeParseableResponseFormat } from "openai/lib/parser";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import { anthropicErrorBody, anthropicMessage, messageToStreamEvents } from "../mocks/anthropic.ts";
import { assembleStream, MODEL, MODEL_ID, rejection, useAnthropicGateway, WEATHER } from "./anthropic-setup.ts";

const t = useAnthropicGateway();

describe("response_format when the model writes text before the JSON tool", () => {
  const schema = { type: "object", properties: { a: { type: "string" } }, required: ["a"], additionalProperties: false };
  const responseFormat = { type: "json_schema" as const, json_schema: { name: "thing", strict: true, schema } };
  const answer = (content: any[]) => anthropicMessage({ id: "msg_01TextFirst", model: MODEL_ID, content, stop_reason: "tool_use" });
  const textThenJson = () =>
    answer([
      { type: "thinking", thinking: "The user wants JSON.", signature: "sig-1" },
      { type: "text", text: "I'll call a tool." },
      { type: "tool_use", id: "toolu_01J", name: "json_output", input: { a: "x" } },
    ]);
  const ask = { model: MODEL, messages: [{ role: "user" as const, content: "A thing, as JSON" }], reasoning_effort: "low" as const, max_completion_tokens: 4000, response_format: responseFormat };

  test("non-stream and stream give the same content; the SDK's stream helper parses it", async () => {
    t.mock.reply({ json: textThenJson() });
    const whole = await t.client.chat.completions.create(ask);
    expect(whole.choices[0]!.message.content).toBe('{"a":"x"}');
    expect((whole.choices[0]!.message as any).reasoning_content).toBe("The user wants JSON.");

    // what zodResponseFormat makes, with JSON.parse as the parser
    const parseable = makeParseableResponseFormat(responseFormat, (content) => JSON.parse(content) as { a: string });
    t.mock.reply({ stream: messageToStreamEvents(textThenJson(), { chunkSize: 3 }) });
    const done = await t.client.chat.completions.stream({ ...ask, response_format: parseable }).finalChatCompletion();
    expect(done.choices[0]!.message.content).toBe('{"a":"x"}');
    expect(done.choices[0]!.message.parsed).toEqual({ a: "x" });
    expect(done.choices[0]!.finish_reason).toBe("stop");
    expect(t.last().body.tool_choice).toEqual({ type: "auto" });
  });

  test("with client tools sent along: the JSON still arrives alone as the content", async () => {
    t.mock.reply({ stream: messageToStreamEvents(answer([{ type: "text", text: "Here it is: " }, { type: "tool_use", id: "toolu_01K", name: "json_output", input: { a: "y" } }])) });
    const a = await assembleStream(await t.client.chat.completions.create({ ...ask, reasoning_effort: undefined, tools: [WEATHER], stream: true }));
    expect(JSON.parse(a.content)).toEqual({ a: "y" });
    expect(a.toolCalls).toEqual([]);
    expect(t.last().body.tool_choice).toEqual({ type: "any" });
  });

  test("an answer that never calls the JSON tool still arrives, streamed or not, the same", async () => {
    const noTool = () => anthropicMessage({ model: MODEL_ID, content: [{ type: "text", text: "I cannot answer that." }], stop_reason: "end_turn" });
    t.mock.reply({ json: noTool() });
    const whole = await t.client.chat.completions.create(ask);
    t.mock.reply({ stream: messageToStreamEvents(noTool(), { chunkSize: 4 }) });
    const a = await assembleStream(await t.client.chat.completions.create({ ...ask, stream: true }));
    expect(whole.choices[0]!.message.content).toBe("I cannot answer that.");
    expect(a.content).toBe("I cannot answer that.");
    expect(a.finishReason).toBe("stop");
  });
});

describe("tool-call ids Anthropic would refuse", () => {
  test("ids made elsewhere ('call.abc:1') are mapped the same way for the call and its result: the turn is answered", async () => {
    const messages: ChatCompletionMessageParam[] = [
      { role: "user", content: "Weather in Oslo and Lyon?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          { id: "call.abc:1", type: "function", function: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
          { id: "call:abc.1", type: "function", function: { name: "get_weather", arguments: '{"city":"Lyon"}' } },
        ],
      },
      { role: "tool", tool_call_id: "call:abc.1", content: "Lyon: 11°C" },
      { role: "tool", tool_call_id: "call.abc:1", content: "Oslo: 4°C" },
    ];
    t.mock.reply({ json: anthropicMessage({ model: MODEL_ID, content: [{ type: "text", text: "Oslo 4°C, Lyon 11°C." }] }) });
    const res = await t.client.chat.completions.create({ model: MODEL, messages, tools: [WEATHER] });
    expect(res.choices[0]!.message.content).toBe("Oslo 4°C, Lyon 11°C.");

    const sent = t.last().body.messages;
    expect(sent[1].content.map((b: any) => [b.id, b.input.city])).toEqual([["call_abc_1", "Oslo"], ["call_abc_1_2", "Lyon"]]);
    expect(sent[2].content.map((b: any) => [b.tool_use_id, b.content])).toEqual([["call_abc_1_2", "Lyon: 11°C"], ["call_abc_1", "Oslo: 4°C"]]);
    expect(t.g.logs()[0].notes).toContain("tool-call ids rewritten for Anthropic");
  });

  test("Anthropic's own ids go round trip unchanged: the call's id is what the tool message answers", async () => {
    t.mock.reply({ json: anthropicMessage({ model: MODEL_ID, content: [{ type: "tool_use", id: "toolu_01Round-Trip_9", name: "get_weather", input: { city: "Oslo" } }], stop_reason: "tool_use" }) });
    const first = await t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Oslo?" }], tools: [WEATHER] });
    const call = first.choices[0]!.message.tool_calls![0]!;
    expect(call.id).toBe("toolu_01Round-Trip_9");
    await t.client.chat.completions.create({
      model: MODEL,
      tools: [WEATHER],
      messages: [{ role: "user", content: "Oslo?" }, first.choices[0]!.message, { role: "tool", tool_call_id: call.id, content: "4°C" }],
    });
    const sent = t.last().body.messages;
    expect(sent[1].content[0].id).toBe("toolu_01Round-Trip_9");
    expect(sent[2].content[0].tool_use_id).toBe("toolu_01Round-Trip_9");
    expect(t.g.logs()[0].notes).toBeNull();
  });
});

describe("whitespace-only text", () => {
  test("an assistant '\\n\\n' and a user '  ' in the history do not break later turns", async () => {
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: "user", content: "Q1" },
        { role: "assistant", content: "\n\n" },
        { role: "user", content: "  " },
        { role: "assistant", content: "A1" },
        { role: "user", content: "Q2" },
      ],
    });
    expect(res.choices[0]!.message.content).toBe("echo: Q2");
    expect(t.last().body.messages).toEqual([
      { role: "user", content: "Q1" },
      { role: "assistant", content: "A1" },
      { role: "user", content: "Q2" },
    ]);
  });

  test("a final user message that is only whitespace → 400 naming it, nothing sent upstream", async () => {
    const err = await rejection(
      t.client.chat.completions.create({
        model: MODEL,
        messages: [
          { role: "user", content: "Q1" },
          { role: "assistant", content: "A1" },
          { role: "user", content: " \n " },
        ],
      }),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error.param).toBe("messages[2].content");
    expect(err.error.message).toContain("empty or only whitespace");
    expect(t.mock.requests).toHaveLength(0);
  });
});

describe("stop sequences", () => {
  test("stop ['\\n', 'END'] → only 'END' sent, the drop noted in the log; the answer arrives", async () => {
    const res = await t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Count" }], stop: ["\n", "END"] });
    expect(res.choices[0]!.message.content).toBe("echo: Count");
    expect(t.last().body.stop_sequences).toEqual(["END"]);
    expect(t.g.logs()[0].notes).toContain('dropped whitespace-only stop sequence "\\n"');
  });

  test("stop '\\n' alone → no stop_sequences at all", async () => {
    await t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "Count" }], stop: "\n" });
    expect(t.last().body.stop_sequences).toBeUndefined();
  });
});

describe("an Anthropic error answered with a 200", () => {
  test("non-stream: the upstream's message and type kept, the account named, the type's status", async () => {
    t.mock.reply({ json: anthropicErrorBody("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum") });
    const err = await rejection(t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] }));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error).toEqual({
      message: "Upstream error from account 'anthropic-main': prompt is too long: 210000 tokens > 200000 maximum",
      type: "invalid_request_error",
      param: null,
      code: null,
    });
    const log = t.g.logs()[0];
    expect(log.status).toBe(400);
    expect(log.error).toContain("prompt is too long");

    t.mock.reply({ json: anthropicErrorBody("overloaded_error", "Overloaded") });
    const overloaded = await rejection(t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] }));
    expect(overloaded.status).toBe(529);
    expect(overloaded.error.message).toBe("Upstream error from account 'anthropic-main': Overloaded");
  });

  test("an error type Anthropic does not list, or none: 502 with the message", async () => {
    t.mock.reply({ json: { type: "error", error: { type: "brand_new_error", message: "Something new" } } });
    const err = await rejection(t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] }));
    expect(err.status).toBe(502);
    expect(err.error.message).toBe("Upstream error from account 'anthropic-main': Something new");
    t.mock.reply({ json: { error: { message: "proxy says no" } } });
    const bare = await rejection(t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] }));
    expect(bare.status).toBe(502);
    expect(bare.error.message).toBe("Upstream error from account 'anthropic-main': proxy says no");
  });

  test("a stream request answered with the error as JSON and a 200: the same HTTP error", async () => {
    t.mock.reply({ json: anthropicErrorBody("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit") });
    const err = await rejection(t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }], stream: true }));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expect(err.error.message).toBe("Upstream error from account 'anthropic-main': Number of request tokens has exceeded your per-minute rate limit");
    expect(t.last().body.stream).toBe(true);
  });

  test("a real message is still a message", async () => {
    t.mock.reply({ json: anthropicMessage({ model: MODEL_ID, content: [{ type: "text", text: "fine" }] }) });
    const res = await t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] });
    expect(res.choices[0]!.message.content).toBe("fine");
  });
});
