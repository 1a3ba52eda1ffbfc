/**
 * Real recorded Anthropic responses (../shared/fixtures/recorded/anthropic/) replayed through the mock
 * and the gateway to the OpenAI SDK: each stream (`*.chunks.txt`, one event per line) and each JSON
 * response. Every recording must have a case here, so a new one cannot be skipped silently.
 */
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import type { ChatCompletionCreateParamsNonStreaming } from "openai/resources/chat/completions";
import { schemaErrors } from "../helpers/openapi.ts";
import type { AnthropicEvent } from "../mocks/anthropic.ts";
import {
  assembleStream,
  expectAnthropicHeaders,
  FIXTURES_DIR,
  MODEL,
  MODEL_ID,
  readChunksFixture,
  readJsonFixture,
  useAnthropicGateway,
  type AssembledStream,
} from "./anthropic-setup.ts";

const t = useAnthropicGateway();

const REFUSAL = "This request triggered restrictions on violative cyber content and was blocked under Anthropic's Usage Policy.";

type Request = Omit<ChatCompletionCreateParamsNonStreaming, "model">;
const plain: Request = { messages: [{ role: "user", content: "Hello, how are you?" }] };
const withIssueTool: Request = {
  messages: [{ role: "user", content: "Update the issue list." }],
  tools: [{ type: "function", function: { name: "updateIssueList", description: "Refreshes the issue list" } }],
};
const withJsonSchema: Request = {
  messages: [{ role: "user", content: "Weather report as JSON." }],
  response_format: {
    type: "json_schema",
    json_schema: {
      name: "weather",
      schema: {
        type: "object",
        properties: {
          elements: {
            type: "array",
            items: { type: "object", properties: { location: { type: "string" }, temperature: { type: "number" }, condition: { type: "string" } } },
          },
        },
      },
    },
  },
};
const withThinking: Request = { messages: [{ role: "user", content: "Divide the previous result by 5." }], reasoning_effort: "low", max_completion_tokens: 8000 };

/**
 * The recordings were made by a client whose structured-output tool was called `json`; the gateway
 * names its tool `json_output`, so the replay renames it (the events are otherwise unchanged).
 */
const renameJsonTool = (events: AnthropicEvent[]) =>
  events.map((e) => (e.content_block?.name === "json" ? { ...e, content_block: { ...e.content_block, name: "json_output" } } : e));

interface StreamCase {
  request: Request;
  prepare?: (events: AnthropicEvent[]) => AnthropicEvent[];
  check(a: AssembledStream): void;
}

const streamCases: Record<string, StreamCase> = {
  "anthropic-text.chunks.txt": {
    request: plain,
    check(a) {
      expect(a.id).toBe("msg_01QC4g3HwBThD4BaNtBckFDJ");
      expect(a.chunks[0]!.model).toBe("claude-sonnet-4-5-20250929");
      expect(a.content).toBe("Hello! I'm doing well, thank you for asking. How are you doing today? Is there anything I can help you with?");
      expect(a.chunks.filter((c) => c.choices[0]?.delta?.content)).toHaveLength(6);
      expect(a.toolCalls).toEqual([]);
      expect(a.finishReason).toBe("stop");
      expect(a.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 });
    },
  },
  "anthropic-tool-no-args.chunks.txt": {
    request: withIssueTool,
    check(a) {
      expect(a.content).toBe("I'll update the issue list for you.");
      expect(a.toolCalls).toEqual([{ index: 0, id: "toolu_01QE1WLsSVp5hy5Q3GmGTmjP", type: "function", name: "updateIssueList", arguments: "{}" }]);
      expect(a.finishReason).toBe("tool_calls");
      expect(a.usage).toMatchObject({ prompt_tokens: 565, completion_tokens: 48 });
    },
  },
  "anthropic-json-tool.1.chunks.txt": {
    request: withJsonSchema,
    prepare: renameJsonTool,
    check(a) {
      expect(JSON.parse(a.content)).toEqual({ elements: [{ location: "San Francisco", temperature: 58, condition: "sunny" }] });
      expect(a.toolCalls).toEqual([]);
      expect(a.finishReason).toBe("stop");
      expect(a.usage).toMatchObject({ prompt_tokens: 849, completion_tokens: 47 });
    },
  },
  "anthropic-clear-thinking.1.chunks.txt": {
    request: withThinking,
    check(a) {
      const thinking = "The previous result was 925. Now I need to divide that by 5.\n\n925 ÷ 5 = 185";
      expect(a.reasoning).toBe(thinking);
      expect(a.thinkingBlocks).toEqual([{ type: "thinking", thinking, signature: expect.stringMatching(/^EvQBCkYICxgCKkAxhD4N.*BgB$/) }]);
      expect(a.content).toBe("925 ÷ 5 = 185");
      // all reasoning comes before the answer
      const firstContent = a.chunks.findIndex((c) => c.choices[0]?.delta?.content);
      const lastReasoning = a.chunks.findLastIndex((c) => (c.choices[0]?.delta as any)?.reasoning_content);
      expect(lastReasoning).toBeLessThan(firstContent);
      expect(a.finishReason).toBe("stop");
      expect(a.usage).toMatchObject({ prompt_tokens: 69, completion_tokens: 53 });
    },
  },
  "anthropic-refusal.chunks.txt": {
    request: plain,
    check(a) {
      expect(a.refusal).toBe(REFUSAL);
      expect(a.content).toBe("");
      expect(a.finishReason).toBe("content_filter");
      expect(a.usage).toMatchObject({ prompt_tokens: 18, completion_tokens: 5 });
    },
  },
};

