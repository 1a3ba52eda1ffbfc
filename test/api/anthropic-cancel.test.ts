import { expect, test } from "bun:test";
import { anthropicMessage, messageToStreamEvents } from "../mocks/anthropic.ts";
import { MODEL, useAnthropicGateway } from "./anthropic-setup.ts";

const t = useAnthropicGateway({ resetEach: false });

test("a stream the client cancels is logged as 499 with the prompt tokens Anthropic already counted", async () => {
  const message = anthropicMessage({
    content: [{ type: "text", text: "one two three four five six seven eight nine ten" }],
    usage: { input_tokens: 40, cache_read_input_tokens: 1000, cache_creation_input_tokens: 0, output_tokens: 10 },
  });
  t.mock.reply({ stream: messageToStreamEvents(message, { chunkSize: 4 }), delayMs: 60 });
  const stream = await t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "count" }], stream: true });
  let got = "";
  for await (const c of stream) {
    got += c.choices[0]?.delta?.content ?? "";
    if (got.length >= 4) break; // leaving the loop aborts the request
  }
  expect(got.length).toBeGreaterThan(0);
  await Bun.sleep(150);
  const log = t.g.logs()[0];
  expect(log.status).toBe(499);
  expect(log.prompt_tokens).toBe(1040);
  expect(log.cached_tokens).toBe(1000);
  expect(log.cost_usd).toBeGreaterThan(0);
});
