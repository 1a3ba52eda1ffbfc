import { expect, test } from "bun:test";
import { completionToChunks } from "../../src/providers/openai/completion-chunks.ts";
import { schemaErrors } from "../helpers/openapi.ts";

const completion = {
  id: "chatcmpl-1",
  object: "chat.completion",
  created: 1700000000,
  model: "llama-3.1-8b",
  system_fingerprint: "fp_1",
  choices: [
    {
      index: 0,
      message: {
        role: "assistant",
        content: null,
        reasoning_content: "look it up",
        tool_calls: [
          { id: "call_a", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
          { id: "call_b", type: "function", function: { name: "time", arguments: "{}" } },
        ],
      },
      logprobs: null,
      finish_reason: "tool_calls",
    },
    { index: 1, message: { role: "assistant", content: "It is sunny." }, finish_reason: "stop" },
  ],
  usage: { prompt_tokens: 20, completion_tokens: 12, total_tokens: 32 },
};

test("a completion becomes its stream: each choice's message as one delta, then the finish reasons, then usage", () => {
  const chunks = completionToChunks(completion);
  expect(chunks).toHaveLength(5);
  for (const c of chunks) {
    expect(c).toMatchObject({ id: "chatcmpl-1", object: "chat.completion.chunk", created: 1700000000, model: "llama-3.1-8b", system_fingerprint: "fp_1" });
  }
  const [first, second, finish0, finish1, usage] = chunks;
  // null fields left out, tool calls indexed as a stream indexes them
  expect(first!.choices[0]).toEqual({
    index: 0,
    delta: {
      role: "assistant",
      reasoning_content: "look it up",
      tool_calls: [
        { index: 0, id: "call_a", type: "function", function: { name: "weather", arguments: '{"city":"Paris"}' } },
        { index: 1, id: "call_b", type: "function", function: { name: "time", arguments: "{}" } },
      ],
    },
    logprobs: null,
    finish_reason: null,
  });
  expect(second!.choices[0].delta).toEqual({ role: "assistant", content: "It is sunny." });
  expect(finish0!.choices[0]).toMatchObject({ index: 0, delta: {}, finish_reason: "tool_calls" });
  expect(finish1!.choices[0]).toMatchObject({ index: 1, delta: {}, finish_reason: "stop" });
  expect(usage).toMatchObject({ choices: [], usage: { prompt_tokens: 20, completion_tokens: 12, total_tokens: 32 } });
  // each one a chunk of OpenAI's published shape (reasoning_content aside, which the spec allows as an extra field)
  for (const c of chunks) expect(schemaErrors("CreateChatCompletionStreamResponse", c)).toEqual([]);
});

test("no usage, no usage chunk; a missing finish reason is stop", () => {
  const chunks = completionToChunks({ id: "x", created: 1, model: "m", choices: [{ message: { role: "assistant", content: "hi" } }] });
  expect(chunks.map((c) => c.choices[0]?.finish_reason)).toEqual([null, "stop"]);
  expect(chunks[0]!.choices[0].index).toBe(0);
});
