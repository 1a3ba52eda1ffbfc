/** The stream translator on event sequences built from Anthropic's streaming documentation. */
import { describe, expect, test } from "bun:test";
import { anthropicStreamItems, anthropicStreamTranslator } from "../../../src/providers/anthropic/anthropic-stream.ts";
import { fromAnthropicResponse } from "../../../src/providers/anthropic/from-anthropic-response.ts";
import type { AnthropicMessage } from "../../../src/providers/anthropic/anthropic-types.ts";
import type { StreamItem } from "../../../src/providers/types.ts";
import { anthropicMessage, messageToStreamEvents, sseBody, type AnthropicEvent } from "../../mocks/anthropic.ts";
import { assemble, collect, streamOf } from "./helpers.ts";

const run = async (events: AnthropicEvent[], jsonTool?: string) =>
  collect(streamOf(events).pipeThrough(anthropicStreamTranslator({ account: "anthropic-main", jsonTool, created: 1 })));

const start = (usage: Record<string, number> = { input_tokens: 25, output_tokens: 1 }): AnthropicEvent => ({
  type: "message_start",
  message: { id: "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY", type: "message", role: "assistant", content: [], model: "claude-sonnet-4-5-20250929", stop_reason: null, stop_sequence: null, usage },
});
const textBlock = (index: number, ...texts: string[]): AnthropicEvent[] => [
  { type: "content_block_start", index, content_block: { type: "text", text: "" } },
  ...texts.map((text) => ({ type: "content_block_delta", index, delta: { type: "text_delta", text } })),
  { type: "content_block_stop", index },
];
const toolBlock = (index: number, id: string, name: string, ...fragments: string[]): AnthropicEvent[] => [
  { type: "content_block_start", index, content_block: { type: "tool_use", id, name, input: {} } },
  ...fragments.map((partial_json) => ({ type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json } })),
  { type: "content_block_stop", index },
];
const end = (stop_reason: string, output_tokens: number): AnthropicEvent[] => [
  { type: "message_delta", delta: { stop_reason, stop_sequence: null }, usage: { output_tokens } },
  { type: "message_stop" },
];

