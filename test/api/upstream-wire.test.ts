/**
 * The gateway through the official SDK against an upstream that writes exact HTTP/1.1 bytes: a gzip-compressed,
 * chunked chat completion and a chunked SSE stream (what OpenAI's edge sends), and keep-alive reuse across requests.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";
import { rawServer } from "../mocks/raw-http.ts";

const COMPLETION = {
  id: "chatcmpl-wire",
  object: "chat.completion",
  created: 1770000000,
  model: "gpt-4o-mini-2024-07-18",
  choices: [{ index: 0, message: { role: "assistant", content: "Bonjour ✓", refusal: null }, finish_reason: "stop", logprobs: null }],
  usage: { prompt_tokens: 11, completion_tokens: 4, total_tokens: 15, prompt_tokens_details: { cached_tokens: 0 } },
};

const chunk = (data: string) => `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n`;

let g: TestGateway;
let upstream: ReturnType<typeof rawServer>;

beforeAll(async () => {
  upstream = rawServer((req, s) => {
    const body = JSON.parse(Buffer.from(req.slice(req.indexOf("\r\n\r\n") + 4), "latin1").toString("utf8"));
    if (!body.stream) {
      const gz = gzipSync(Buffer.from(JSON.stringify(COMPLETION)));
      s.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n`);
      s.write(Buffer.concat([Buffer.from(`${gz.length.toString(16)}\r\n`), gz, Buffer.from("\r\n0\r\n\r\n")]));
      return;
    }
    s.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
    const base = { id: "chatcmpl-s", object: "chat.completion.chunk", created: 1770000000, model: "gpt-4o-mini" };
    const events = [
      { ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: "Bon" }, finish_reason: null }] },
      { ...base, choices: [{ index: 0, delta: { content: "jour" }, finish_reason: "stop" }] },
      { ...base, choices: [], usage: { prompt_tokens: 9, completion_tokens: 2, total_tokens: 11 } },
    ];
    // one event split across two chunks, the rest one per chunk
    const first = `data: ${JSON.stringify(events[0])}\n\n`;
    s.write(chunk(first.slice(0, 20)) + chunk(first.slice(20)));
    for (const e of events.slice(1, 2)) s.write(chunk(`data: ${JSON.stringify(e)}\n\n`));
    // a field the gateway does not know, and one upstream that names its own provider: both arrive, ours wins
    s.write(chunk(`data: ${JSON.stringify({ ...events[2], obfuscation: "x1y2" })}\n\n`));
    s.write(chunk(`data: ${JSON.stringify({ ...events[3], provider: "upstream-own" })}\n\n`));
    s.write(chunk("data: [DONE]\n\n") + "0\r\n\r\n");
  });
  g = await startGateway(`
accounts:
  - name: edge
    provider: openai
    base_url: ${upstream.url}/v1
    auth: { api_key: sk-upstream-secret }
    models: [{ name: gpt-4o-mini, types: [chat], cost: { input: 1, output: 2 } }]
    access: { users: [team:everyone] }
`);
});

afterAll(async () => {
  await g.close();
  upstream.stop();
});

describe("gateway ↔ upstream on the wire", () => {
  test("a gzip + chunked completion reaches the SDK intact, with usage and cost logged; the connection is reused", async () => {
    const c = g.client(g.key("user:wire@example.com"));
    for (let i = 0; i < 3; i++) {
      const r = await c.chat.completions.create({ model: "edge/gpt-4o-mini", messages: [{ role: "user", content: "salut" }] });
      expect(r.choices[0]!.message.content).toBe("Bonjour ✓");
      expect(r.usage?.total_tokens).toBe(15);
    }
    expect(upstream.connections).toBe(1);
    const req = upstream.requests[0]!;
    expect(req.startsWith("POST /v1/chat/completions HTTP/1.1\r\n")).toBe(true);
    expect(req).toContain("\r\nauthorization: Bearer sk-upstream-secret\r\n");
    expect(req).toContain('"model":"gpt-4o-mini"');
    const log = g.logs()[0];
    expect(log.status).toBe(200);
    expect(log.prompt_tokens).toBe(11);
    expect(log.completion_tokens).toBe(4);
    expect(log.cost_usd).toBeCloseTo((11 * 1 + 4 * 2) / 1e6, 12);
  });

  test("a chunked SSE stream arrives chunk by chunk with its usage", async () => {
    const c = g.client(g.key("user:wire2@example.com"));
    const stream = await c.chat.completions.create({
      model: "edge/gpt-4o-mini",
      messages: [{ role: "user", content: "salut" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const got: string[] = [];
    const all: any[] = [];
    let usage: any;
    for await (const x of stream) {
      all.push(x);
      if (x.choices[0]?.delta?.content) got.push(x.choices[0].delta.content);
      if (x.usage) usage = x.usage;
    }
    expect(got).toEqual(["Bon", "jour"]);
    expect(all.every((x) => x.provider === "edge")).toBe(true);
    expect(all.find((x) => x.choices[0]?.delta?.content === "jour").obfuscation).toBe("x1y2");
    expect(usage.total_tokens).toBe(11);
    expect(upstream.connections).toBe(1);
  });
});
