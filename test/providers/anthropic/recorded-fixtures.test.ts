/**
 * Replays every recorded Anthropic response in ../shared/fixtures/recorded/anthropic/ through the
 * response translator (*.json) and the stream translator (*.chunks.txt). Every file must have an
 * expectation here, so a new recording cannot be skipped silently.
 */
import { describe, expect, test } from "bun:test";
import { anthropicStreamTranslator } from "../../../src/providers/anthropic/anthropic-stream.ts";
import { fromAnthropicResponse } from "../../../src/providers/anthropic/from-anthropic-response.ts";
import { assemble, collect, fixtureFiles, readChunksFixture, readJsonFixture, streamOf } from "./helpers.ts";

const REFUSAL_EXPLANATION =
  "This request triggered restrictions on violative cyber content and was blocked under Anthropic's Usage Policy.";

const usage = (prompt: number, completion: number, cached = 0, cacheWrite = 0) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  prompt_tokens_details: { cached_tokens: cached, cache_creation_tokens: cacheWrite },
  completion_tokens_details: { reasoning_tokens: 0 },
});

/** Expectations for each recorded non-streaming response. */
const responseCases: Record<string, (f: any) => void> = {
  "anthropic-clear-thinking.1.json": (f) => {
    const out = fromAnthropicResponse(f, { created: 1 });
    expect(out.id).toBe("msg_01XrsJCi8CQoLcnnWdY8RsJz");
    expect(out.object).toBe("chat.completion");
    expect(out.model).toBe("claude-sonnet-4-5-20250929");
    const choice = out.choices[0];
    expect(choice.finish_reason).toBe("stop");
    expect(choice.message.role).toBe("assistant");
    expect(choice.message.content).toBe("925 ÷ 5 = 185");
    expect(choice.message.reasoning_content).toBe("925 divided by 5 = 185");
    expect(choice.message.thinking_blocks).toEqual([
      { type: "thinking", thinking: "925 divided by 5 = 185", signature: f.content[0].signature },
    ]);
    expect(choice.message.thinking_blocks[0].signature.startsWith("Er4BCkYICxgCKkCoxqLH")).toBe(true);
    expect(choice.message.tool_calls).toBeUndefined();
    expect(out.usage).toEqual(usage(69, 33));
  },
  "anthropic-json-tool.1.json": (f) => {
    // as a client tool call
    const asTool = fromAnthropicResponse(f);
    expect(asTool.model).toBe("claude-haiku-4-5-20251001");
    expect(asTool.choices[0].finish_reason).toBe("tool_calls");
    expect(asTool.choices[0].message.content).toBeNull();
    expect(asTool.choices[0].message.tool_calls).toHaveLength(1);
    const call = asTool.choices[0].message.tool_calls[0];
    expect(call.id).toBe("toolu_01Q9ExVZnzZj7E2QQYHYtNUa");
    expect(call.type).toBe("function");
    expect(call.function.name).toBe("json");
    expect(JSON.parse(call.function.arguments).elements).toHaveLength(4);
    expect(JSON.parse(call.function.arguments).elements[3]).toEqual({ location: "Berlin", temperature: -9, condition: "snowy" });
    // as the structured-output tool: JSON content, finish stop
    const asJson = fromAnthropicResponse(f, { jsonTool: "json" });
    expect(asJson.choices[0].finish_reason).toBe("stop");
    expect(asJson.choices[0].message.tool_calls).toBeUndefined();
    expect(JSON.parse(asJson.choices[0].message.content)).toEqual(f.content[0].input);
    expect(JSON.parse(asJson.choices[0].message.content).elements[0]).toEqual({
      location: "San Francisco",
      temperature: -5,
      condition: "snowy",
    });
    expect(asJson.usage).toEqual(usage(1151, 87));
  },
  "anthropic-refusal.json": (f) => {
    const out = fromAnthropicResponse(f);
    expect(out.model).toBe("claude-fable-5");
    expect(out.choices[0].finish_reason).toBe("content_filter");
    expect(out.choices[0].message.content).toBeNull();
    expect(out.choices[0].message.refusal).toBe(REFUSAL_EXPLANATION);
    expect(out.usage).toEqual(usage(18, 5));
  },
  "anthropic-text.json": (f) => {
    const out = fromAnthropicResponse(f);
    expect(out.id).toBe("msg_01VdEjxAP5ahtHKrrRdNBteQ");
    expect(out.choices).toHaveLength(1);
    expect(out.choices[0].index).toBe(0);
    expect(out.choices[0].message).toEqual({
      role: "assistant",
      content: "Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?",
      refusal: null,
    });
    expect(out.choices[0].finish_reason).toBe("stop");
    expect(out.choices[0].logprobs).toBeNull();
    expect(out.usage).toEqual(usage(12, 29));
  },
  "anthropic-tool-no-args.json": (f) => {
    const out = fromAnthropicResponse(f);
    expect(out.model).toBe("claude-3-opus-20240229");
    expect(out.choices[0].finish_reason).toBe("tool_calls");
    expect(out.choices[0].message.content).toStartWith("<thinking>\nThe updateIssueList tool was provided");
    expect(out.choices[0].message.content).toEndWith("Okay, I will update the current issue list:");
    expect(out.choices[0].message.tool_calls).toEqual([
      { id: "toolu_01LRmxn9vGM1d2DZSDBowdZ1", type: "function", function: { name: "updateIssueList", arguments: "{}" } },
    ]);
    expect(out.usage).toEqual(usage(602, 93));
  },
};

