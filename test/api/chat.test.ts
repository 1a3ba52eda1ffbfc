import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { startOpenAIMock, MOCK_KEY, type OpenAIMock } from "../mocks/openai.ts";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";

let mock: OpenAIMock;
let g: TestGateway;
let userKey: string;

beforeAll(async () => {
  mock = startOpenAIMock();
  g = await startGateway(`
accounts:
  - name: openai-main
    provider: openai
    base_url: ${mock.url}
    auth: { api_key: ${MOCK_KEY} }
    models:
      - name: gpt-4o-mini
        types: [chat]
      - name: text-embedding-3-small
        types: [embedding]
      - name: support-bot
        model_id: ft:gpt-4o-mini:acme::abc123
        types: [chat]
        cost: { input: 0.30, output: 1.20, cache_read: 0.15 }
    access:
      users: [team:everyone]
`);
  userKey = g.key("user:bob@example.com");
});
afterAll(async () => {
  await g.close();
  mock.close();
});

describe("chat completions through the OpenAI SDK", () => {
  test("non-stream: content, upstream model id, credential swap, provider, usage logged with cost", async () => {
    const client = g.client(userKey);
    const { data: res, response } = await client.chat.completions
      .create({ model: "openai-main/support-bot", messages: [{ role: "user", content: "hi there" }], temperature: 0.2, some_new_param: { x: 1 } } as any)
      .withResponse();
    expect(res.choices[0]!.message.content).toBe("echo: hi there");
    expect((res as any).provider).toBe("openai-main");
    expect(response.headers.get("x-tfy-resolved-model")).toBe("openai-main/support-bot");
    const up = mock.requests.at(-1)!;
    expect(up.body.model).toBe("ft:gpt-4o-mini:acme::abc123");
    expect(up.body.temperature).toBe(0.2);
    expect(up.body.some_new_param).toEqual({ x: 1 });
    expect(up.headers.authorization).toBe(`Bearer ${MOCK_KEY}`);
    expect(JSON.stringify(up.headers)).not.toContain(userKey);
    const log = g.logs()[0];
    expect(log.account).toBe("openai-main");
    expect(log.model).toBe("support-bot");
    expect(log.prompt_tokens).toBe(11);
    expect(log.completion_tokens).toBe(7);
    expect(log.cost_usd).toBeCloseTo((11 * 0.3 + 7 * 1.2) / 1e6, 12);
    expect(log.status).toBe(200);
  });

  test("stream: chunks arrive one by one, usage hidden unless asked, logged anyway", async () => {
    const client = g.client(userKey);
    const stream = await client.chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: [{ role: "user", content: "hi" }], stream: true });
    const arrivals: number[] = [];
    const parts: string[] = [];
    for await (const c of stream) {
      arrivals.push(performance.now());
      expect(c.usage).toBeUndefined();
      parts.push(c.choices[0]?.delta?.content ?? "");
    }
    expect(parts.join("")).toBe("Hello from the mock");
    // the mock waits 5 ms between events: a buffered stream would deliver them all at once
    expect(arrivals.length).toBe(6);
    const spread = arrivals.at(-1)! - arrivals[0]!;
    expect(spread).toBeGreaterThan(10);
    expect(mock.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
    const log = g.logs()[0];
    expect(log.stream).toBe(1);
    expect(log.prompt_tokens).toBe(13);
    expect(log.completion_tokens).toBe(4);
    expect(log.cached_tokens).toBe(4);
    expect(log.ttft_ms).toBeGreaterThan(0);
  });

  test("stream with include_usage gives the usage chunk", async () => {
    const client = g.client(userKey);
    const stream = await client.chat.completions.create({
      model: "openai-main/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const all = [];
    for await (const c of stream) all.push(c);
    expect(all.at(-1)!.usage).toMatchObject({ prompt_tokens: 13, completion_tokens: 4, total_tokens: 17 });
    expect(all.at(-1)!.choices).toEqual([]);
  });

  test("embeddings", async () => {
    const res = await g.client(userKey).embeddings.create({ model: "openai-main/text-embedding-3-small", input: ["a", "b"] });
    expect(res.data.length).toBe(2);
    expect(res.data[1]!.embedding.length).toBe(3);
    expect(res.usage.prompt_tokens).toBe(4);
    const log = g.logs()[0];
    expect(log.endpoint).toBe("embeddings");
    expect(log.prompt_tokens).toBe(4);
    expect(log.cost_usd).toBeGreaterThan(0);
  });

  test("models.list shows what the key may use", async () => {
    const list = await g.client(userKey).models.list();
    expect(list.data.map((m) => m.id).sort()).toEqual(["openai-main/gpt-4o-mini", "openai-main/support-bot", "openai-main/text-embedding-3-small"]);
    const one = await g.client(userKey).models.retrieve("openai-main/gpt-4o-mini");
    expect(one.owned_by).toBe("openai-main");
  });

  test("errors are OpenAI-shaped", async () => {
    const client = g.client(userKey);
    const err = await client.chat.completions.create({ model: "nope/gpt", messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(OpenAI.NotFoundError);
    expect(err.error.message).toContain("Unknown account 'nope'");
    const err2 = await client.embeddings.create({ model: "openai-main/gpt-4o-mini", input: "x" }).catch((e) => e);
    expect(err2.status).toBe(400);
    expect(err2.error.message).toBe("embedding is not supported for the model openai-main/gpt-4o-mini");
    const err3 = await client.chat.completions.create({ model: "openai-main/gpt-4o-mini" } as any).catch((e) => e);
    expect(err3.status).toBe(400);
    expect(err3.error.param).toBe("messages");
  });
});