interface JsonCase {
  request: Request;
  prepare?: (message: any) => any;
  check(res: any): void;
}

const jsonCases: Record<string, JsonCase> = {
  "anthropic-text.json": {
    request: plain,
    check(res) {
      expect(res.id).toBe("msg_01VdEjxAP5ahtHKrrRdNBteQ");
      expect(res.choices[0].message.content).toBe(
        "Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?",
      );
      expect(res.choices[0].finish_reason).toBe("stop");
      expect(res.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 29, total_tokens: 41 });
    },
  },
  "anthropic-tool-no-args.json": {
    request: withIssueTool,
    check(res) {
      expect(res.model).toBe("claude-3-opus-20240229");
      expect(res.choices[0].message.content).toEndWith("Okay, I will update the current issue list:");
      expect(res.choices[0].message.tool_calls).toEqual([
        { id: "toolu_01LRmxn9vGM1d2DZSDBowdZ1", type: "function", function: { name: "updateIssueList", arguments: "{}" } },
      ]);
      expect(res.choices[0].finish_reason).toBe("tool_calls");
    },
  },
  "anthropic-json-tool.1.json": {
    request: withJsonSchema,
    prepare: (m) => ({ ...m, content: m.content.map((b: any) => (b.name === "json" ? { ...b, name: "json_output" } : b)) }),
    check(res) {
      const content = JSON.parse(res.choices[0].message.content);
      expect(content.elements).toHaveLength(4);
      expect(content.elements[3]).toEqual({ location: "Berlin", temperature: -9, condition: "snowy" });
      expect(res.choices[0].message.tool_calls).toBeUndefined();
      expect(res.choices[0].finish_reason).toBe("stop");
      expect(res.usage).toMatchObject({ prompt_tokens: 1151, completion_tokens: 87 });
    },
  },
  "anthropic-clear-thinking.1.json": {
    request: withThinking,
    check(res) {
      expect(res.choices[0].message.content).toBe("925 ÷ 5 = 185");
      expect(res.choices[0].message.reasoning_content).toBe("925 divided by 5 = 185");
      expect(res.choices[0].message.thinking_blocks[0].signature).toStartWith("Er4BCkYICxgCKkCoxqLH");
      expect(res.choices[0].finish_reason).toBe("stop");
    },
  },
  "anthropic-refusal.json": {
    request: plain,
    check(res) {
      expect(res.choices[0].message.content).toBeNull();
      expect(res.choices[0].message.refusal).toBe(REFUSAL);
      expect(res.choices[0].finish_reason).toBe("content_filter");
      expect(res.usage).toMatchObject({ prompt_tokens: 18, completion_tokens: 5 });
    },
  },
};

test("every recording has a replay case", () => {
  const files = readdirSync(FIXTURES_DIR).sort();
  expect(files.filter((f) => f.endsWith(".chunks.txt"))).toEqual(Object.keys(streamCases).sort());
  expect(files.filter((f) => f.endsWith(".json"))).toEqual(Object.keys(jsonCases).sort());
});

describe("recorded streams replayed through the gateway", () => {
  for (const [file, c] of Object.entries(streamCases)) {
    test(file, async () => {
      const events = readChunksFixture(file);
      t.mock.reply({ stream: c.prepare ? c.prepare(events) : events, delayMs: 1 });
      const stream = await t.client.chat.completions.create({
        ...c.request,
        model: MODEL,
        stream: true,
        stream_options: { include_usage: true },
      });
      const a = await assembleStream(stream);
      c.check(a);
      expect(a.role).toBe("assistant");
      expect(a.chunks.at(-1)!.choices).toEqual([]);
      for (const chunk of a.chunks) {
        expect((chunk as any).provider).toBe("anthropic-main");
        expect(schemaErrors("CreateChatCompletionStreamResponse", chunk)).toEqual([]);
      }
      const up = t.last();
      expectAnthropicHeaders(up, t.key);
      expect(up.body.model).toBe(MODEL_ID);
      expect(up.body.stream).toBe(true);
      const log = t.g.logs()[0];
      expect(log.status).toBe(200);
      expect(log.prompt_tokens).toBe(a.usage!.prompt_tokens);
      expect(log.completion_tokens).toBe(a.usage!.completion_tokens);
    });
  }
});

describe("recorded JSON responses replayed through the gateway", () => {
  for (const [file, c] of Object.entries(jsonCases)) {
    test(file, async () => {
      const message = readJsonFixture(file);
      t.mock.reply({ json: c.prepare ? c.prepare(message) : message });
      const res = await t.client.chat.completions.create({ ...c.request, model: MODEL });
      c.check(res);
      expect(res.object).toBe("chat.completion");
      expect(res.id).toBe(message.id);
      expect(res.model).toBe(message.model);
      expect(schemaErrors("CreateChatCompletionResponse", res)).toEqual([]);
      expectAnthropicHeaders(t.last(), t.key);
    });
  }
});