describe("stream translation", () => {
  test("parallel tool calls: stable indexes, id and name first, argument fragments after", async () => {
    const a = assemble(
      await run([
        start({ input_tokens: 472, output_tokens: 2 }),
        ...textBlock(0, "Okay, let's check the weather for San Francisco and New York:"),
        ...toolBlock(1, "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "get_weather", "", '{"location":', ' "San Francisco, CA"}'),
        ...toolBlock(2, "toolu_02T1x1fJ34qAmk2tNTrN7Up7", "get_weather", '{"location": "New York, NY"', "}"),
        ...end("tool_use", 89),
      ]),
    );
    expect(a.content).toBe("Okay, let's check the weather for San Francisco and New York:");
    expect(a.toolCalls).toEqual([
      { index: 0, id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", type: "function", name: "get_weather", arguments: '{"location": "San Francisco, CA"}' },
      { index: 1, id: "toolu_02T1x1fJ34qAmk2tNTrN7Up7", type: "function", name: "get_weather", arguments: '{"location": "New York, NY"}' },
    ]);
    // only a call's first delta carries its id and name
    const toolDeltas = a.chunks.flatMap((c) => c.choices.flatMap((ch: any) => ch.delta.tool_calls ?? []));
    expect(toolDeltas.filter((d: any) => d.id).map((d: any) => d.index)).toEqual([0, 1]);
    expect(toolDeltas.filter((d: any) => !d.id).every((d: any) => d.function.name === undefined)).toBe(true);
    expect(a.finishReason).toBe("tool_calls");
    expect(a.usage.prompt_tokens).toBe(472);
    expect(a.usage.completion_tokens).toBe(89);
  });

  test("the first chunk carries role with the first content; the last two are finish then usage", async () => {
    const items = await run([start(), { type: "ping" }, ...textBlock(0, "Hello", "!"), ...end("end_turn", 15)]);
    const chunks = items.map((i) => ("chunk" in i ? i.chunk : null));
    expect(chunks[0]!.choices[0].delta).toEqual({ role: "assistant", content: "Hello" });
    expect(chunks[1]!.choices[0].delta).toEqual({ content: "!" });
    expect(chunks[2]!.choices[0].finish_reason).toBe("stop");
    expect(chunks[2]!.choices[0].delta).toEqual({});
    expect(chunks[3]!.choices).toEqual([]);
    expect(chunks[3]!.usage.total_tokens).toBe(40);
    expect(chunks.every((c) => c!.id === "msg_1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY" && c!.model === "claude-sonnet-4-5-20250929")).toBe(true);
  });

  test("cached usage: input + cache read + cache write; output from message_delta", async () => {
    const a = assemble(
      await run([
        start({ input_tokens: 21, cache_creation_input_tokens: 188086, cache_read_input_tokens: 0, output_tokens: 1 }),
        ...textBlock(0, "ok"),
        { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { input_tokens: 21, cache_creation_input_tokens: 188086, cache_read_input_tokens: 0, output_tokens: 393 } },
        { type: "message_stop" },
      ]),
    );
    expect(a.usage).toEqual({
      prompt_tokens: 188107,
      completion_tokens: 393,
      total_tokens: 188500,
      prompt_tokens_details: { cached_tokens: 0, cache_creation_tokens: 188086 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    const read = assemble(
      await run([start({ input_tokens: 21, cache_read_input_tokens: 188086, output_tokens: 1 }), ...textBlock(0, "ok"), ...end("end_turn", 100)]),
    );
    expect(read.usage.prompt_tokens).toBe(188107);
    expect(read.usage.prompt_tokens_details).toEqual({ cached_tokens: 188086, cache_creation_tokens: 0 });
  });

  test("max_tokens → length; stop_sequence → stop", async () => {
    expect(assemble(await run([start(), ...textBlock(0, "cut"), ...end("max_tokens", 5)])).finishReason).toBe("length");
    expect(assemble(await run([start(), ...textBlock(0, "done"), ...end("stop_sequence", 5)])).finishReason).toBe("stop");
  });

  test("an error event mid-stream becomes an error item and ends the stream", async () => {
    const items = await run([
      start(),
      ...textBlock(0, "Partial"),
      { type: "error", error: { type: "overloaded_error", message: "Overloaded" } },
      ...textBlock(1, "never seen"),
      ...end("end_turn", 3),
    ]);
    const a = assemble(items);
    expect(a.content).toBe("Partial");
    expect(a.finishReason).toBeNull();
    expect(items[items.length - 1]).toHaveProperty("error");
    expect(a.errors).toHaveLength(1);
    expect(a.errors[0].status).toBe(529);
    expect(a.errors[0].type).toBe("overloaded_error");
    expect(a.errors[0].message).toContain("anthropic-main");
    expect(a.errors[0].message).toContain("Overloaded");
  });

  test("an overload before any content arrives as the very first item", async () => {
    const items = await run([start(), { type: "ping" }, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }]);
    expect(items).toHaveLength(1);
    expect("error" in items[0]! && items[0].error.status).toBe(529);
  });

  test("a stream that ends before message_stop without a stop reason → 502 error item", async () => {
    const items = await run([start(), ...textBlock(0, "Hel")]);
    const last = items[items.length - 1]!;
    expect("error" in last && last.error.status).toBe(502);
    expect("error" in last && last.error.code).toBe("upstream_stream_truncated");
    // with the stop reason known it finishes normally
    const ok = assemble(await run([start(), ...textBlock(0, "Hi"), { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } }]));
    expect(ok.errors).toEqual([]);
    expect(ok.finishReason).toBe("stop");
    expect(ok.usage.completion_tokens).toBe(2);
  });

  test("redacted thinking is passed on whole in thinking_blocks", async () => {
    const a = assemble(
      await run([
        start(),
        { type: "content_block_start", index: 0, content_block: { type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" } },
        { type: "content_block_stop", index: 0 },
        ...textBlock(1, "Answer"),
        ...end("end_turn", 9),
      ]),
    );
    expect(a.thinkingBlocks).toEqual([{ type: "redacted_thinking", data: "EmwKAhgBEgy3va3pzix" }]);
    expect(a.content).toBe("Answer");
  });

  test("thinking then a tool call: reasoning, signed block, tool call", async () => {
    const a = assemble(
      await run([
        start(),
        { type: "content_block_start", index: 0, content_block: { type: "thinking", thinking: "" } },
        { type: "content_block_delta", index: 0, delta: { type: "thinking_delta", thinking: "I need the weather." } },
        { type: "content_block_delta", index: 0, delta: { type: "signature_delta", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" } },
        { type: "content_block_stop", index: 0 },
        ...toolBlock(1, "toolu_01CswdEQBMshySk6Y9DFKrfq", "get_weather", '{"location": "Paris"}'),
        ...end("tool_use", 70),
      ]),
    );
    expect(a.order).toEqual(["reasoning", "tool_calls"]);
    expect(a.thinkingBlocks).toEqual([
      { type: "thinking", thinking: "I need the weather.", signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds" },
    ]);
    expect(a.toolCalls[0]!.arguments).toBe('{"location": "Paris"}');
  });

  test("the JSON-output tool streams as content; its start input is used when no fragment comes", async () => {
    const a = assemble(await run([start(), ...toolBlock(0, "toolu_j", "json_output", '{"name":', '"Ada"}'), ...end("tool_use", 9)], "json_output"));
    expect(a.content).toBe('{"name":"Ada"}');
    expect(a.toolCalls).toEqual([]);
    expect(a.finishReason).toBe("stop");
    const whole = assemble(
      await run(
        [
          start(),
          { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "toolu_k", name: "json_output", input: { ok: true } } },
          { type: "content_block_stop", index: 0 },
          ...end("tool_use", 4),
        ],
        "json_output",
      ),
    );
    expect(whole.content).toBe('{"ok":true}');
  });

  test("a client tool next to the JSON tool keeps finish_reason tool_calls", async () => {
    const a = assemble(
      await run([start(), ...toolBlock(0, "toolu_w", "get_weather", '{"location":"Oslo"}'), ...end("tool_use", 9)], "json_output"),
    );
    expect(a.finishReason).toBe("tool_calls");
    expect(a.toolCalls[0]!.name).toBe("get_weather");
  });

  test("emits chunks while the upstream is still open (no buffering)", async () => {
    let push!: (e: AnthropicEvent) => void;
    let close!: () => void;
    const source = new ReadableStream<AnthropicEvent>({
      start(controller) {
        push = (e) => controller.enqueue(e);
        close = () => controller.close();
      },
    });
    const reader = source.pipeThrough(anthropicStreamTranslator({ account: "a" })).getReader();
    push(start());
    push({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } });
    push({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "first" } });
    expect("usage" in (await reader.read()).value!).toBe(true); // usage known at message_start
    const first = await reader.read();
    expect((first.value as any).chunk.choices[0].delta.content).toBe("first");
    push({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "second" } });
    expect(((await reader.read()).value as any).chunk.choices[0].delta.content).toBe("second");
    for (const e of [{ type: "content_block_stop", index: 0 }, ...end("end_turn", 2)]) push(e);
    close();
    const rest: StreamItem[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest.push(r.value);
    expect(rest).toHaveLength(2);
  });
});

describe("JSON mode (response_format): the stream's content is the non-streaming answer's", () => {
  const thinking = (index: number, text: string): AnthropicEvent[] => [
    { type: "content_block_start", index, content_block: { type: "thinking", thinking: "" } },
    { type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: text } },
    { type: "content_block_delta", index, delta: { type: "signature_delta", signature: "sig" } },
    { type: "content_block_stop", index },
  ];

  test("text before the JSON tool (not forced) is left out: the content parses as JSON", async () => {
    const a = assemble(
      await run(
        [start(), ...thinking(0, "Plan."), ...textBlock(1, "I'll call ", "a tool."), ...toolBlock(2, "toolu_j", "json_output", '{"a":', '"x"}'), ...end("tool_use", 30)],
        "json_output",
      ),
    );
    expect(a.content).toBe('{"a":"x"}');
    expect(JSON.parse(a.content)).toEqual({ a: "x" });
    expect(a.reasoning).toBe("Plan.");
    expect(a.finishReason).toBe("stop");
  });

  test("text after the JSON tool is left out too", async () => {
    const a = assemble(
      await run([start(), ...toolBlock(0, "toolu_j", "json_output", '{"a":1}'), ...textBlock(1, "Done!"), ...end("end_turn", 9)], "json_output"),
    );
    expect(a.content).toBe('{"a":1}');
  });

  test("an answer that never calls the JSON tool arrives whole, before the finish chunk", async () => {
    const items = await run([start(), ...textBlock(0, "I can't ", "answer that as JSON."), ...end("end_turn", 9)], "json_output");
    const a = assemble(items);
    expect(a.content).toBe("I can't answer that as JSON.");
    expect(a.finishReason).toBe("stop");
    const chunks = items.map((i: any) => i.chunk);
    expect(chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "I can't answer that as JSON." });
    expect(chunks[1].choices[0].finish_reason).toBe("stop");
  });

  test("text next to a client tool call: the call streams as it comes, the text arrives at the end", async () => {
    const a = assemble(
      await run([start(), ...textBlock(0, "Checking."), ...toolBlock(1, "toolu_w", "get_weather", '{"location":"Oslo"}'), ...end("tool_use", 9)], "json_output"),
    );
    expect(a.order).toEqual(["tool_calls", "content"]);
    expect(a.content).toBe("Checking.");
    expect(a.toolCalls[0]).toMatchObject({ id: "toolu_w", name: "get_weather", arguments: '{"location":"Oslo"}' });
    expect(a.finishReason).toBe("tool_calls");
  });

  test("stream and non-stream give the same message content for the same answer", async () => {
    const answers = [
      [{ type: "text", text: "I'll call a tool." }, { type: "tool_use", id: "toolu_1", name: "json_output", input: { a: "x" } }],
      [{ type: "thinking", thinking: "Hmm.", signature: "s" }, { type: "text", text: "Sure:" }, { type: "tool_use", id: "toolu_2", name: "json_output", input: { n: [1, 2] } }],
      [{ type: "text", text: "No JSON today." }],
      [{ type: "text", text: "Both: " }, { type: "tool_use", id: "toolu_3", name: "get_weather", input: { location: "Oslo" } }],
      [{ type: "tool_use", id: "toolu_4", name: "json_output", input: {} }],
    ];
    for (const content of answers) {
      const message = anthropicMessage({ content, stop_reason: "tool_use" });
      const whole = fromAnthropicResponse(message as AnthropicMessage, { jsonTool: "json_output" }).choices[0];
      const streamed = assemble(await run(messageToStreamEvents(message, { chunkSize: 4 }), "json_output"));
      expect(streamed.content).toBe(whole.message.content ?? "");
      expect(streamed.finishReason).toBe(whole.finish_reason);
    }
  });

  test("without response_format, text streams at once as before", async () => {
    const a = assemble(await run([start(), ...textBlock(0, "I'll call a tool."), ...toolBlock(1, "toolu_w", "get_weather", "{}"), ...end("tool_use", 9)]));
    expect(a.order).toEqual(["content", "tool_calls"]);
  });

  test("in JSON mode the held text does not hold back the rest: thinking streams while the upstream is open", async () => {
    let push!: (e: AnthropicEvent) => void;
    const source = new ReadableStream<AnthropicEvent>({ start: (controller) => void (push = (e) => controller.enqueue(e)) });
    const reader = source.pipeThrough(anthropicStreamTranslator({ account: "a", jsonTool: "json_output" })).getReader();
    push(start());
    expect("usage" in (await reader.read()).value!).toBe(true);
    for (const e of textBlock(0, "Let me see.")) push(e);
    push({ type: "content_block_start", index: 1, content_block: { type: "thinking", thinking: "" } });
    push({ type: "content_block_delta", index: 1, delta: { type: "thinking_delta", thinking: "More thought." } });
    const next = (await reader.read()).value as any;
    expect(next.chunk.choices[0].delta).toEqual({ role: "assistant", reasoning_content: "More thought." });
    await reader.cancel();
  });
});

describe("SSE bytes → items", () => {
  test("parses real SSE (split at arbitrary byte boundaries) and translates it", async () => {
    const message = anthropicMessage({ content: [{ type: "text", text: "Streaming works fine — ünïcödé too." }], usage: { input_tokens: 9, output_tokens: 8 } });
    const bytes = new Uint8Array(await new Response(sseBody(messageToStreamEvents(message, { chunkSize: 5 }))).arrayBuffer());
    let offset = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (offset >= bytes.length) return controller.close();
        controller.enqueue(bytes.slice(offset, offset + 7));
        offset += 7;
      },
    });
    const a = assemble(await collect(anthropicStreamItems(body, { account: "anthropic-main" })));
    expect(a.errors).toEqual([]);
    expect(a.content).toBe("Streaming works fine — ünïcödé too.");
    expect(a.usage.prompt_tokens).toBe(9);
    expect(a.usage.completion_tokens).toBe(8);
  });

  test("a data line that is not JSON becomes an error item", async () => {
    const body = new Response("event: message_start\ndata: {not json\n\n").body!;
    const items = await collect(anthropicStreamItems(body, { account: "anthropic-main" }));
    expect(items).toHaveLength(1);
    expect("error" in items[0]! && items[0].error.status).toBe(500);
  });
});

describe("usage known before the end", () => {
  test("message_start yields a usage item (input and cache counts) before any chunk, so a cancelled stream is billed", async () => {
    const { collectAll } = await import("./helpers.ts");
    const events = [
      { type: "message_start", message: { id: "msg_1", model: "claude-sonnet-4-20250514", usage: { input_tokens: 10, cache_read_input_tokens: 90, cache_creation_input_tokens: 0, output_tokens: 1 } } },
      { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "Hi" } },
    ];
    const items: any[] = await collectAll(streamOf(events).pipeThrough(anthropicStreamTranslator({ account: "anthropic-main" })));
    expect(items[0]).toEqual({
      usage: {
        prompt_tokens: 100,
        completion_tokens: 1,
        total_tokens: 101,
        prompt_tokens_details: { cached_tokens: 90, cache_creation_tokens: 0 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
    expect(items[1].chunk.choices[0].delta).toMatchObject({ role: "assistant", content: "Hi" });
  });
});
