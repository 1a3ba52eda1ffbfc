/**
 * OpenAI request → Anthropic Messages body, part 2: structured output, extended thinking, prompt
 * caching. Expected bodies follow the request examples of Anthropic's documentation.
 */
import { describe, expect, test } from "bun:test";
import { THINKING_OFF_IN_TOOL_LOOP_NOTE, toolLoopWithoutThinking } from "../../../src/providers/anthropic/to-anthropic-request.ts";
import { translate, WEATHER_TOOL } from "./helpers.ts";


describe("structured output (forced JSON tool)", () => {
  const schema = {
    type: "object",
    properties: { name: { type: "string" }, email: { type: "string" } },
    required: ["name", "email"],
    additionalProperties: false,
  };

  test("json_schema strict → one forced tool whose input_schema is the schema", () => {
    const r = translate({
      messages: [{ role: "user", content: "Extract: John Smith (john@example.com)" }],
      response_format: { type: "json_schema", json_schema: { name: "contact", strict: true, schema } },
    });
    expect(r.jsonTool).toBe("json_output");
    expect(r.body.tools).toEqual([{ name: "json_output", description: "Respond with a JSON object (contact).", input_schema: schema }]);
    expect(r.body.tool_choice).toEqual({ type: "tool", name: "json_output" });
  });

  test("json_schema non-strict accepts any object schema", () => {
    const loose = { type: "object", properties: { name: { type: "string" }, age: { type: "integer" } } };
    const r = translate({
      messages: [{ role: "user", content: "Extract" }],
      response_format: { type: "json_schema", json_schema: { name: "person", description: "A person", schema: loose } },
    });
    expect(r.body.tools![0]).toEqual({ name: "json_output", description: "Respond with a JSON object (person): A person", input_schema: loose });
  });

  test("json_object → forced tool with an open object schema", () => {
    const r = translate({ messages: [{ role: "user", content: "JSON please" }], response_format: { type: "json_object" } });
    expect(r.body.tools).toEqual([
      { name: "json_output", description: "Respond with a JSON object.", input_schema: { type: "object", additionalProperties: true } },
    ]);
    expect(r.body.tool_choice).toEqual({ type: "tool", name: "json_output" });
  });

  test("response_format text adds nothing", () => {
    const r = translate({ messages: [{ role: "user", content: "Hi" }], response_format: { type: "text" } });
    expect(r.body.tools).toBeUndefined();
    expect(r.jsonTool).toBeUndefined();
  });

  test("with client tools: the JSON tool is added and tool use is required (any)", () => {
    const r = translate({
      messages: [{ role: "user", content: "Weather as JSON" }],
      tools: [WEATHER_TOOL],
      response_format: { type: "json_schema", json_schema: { name: "report", schema } },
    });
    expect(r.body.tools!.map((t) => t.name)).toEqual(["get_weather", "json_output"]);
    expect(r.body.tool_choice).toEqual({ type: "any" });
  });

  test("with reasoning the JSON tool is offered, not forced (noted)", () => {
    const r = translate({
      messages: [{ role: "user", content: "Extract" }],
      max_tokens: 4000,
      reasoning_effort: "low",
      response_format: { type: "json_schema", json_schema: { name: "contact", schema } },
    });
    expect(r.body.tool_choice).toEqual({ type: "auto" });
    expect(r.notes.some((n) => n.includes("structured-output tool no longer forced"))).toBe(true);
  });
});