const translate = async (file: string, jsonTool?: string) =>
  assemble(await collect(streamOf(readChunksFixture(file)).pipeThrough(anthropicStreamTranslator({ account: "anthropic-main", jsonTool, created: 1 }))));

/** Expectations for each recorded stream. */
const streamCases: Record<string, (file: string) => Promise<void>> = {
  "anthropic-clear-thinking.1.chunks.txt": async (file) => {
    const a = await translate(file);
    expect(a.errors).toEqual([]);
    expect(a.id).toBe("msg_01Y6V41gqPaKWEw7iPouH7iW");
    expect(a.model).toBe("claude-sonnet-4-5-20250929");
    expect(a.role).toBe("assistant");
    expect(a.chunks[0].choices[0].delta.role).toBe("assistant");
    const thinking = "The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185";
    expect(a.reasoning).toBe(thinking);
    expect(a.content).toBe("925 ÷ 5 = 185");
    expect(a.order).toEqual(["reasoning", "content"]); // thinking always before content
    expect(a.thinkingBlocks).toHaveLength(1);
    expect(a.thinkingBlocks[0].type).toBe("thinking");
    expect(a.thinkingBlocks[0].thinking).toBe(thinking);
    expect(a.thinkingBlocks[0].signature).toStartWith("EvQBCkYICxgCKkAxhD4N");
    expect(a.thinkingBlocks[0].signature).toEndWith("BgB");
    expect(a.finishReason).toBe("stop");
    expect(a.usage).toEqual(usage(69, 53));
  },
  "anthropic-json-tool.1.chunks.txt": async (file) => {
    const json = await translate(file, "json");
    expect(json.errors).toEqual([]);
    expect(json.toolCalls).toEqual([]);
    expect(json.content).toBe('{"elements": [{"location": "San Francisco", "temperature": 58, "condition": "sunny"}]}');
    expect(JSON.parse(json.content).elements[0].temperature).toBe(58);
    expect(json.finishReason).toBe("stop");
    expect(json.usage).toEqual(usage(849, 47));

    const tool = await translate(file);
    expect(tool.content).toBe("");
    expect(tool.toolCalls).toEqual([
      {
        index: 0,
        id: "toolu_01KFbKqPYSuAKujiL6mTfzYA",
        type: "function",
        name: "json",
        arguments: '{"elements": [{"location": "San Francisco", "temperature": 58, "condition": "sunny"}]}',
      },
    ]);
    expect(tool.finishReason).toBe("tool_calls");
  },
  "anthropic-refusal.chunks.txt": async (file) => {
    const a = await translate(file);
    expect(a.errors).toEqual([]);
    expect(a.role).toBe("assistant");
    expect(a.content).toBe("");
    expect(a.refusal).toBe(REFUSAL_EXPLANATION);
    expect(a.finishReason).toBe("content_filter");
    expect(a.usage).toEqual(usage(18, 5));
  },
  "anthropic-text.chunks.txt": async (file) => {
    const a = await translate(file);
    expect(a.errors).toEqual([]);
    expect(a.id).toBe("msg_01QC4g3HwBThD4BaNtBckFDJ");
    expect(a.content).toBe(
      "Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?",
    );
    // one chunk per text delta, then the finish chunk, then the usage chunk
    expect(a.chunks).toHaveLength(6 + 2);
    expect(a.chunks[0].choices[0].delta).toEqual({ role: "assistant", content: "Hello" });
    expect(a.chunks[6].choices[0]).toEqual({ index: 0, delta: {}, logprobs: null, finish_reason: "stop" });
    expect(a.chunks[7].choices).toEqual([]);
    expect(a.chunks.every((c) => c.object === "chat.completion.chunk" && c.created === 1)).toBe(true);
    expect(a.usage).toEqual(usage(12, 30));
  },
  "anthropic-tool-no-args.chunks.txt": async (file) => {
    const a = await translate(file);
    expect(a.errors).toEqual([]);
    expect(a.content).toBe("I'll update the issue list for you.");
    expect(a.toolCalls).toEqual([
      { index: 0, id: "toolu_01QE1WLsSVp5hy5Q3GmGTmjP", type: "function", name: "updateIssueList", arguments: "{}" },
    ]);
    expect(a.order).toEqual(["content", "tool_calls"]);
    expect(a.finishReason).toBe("tool_calls");
    expect(a.usage).toEqual(usage(565, 48));
  },
};

describe("recorded Anthropic responses → chat.completion", () => {
  const files = fixtureFiles(".json");
  test("every recorded response has an expectation", () => {
    expect(files.length).toBeGreaterThan(0);
    expect(files).toEqual(Object.keys(responseCases).sort());
  });
  for (const file of files) {
    test(file, () => {
      const check = responseCases[file];
      if (!check) throw new Error(`no expectation for ${file}`);
      check(readJsonFixture(file));
    });
  }
});

describe("recorded Anthropic streams → chat.completion.chunk", () => {
  const files = fixtureFiles(".chunks.txt");
  test("every recorded stream has an expectation", () => {
    expect(files.length).toBeGreaterThan(0);
    expect(files).toEqual(Object.keys(streamCases).sort());
  });
  for (const file of files) {
    test(file, async () => {
      const check = streamCases[file];
      if (!check) throw new Error(`no expectation for ${file}`);
      await check(file);
    });
  }
});
