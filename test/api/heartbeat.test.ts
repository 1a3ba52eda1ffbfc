import { afterAll, beforeAll, expect, test } from "bun:test";
import { chunks, MOCK_KEY, startOpenAIMock, type OpenAIMock } from "../mocks/openai.ts";
import { openAIAccountConfig, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { sseData } from "../helpers/sse.ts";

let mock: OpenAIMock;
let g: TestGateway;

const config = () => openAIAccountConfig(mock.url, MOCK_KEY);

beforeAll(async () => {
  mock = startOpenAIMock();
  g = await startGateway(
    config(),
    { heartbeatMs: 60 },
  );
});
afterAll(async () => {
  await g.close();
  mock.close();
});

test("a quiet upstream stream gets SSE comment heartbeats; the SDK still sees every chunk", async () => {
  mock.reply({ stream: chunks(["slow", " words"], "gpt-4o-mini", false), delayMs: 250 });
  const res = await fetch(g.url + "/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${g.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "openai-main/gpt-4o-mini", messages: [{ role: "user", content: "x" }], stream: true }),
  });
  const text = await res.text();
  expect(text).toContain(": keep-alive\n\n");
  const data = sseData(text)
    .filter((d) => d !== "[DONE]")
    .map((d) => JSON.parse(d));
  expect(data.map((c) => c.choices[0]?.delta?.content ?? "").join("")).toBe("slow words");
  expect(data.every((c) => c.provider === "openai-main" && !("usage" in c))).toBe(true);
  expect(text.trimEnd().endsWith("data: [DONE]")).toBe(true);

  mock.reply({ stream: chunks(["fast"], "gpt-4o-mini", false), delayMs: 0 });
  const quick = await fetch(g.url + "/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${g.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "openai-main/gpt-4o-mini", messages: [{ role: "user", content: "x" }], stream: true }),
  }).then((r) => r.text());
  expect(quick).not.toContain("keep-alive");
});

test("a non-streaming call slower than the server idle timeout still gets its answer (Bun does not cut a pending request)", async () => {
  const slow = await startGateway(
    config(),
    { idleTimeoutSec: 1 },
  );
  try {
    const { completion } = await import("../mocks/openai.ts");
    mock.reply({ status: 200, json: completion("worth the wait", "gpt-4o-mini"), delayMs: 2500 });
    const r = await slow.client(slow.adminKey).chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    expect(r.choices[0]!.message.content).toBe("worth the wait");
  } finally {
    await slow.close();
  }
}, 10_000);
