/** x-tfy-strict-openai: true → only fields of OpenAI's schema; by default the gateway adds provider and reasoning. */
import { expect, test } from "bun:test";
import OpenAI from "openai";
import { anthropicMessage, messageToStreamEvents } from "../mocks/anthropic.ts";
import { MODEL, useAnthropicGateway } from "./anthropic-setup.ts";

const t = useAnthropicGateway({ resetEach: false });

const thinking = () =>
  anthropicMessage({
    content: [
      { type: "thinking", thinking: "The user greets me.", signature: "sig-abc" },
      { type: "text", text: "Hello there." },
    ],
  });
const ask = { model: MODEL, messages: [{ role: "user" as const, content: "hi" }], reasoning_effort: "low" as const };

test("default: provider, reasoning_content and thinking_blocks are added", async () => {
  t.mock.reply({ json: thinking() });
  const r: any = await t.client.chat.completions.create(ask);
  expect(r.provider).toBe("anthropic-main");
  expect(r.choices[0].message.reasoning_content).toBe("The user greets me.");
  expect(r.choices[0].message.thinking_blocks).toEqual([{ type: "thinking", thinking: "The user greets me.", signature: "sig-abc" }]);
});

test("strict: the same answer without the gateway's additions, JSON and stream", async () => {
  const strict = new OpenAI({ apiKey: t.key, baseURL: t.g.url + "/v1", maxRetries: 0, defaultHeaders: { "x-tfy-strict-openai": "true" } });
  t.mock.reply({ json: thinking() });
  const r: any = await strict.chat.completions.create(ask);
  expect(r.choices[0].message.content).toBe("Hello there.");
  expect(r.provider).toBeUndefined();
  const openaiMessageFields = ["role", "content", "refusal", "tool_calls", "annotations", "audio", "function_call"];
  expect(Object.keys(r.choices[0].message).filter((k) => !openaiMessageFields.includes(k))).toEqual([]);
  expect(r.choices[0].message.reasoning_content).toBeUndefined();

  t.mock.reply({ stream: messageToStreamEvents(thinking(), { chunkSize: 5 }) });
  const s = await strict.chat.completions.create({ ...ask, stream: true });
  let text = "";
  for await (const c of s as any) {
    expect(c.provider).toBeUndefined();
    expect(c.choices[0]?.delta?.reasoning_content).toBeUndefined();
    expect(c.choices[0]?.delta?.thinking_blocks).toBeUndefined();
    text += c.choices[0]?.delta?.content ?? "";
  }
  expect(text).toBe("Hello there.");
});