describe("reasoning (extended thinking examples)", () => {
  test.each([
    ["low", 4800],
    ["medium", 9600],
    ["high", 14400],
  ])("reasoning_effort %s → budget %d of max_tokens 16000", (effort, budget) => {
    const r = translate({ messages: [{ role: "user", content: "Are there an infinite number of prime numbers such that n mod 4 == 3?" }], max_tokens: 16000, reasoning_effort: effort });
    expect(r.body.thinking).toEqual({ type: "enabled", budget_tokens: budget });
    expect(r.body.max_tokens).toBe(16000);
    expect(r.notes).toEqual([]);
  });

  test("the budget is never under 1024; max_tokens is raised to fit it, noted", () => {
    const r = translate({ messages: [{ role: "user", content: "Hi" }], max_tokens: 500, reasoning_effort: "medium" });
    expect(r.body.thinking).toEqual({ type: "enabled", budget_tokens: 1024 });
    expect(r.body.max_tokens).toBe(1524);
    expect(r.notes).toEqual(["max_tokens raised from 500 to 1524 to fit the thinking budget of 1024"]);
    const atMin = translate({ messages: [{ role: "user", content: "Hi" }], max_tokens: 2000, reasoning_effort: "low" });
    expect(atMin.body.thinking).toEqual({ type: "enabled", budget_tokens: 1024 });
    expect(atMin.body.max_tokens).toBe(2000);
  });

  test("minimal uses the minimum budget; none disables thinking", () => {
    expect(translate({ messages: [{ role: "user", content: "Hi" }], max_tokens: 16000, reasoning_effort: "minimal" }).body.thinking).toEqual({
      type: "enabled",
      budget_tokens: 1024,
    });
    expect(translate({ messages: [{ role: "user", content: "Hi" }], reasoning_effort: "none" }).body.thinking).toBeUndefined();
  });

  test("a native thinking object is passed through as is, and wins over reasoning_effort", () => {
    const thinking = { type: "enabled", budget_tokens: 10000 };
    const r = translate({ messages: [{ role: "user", content: "Hi" }], max_tokens: 16000, thinking, reasoning_effort: "high" });
    expect(r.body.thinking).toEqual(thinking);
  });

  test("sampling parameters thinking forbids are dropped with notes", () => {
    const r = translate({ messages: [{ role: "user", content: "Hi" }], max_tokens: 16000, reasoning_effort: "low", temperature: 0.2, top_k: 5, top_p: 0.5 });
    expect(r.body.temperature).toBeUndefined();
    expect(r.body.top_k).toBeUndefined();
    expect(r.body.top_p).toBeUndefined();
    expect(r.notes).toHaveLength(3);
    const kept = translate({ messages: [{ role: "user", content: "Hi" }], max_tokens: 16000, reasoning_effort: "low", temperature: 1, top_p: 0.95 });
    expect(kept.body.temperature).toBe(1);
    expect(kept.body.top_p).toBe(0.95);
    expect(kept.notes).toEqual([]);
  });

  test("forced tool_choice with thinking becomes auto when the account drops unsupported params", () => {
    const r = translate(
      { messages: [{ role: "user", content: "Weather?" }], tools: [WEATHER_TOOL], tool_choice: "required", reasoning_effort: "low" },
      { dropUnsupported: true },
    );
    expect(r.body.tool_choice).toEqual({ type: "auto" });
    expect(r.notes.some((n) => n.startsWith("tool_choice changed to 'auto'"))).toBe(true);
  });

  test("thinking blocks sent back come first in the assistant turn (thinking + tools, second turn)", () => {
    const r = translate({
      tools: [WEATHER_TOOL],
      reasoning_effort: "medium",
      max_tokens: 16000,
      messages: [
        { role: "user", content: "What's the weather in Paris?" },
        {
          role: "assistant",
          content: null,
          reasoning_content: "The user wants to know the current weather in Paris. I have access to a function get_weather...",
          thinking_blocks: [
            {
              type: "thinking",
              thinking: "The user wants to know the current weather in Paris. I have access to a function get_weather...",
              signature: "BDaL4VrbR2Oj0hO4XpJxT28J5TILnCrrUXoKiiNBZW9P+nr8XSj1zuZzAl4egiCCpQNvfyUuFFJP5CncdYZEQPPmLxYsNrcs",
            },
            { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP" },
          ],
          tool_calls: [{ id: "toolu_01CswdEQBMshySk6Y9DFKrfq", type: "function", function: { name: "get_weather", arguments: '{"location":"Paris"}' } }],
        },
        { role: "tool", tool_call_id: "toolu_01CswdEQBMshySk6Y9DFKrfq", content: "Current temperature: 88°F" },
      ],
    });
    expect(r.body.messages[1]!.content).toEqual([
      {
        type: "thinking",
        thinking: "The user wants to know the current weather in Paris. I have access to a function get_weather...",
        signature: "BDaL4VrbR2Oj0hO4XpJxT28J5TILnCrrUXoKiiNBZW9P+nr8XSj1zuZzAl4egiCCpQNvfyUuFFJP5CncdYZEQPPmLxYsNrcs",
      },
      { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpP" },
      { type: "tool_use", id: "toolu_01CswdEQBMshySk6Y9DFKrfq", name: "get_weather", input: { location: "Paris" } },
    ]);
  });

  test("reasoning_content with a signature is sent back as a thinking block; without one it is left out", () => {
    const withSig = translate({
      messages: [
        { role: "user", content: "Q" },
        { role: "assistant", content: "A", reasoning_content: "thought", reasoning_signature: "sig" },
        { role: "user", content: "Q2" },
      ],
    });
    expect(withSig.body.messages[1]!.content).toEqual([
      { type: "thinking", thinking: "thought", signature: "sig" },
      { type: "text", text: "A" },
    ]);
    const withoutSig = translate({
      messages: [
        { role: "user", content: "Q" },
        { role: "assistant", content: "A", reasoning_content: "thought" },
        { role: "user", content: "Q2" },
      ],
    });
    expect(withoutSig.body.messages[1]!.content).toBe("A");
  });
});

describe("reasoning in a tool loop whose thinking blocks were not sent back", () => {
  // what a client that drops `thinking_blocks` resends: the assistant tool call, then its result
  const CALL = { id: "toolu_01CswdEQBMshySk6Y9DFKrfq", type: "function", function: { name: "get_weather", arguments: '{"location":"Paris"}' } };
  const BLOCK = { type: "thinking", thinking: "I should call get_weather.", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" };
  const toolLoop = (assistant: Record<string, any> = {}) => [
    { role: "user", content: "What's the weather in Paris?" },
    { role: "assistant", content: null, tool_calls: [CALL], ...assistant },
    { role: "tool", tool_call_id: CALL.id, content: "Current temperature: 88°F" },
  ];

  test("reasoning_effort: thinking left off with a note; max_tokens as asked (not raised), sampling params kept", () => {
    const r = translate({ messages: toolLoop(), tools: [WEATHER_TOOL], reasoning_effort: "medium", max_tokens: 500, temperature: 0.2, top_k: 5, top_p: 0.5 });
    expect(r.body.thinking).toBeUndefined();
    expect(r.body.max_tokens).toBe(500);
    expect(r.body.temperature).toBe(0.2);
    expect(r.body.top_k).toBe(5);
    expect(r.body.top_p).toBe(0.5);
    expect(r.notes).toEqual([THINKING_OFF_IN_TOOL_LOOP_NOTE]);
    expect(r.notes[0]).toContain("send message.thinking_blocks back");
    expect(r.body.messages[1]!.content).toEqual([{ type: "tool_use", id: CALL.id, name: "get_weather", input: { location: "Paris" } }]);
  });

  test("max_tokens unset → the default; a text part before the tool call changes nothing", () => {
    const r = translate({ messages: toolLoop({ content: "Let me look." }), tools: [WEATHER_TOOL], reasoning_effort: "high" }, { defaultMaxTokens: 64000 });
    expect(r.body.thinking).toBeUndefined();
    expect(r.body.max_tokens).toBe(64000);
    expect(r.notes).toEqual([THINKING_OFF_IN_TOOL_LOOP_NOTE]);
  });

  test("a native thinking object is left off too", () => {
    const r = translate({ messages: toolLoop(), tools: [WEATHER_TOOL], max_tokens: 16000, thinking: { type: "enabled", budget_tokens: 10000 } });
    expect(r.body.thinking).toBeUndefined();
    expect(r.body.max_tokens).toBe(16000);
    expect(r.notes).toEqual([THINKING_OFF_IN_TOOL_LOOP_NOTE]);
  });

  test("forced tool_choice is no longer a conflict: kept, no 400", () => {
    const r = translate({ messages: toolLoop(), tools: [WEATHER_TOOL], tool_choice: "required", reasoning_effort: "low" });
    expect(r.body.thinking).toBeUndefined();
    expect(r.body.tool_choice).toEqual({ type: "any" });
    expect(r.notes).toEqual([THINKING_OFF_IN_TOOL_LOOP_NOTE]);
  });

  test("tool results followed by a user message in the same turn: still the active loop", () => {
    const r = translate({ messages: [...toolLoop(), { role: "user", content: "And in Celsius?" }], tools: [WEATHER_TOOL], reasoning_effort: "low" });
    expect(r.body.messages[2]!.content).toEqual([
      { type: "tool_result", tool_use_id: CALL.id, content: "Current temperature: 88°F" },
      { type: "text", text: "And in Celsius?" },
    ]);
    expect(r.body.thinking).toBeUndefined();
    expect(r.notes).toEqual([THINKING_OFF_IN_TOOL_LOOP_NOTE]);
  });

  test("only the turn being answered counts: a later tool call without thinking leaves it off", () => {
    const second = { id: "toolu_02", type: "function", function: { name: "get_weather", arguments: '{"location":"Lyon"}' } };
    const r = translate({
      messages: [
        ...toolLoop({ thinking_blocks: [BLOCK] }),
        { role: "assistant", content: null, tool_calls: [second] },
        { role: "tool", tool_call_id: "toolu_02", content: "Current temperature: 75°F" },
      ],
      tools: [WEATHER_TOOL],
      reasoning_effort: "low",
    });
    expect(r.body.thinking).toBeUndefined();
    expect(r.notes).toEqual([THINKING_OFF_IN_TOOL_LOOP_NOTE]);
    // the earlier turn keeps its block (Anthropic only refuses thinking in the final assistant turn)
    expect((r.body.messages[1]!.content as any[])[0]).toEqual(BLOCK);
  });

  test.each([
    ["thinking_blocks", { thinking_blocks: [BLOCK] }],
    ["a redacted_thinking block", { thinking_blocks: [{ type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" }] }],
    ["reasoning_content with its signature", { reasoning_content: BLOCK.thinking, reasoning_signature: BLOCK.signature }],
  ])("the tool turn carries %s → thinking stays on, no note", (_, assistant) => {
    const r = translate({ messages: toolLoop(assistant), tools: [WEATHER_TOOL], reasoning_effort: "low", max_tokens: 16000 });
    expect(r.body.thinking).toEqual({ type: "enabled", budget_tokens: 4800 });
    expect(r.notes).toEqual([]);
    expect(["thinking", "redacted_thinking"]).toContain((r.body.messages[1]!.content as any[])[0].type);
  });

  test("reasoning_content without a signature is no thinking block: left off", () => {
    const r = translate({ messages: toolLoop({ reasoning_content: "I should call get_weather." }), tools: [WEATHER_TOOL], reasoning_effort: "low" });
    expect(r.body.thinking).toBeUndefined();
    expect(r.notes).toEqual([THINKING_OFF_IN_TOOL_LOOP_NOTE]);
  });

  test("not a tool loop (the conversation ends with a plain user message): thinking stays on", () => {
    const r = translate({
      messages: [...toolLoop(), { role: "assistant", content: "It is 88°F in Paris." }, { role: "user", content: "Thanks! And tomorrow?" }],
      tools: [WEATHER_TOOL],
      reasoning_effort: "low",
      max_tokens: 16000,
      temperature: 0.2,
    });
    expect(r.body.thinking).toEqual({ type: "enabled", budget_tokens: 4800 });
    expect(r.body.temperature).toBeUndefined(); // the usual thinking rules apply
    expect(r.notes).not.toContain(THINKING_OFF_IN_TOOL_LOOP_NOTE);
  });

  test("no thinking asked (none, disabled, absent): nothing changes, no note", () => {
    expect(translate({ messages: toolLoop(), tools: [WEATHER_TOOL], reasoning_effort: "none" }).notes).toEqual([]);
    const disabled = translate({ messages: toolLoop(), tools: [WEATHER_TOOL], thinking: { type: "disabled" } });
    expect(disabled.body.thinking).toEqual({ type: "disabled" });
    expect(disabled.notes).toEqual([]);
    const plain = translate({ messages: toolLoop(), tools: [WEATHER_TOOL], temperature: 0.2 });
    expect(plain.body.thinking).toBeUndefined();
    expect(plain.body.temperature).toBe(0.2);
    expect(plain.notes).toEqual([]);
  });

  test("reasoning_effort and thinking are still validated", () => {
    expect(() => translate({ messages: toolLoop(), tools: [WEATHER_TOOL], reasoning_effort: "max" })).toThrow("reasoning_effort must be one of");
    expect(() => translate({ messages: toolLoop(), tools: [WEATHER_TOOL], thinking: "on" })).toThrow("thinking must be an object");
  });

  test("toolLoopWithoutThinking reads the translated turns", () => {
    const use = { type: "tool_use" as const, id: "t1", name: "f", input: {} };
    const result = { type: "tool_result" as const, tool_use_id: "t1" };
    const thinking = { type: "thinking" as const, thinking: "t", signature: "s" };
    expect(toolLoopWithoutThinking([{ role: "user", content: "Q" }, { role: "assistant", content: [use] }, { role: "user", content: [result] }])).toBe(true);
    expect(toolLoopWithoutThinking([{ role: "user", content: "Q" }, { role: "assistant", content: [thinking, use] }, { role: "user", content: [result] }])).toBe(false);
    expect(toolLoopWithoutThinking([{ role: "user", content: "Q" }, { role: "assistant", content: [use] }, { role: "user", content: [result] }, { role: "assistant", content: "A" }])).toBe(false);
    expect(toolLoopWithoutThinking([{ role: "user", content: "Q" }, { role: "assistant", content: "A" }, { role: "user", content: "Q2" }])).toBe(false);
    expect(toolLoopWithoutThinking([{ role: "user", content: "Q" }])).toBe(false);
    expect(toolLoopWithoutThinking([])).toBe(false);
  });
});

describe("prompt caching (cache_control passed through)", () => {
  test("on system parts → system as text blocks", () => {
    const r = translate({
      messages: [
        {
          role: "system",
          content: [
            { type: "text", text: "You are an AI assistant tasked with analyzing literary works." },
            { type: "text", text: "<the entire contents of Pride and Prejudice>", cache_control: { type: "ephemeral" } },
          ],
        },
        { role: "user", content: "Analyze the major themes in Pride and Prejudice." },
      ],
    });
    expect(r.body.system).toEqual([
      { type: "text", text: "You are an AI assistant tasked with analyzing literary works." },
      { type: "text", text: "<the entire contents of Pride and Prejudice>", cache_control: { type: "ephemeral" } },
    ]);
  });

  test("on a message (goes on its last block), on a content part with ttl, on a tool", () => {
    const r = translate({
      tools: [{ ...WEATHER_TOOL, cache_control: { type: "ephemeral", ttl: "1h" } }],
      messages: [
        { role: "system", content: "Long instructions", cache_control: { type: "ephemeral" } },
        { role: "user", content: [{ type: "text", text: "Long document", cache_control: { type: "ephemeral", ttl: "5m" } }, { type: "text", text: "Question" }] },
        { role: "assistant", content: "Answer", cache_control: { type: "ephemeral" } },
        { role: "user", content: "Follow-up" },
      ],
    });
    expect(r.body.system).toEqual([{ type: "text", text: "Long instructions", cache_control: { type: "ephemeral" } }]);
    expect(r.body.messages[0]!.content).toEqual([
      { type: "text", text: "Long document", cache_control: { type: "ephemeral", ttl: "5m" } },
      { type: "text", text: "Question" },
    ]);
    expect(r.body.messages[1]!.content).toEqual([{ type: "text", text: "Answer", cache_control: { type: "ephemeral" } }]);
    expect(r.body.tools![0]!.cache_control).toEqual({ type: "ephemeral", ttl: "1h" });
  });

  test("on a tool message → on its tool_result block", () => {
    const r = translate({
      messages: [
        { role: "user", content: "Q" },
        { role: "assistant", tool_calls: [{ id: "t1", type: "function", function: { name: "f", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "t1", content: "big result", cache_control: { type: "ephemeral" } },
      ],
    });
    expect(r.body.messages[2]!.content).toEqual([
      { type: "tool_result", tool_use_id: "t1", content: "big result", cache_control: { type: "ephemeral" } },
    ]);
  });
});
