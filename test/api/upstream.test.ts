import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { startOpenAIMock, MOCK_KEY, chunks, type OpenAIMock } from "../mocks/openai.ts";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";
import { schemaErrors } from "../helpers/openapi.ts";

let mock: OpenAIMock;
let g: TestGateway;
let key: string;

beforeAll(async () => {
  mock = startOpenAIMock();
  g = await startGateway(
    `
accounts:
  - name: openai-main
    provider: openai
    base_url: ${mock.url}
    auth: { api_key: ${MOCK_KEY} }
    models:
      - { name: gpt-4o-mini, types: [chat] }
      - { name: text-embedding-3-small, types: [embedding] }
    access: { users: [team:everyone] }
  - name: wrong-key
    provider: openai
    base_url: ${mock.url}
    auth: { api_key: sk-wrong }
    models: [{ name: gpt-4o-mini, types: [chat] }]
    access: { users: [team:everyone] }
  - name: dead-upstream
    provider: openai-compatible
    base_url: http://127.0.0.1:9/v1
    auth: { api_key: x }
    models: [{ name: m, types: [chat] }]
    access: { users: [team:everyone] }
`,
    { maxBodyBytes: 64 * 1024 },
  );
  key = g.key("user:bob@example.com");
});
afterAll(async () => {
  await g.close();
  mock.close();
});

const msg = [{ role: "user" as const, content: "hi" }];

describe("responses match OpenAI's published schemas", () => {
  test("chat completion, stream chunks, embeddings, models", async () => {
    const c = g.client(key);
    const r = await c.chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg });
    expect(schemaErrors("CreateChatCompletionResponse", r)).toEqual([]);
    const s = await c.chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg, stream: true, stream_options: { include_usage: true } });
    let n = 0;
    for await (const chunk of s) {
      expect(schemaErrors("CreateChatCompletionStreamResponse", chunk)).toEqual([]);
      n++;
    }
    expect(n).toBe(7);
    const raw = await fetch(g.url + "/v1/embeddings", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openai-main/text-embedding-3-small", input: "x" }),
    }).then((x) => x.json());
    expect(schemaErrors("CreateEmbeddingResponse", raw)).toEqual([]);
    expect(raw.data[0].embedding).toEqual([0.1, 0.2, -0.3]);
    const models = await fetch(g.url + "/v1/models", { headers: { authorization: `Bearer ${key}` } }).then((x) => x.json());
    expect(schemaErrors("ListModelsResponse", models)).toEqual([]);
  });
});

describe("upstream failures", () => {
  test("upstream error keeps status and message and names the account", async () => {
    const e = await g.client(key).chat.completions.create({ model: "wrong-key/gpt-4o-mini", messages: msg }).catch((x) => x);
    expect(e.status).toBe(401);
    expect(e.error.message).toContain("wrong-key");
    expect(e.error.message).toContain("Incorrect API key provided");
    expect(e.error.code).toBe("invalid_api_key");
    const log = g.logs()[0];
    expect(log.status).toBe(401);
    expect(log.error).toContain("Incorrect API key");
  });

  test("a 200 that is not JSON (a proxy's HTML page) → 502 naming the account", async () => {
    mock.reply({ status: 200, json: "<html>maintenance</html>", raw: true });
    const e = await g.client(key).chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg }).catch((x) => x);
    expect(e.status).toBe(502);
    expect(e.error.message).toContain("openai-main");
    expect(e.error.code).toBe("upstream_malformed_response");
  });

  test("429 from upstream stays 429, with the upstream's retry guidance", async () => {
    mock.reply({
      status: 429,
      json: { error: { message: "Rate limit reached for gpt-4o-mini", type: "requests", param: null, code: "rate_limit_exceeded" } },
      headers: { "retry-after": "2", "retry-after-ms": "1500", "x-ratelimit-remaining-requests": "0", "openai-organization": "acme-org" },
    });
    const e = await g.client(key).chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg }).catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e.error.message).toContain("openai-main");
    // what the SDK's retry waits on reaches the client, and the account's rate-limit state (as OpenAI's own
    // answers carry it); the account's organisation does not
    expect(e.headers.get("retry-after")).toBe("2");
    expect(e.headers.get("retry-after-ms")).toBe("1500");
    expect(e.headers.get("x-ratelimit-remaining-requests")).toBe("0");
    expect(e.headers.get("openai-organization")).toBeNull();
  });

  test("x-should-retry: false from the upstream reaches the SDK, which then does not retry", async () => {
    const before = mock.requests.length;
    mock.reply({
      status: 429,
      json: { error: { message: "You exceeded your current quota", type: "insufficient_quota", param: null, code: "insufficient_quota" } },
      headers: { "x-should-retry": "false" },
    });
    const c = new OpenAI({ apiKey: key, baseURL: g.url + "/v1", maxRetries: 2 });
    const e = await c.chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg }).catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.RateLimitError);
    expect(e.headers.get("x-should-retry")).toBe("false");
    expect(mock.requests.length - before).toBe(1);
  });

  test("a 2xx answer carries the upstream's x-ratelimit-* and openai-processing-ms, nothing else of its headers", async () => {
    mock.reply({
      status: 200,
      json: { id: "chatcmpl-1", object: "chat.completion", created: 1, model: "gpt-4o-mini", choices: [{ index: 0, message: { role: "assistant", content: "hi" }, finish_reason: "stop" }] },
      headers: { "x-ratelimit-remaining-tokens": "149984", "x-ratelimit-reset-requests": "6ms", "openai-processing-ms": "12", "openai-project": "proj_secret", "set-cookie": "a=b", "x-ratelimit-key": `used ${MOCK_KEY}` },
    });
    const { data, response } = await g.client(key).chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg }).withResponse();
    expect(data.choices[0]!.message.content).toBe("hi");
    expect(response.headers.get("x-ratelimit-remaining-tokens")).toBe("149984");
    expect(response.headers.get("x-ratelimit-reset-requests")).toBe("6ms");
    expect(response.headers.get("openai-processing-ms")).toBe("12");
    expect(response.headers.get("openai-project")).toBeNull();
    // a passed-on header that quotes the credential has it cut out
    expect(response.headers.get("x-ratelimit-key")).toBe("used <redacted>");
    expect(response.headers.get("set-cookie")).toBeNull();
  });

  test("unreachable upstream → 502, timeout → 504", async () => {
    const e = await g.client(key).chat.completions.create({ model: "dead-upstream/m", messages: msg }).catch((x) => x);
    expect(e.status).toBe(502);
    expect(e.error.message).toContain("dead-upstream");
    mock.reply({ hang: true });
    const c = new OpenAI({ apiKey: key, baseURL: g.url + "/v1", maxRetries: 0, defaultHeaders: { "x-tfy-request-timeout": "150" } });
    const t = await c.chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg }).catch((x) => x);
    expect(t.status).toBe(504);
    expect(t.error.message).toContain("timed out");
  });

  test("the timeout is for progress: a long stream that keeps sending is not cut, a stream gone quiet is", async () => {
    const c = new OpenAI({ apiKey: key, baseURL: g.url + "/v1", maxRetries: 0, defaultHeaders: { "x-tfy-request-timeout": "300" } });
    mock.reply({ stream: chunks(["a", "b", "c", "d"], "gpt-4o-mini", false), delayMs: 120 });
    let text = "";
    for await (const x of await c.chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg, stream: true })) {
      text += x.choices[0]?.delta?.content ?? "";
    }
    expect(text).toBe("abcd"); // ~720 ms in all, never 300 ms without an event

    // a role chunk and "first", then 900 ms of silence
    mock.reply({ stream: chunks(["first", "late"], "gpt-4o-mini", false), delayMs: 0, stall: { after: 2, ms: 900 } });
    const got: string[] = [];
    const err = await (async () => {
      for await (const x of await c.chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg, stream: true })) {
        got.push(x.choices[0]?.delta?.content ?? "");
      }
    })().catch((e) => e);
    expect(got.join("")).toBe("first");
    expect(String(err?.message)).toContain("timed out");
    await Bun.sleep(20);
    expect(g.logs()[0].status).toBe(504);
  });

  test("error event mid-stream reaches the client as an error and ends the stream", async () => {
    const events = chunks(["one", "two"], "gpt-4o-mini", false).slice(0, 2);
    mock.reply({
      stream: [],
      raw: [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), `data: ${JSON.stringify({ error: { message: "The server had an error", type: "server_error" } })}\n\n`],
    });
    const s = await g.client(key).chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg, stream: true });
    const got: string[] = [];
    const err = await (async () => {
      for await (const c of s) got.push(c.choices[0]?.delta?.content ?? "");
    })().catch((x) => x);
    expect(got.join("")).toBe("one");
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(String(err.message)).toContain("The server had an error");
    await Bun.sleep(20);
    expect(g.logs()[0].error).toContain("The server had an error");
  });

  test("error before the first token becomes an HTTP error", async () => {
    mock.reply({ stream: [], raw: [`data: ${JSON.stringify({ error: { message: "overloaded", type: "server_error", status: 503 } })}\n\n`] });
    const e = await g.client(key).chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg, stream: true }).catch((x) => x);
    expect(e.status).toBe(503);
    expect(e.error.message).toBe("Upstream error from account 'openai-main': overloaded");
    expect(e.error.type).toBe("server_error");
  });
});

describe("request checks", () => {
  const post = (path: string, body: string, headers: Record<string, string> = {}) =>
    fetch(g.url + path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers }, body });

  test("bad JSON, bad schema, big body, bad metadata", async () => {
    const a = await post("/v1/chat/completions", "{nope");
    expect(a.status).toBe(400);
    expect((await a.json()).error.code).toBe("invalid_json");
    const b = await post("/v1/chat/completions", JSON.stringify({ model: "openai-main/gpt-4o-mini", messages: [{ content: "x" }] }));
    expect(b.status).toBe(400);
    expect((await b.json()).error.param).toBe("messages[0].role");
    const c = await post("/v1/chat/completions", JSON.stringify({ model: "openai-main/gpt-4o-mini", messages: msg, pad: "x".repeat(70_000) }));
    expect(c.status).toBe(413);
    expect((await c.json()).error.code).toBe("request_too_large");
    const d = await post("/v1/chat/completions", JSON.stringify({ model: "openai-main/gpt-4o-mini", messages: msg }), { "x-tfy-metadata": '{"a": 1}' });
    expect(d.status).toBe(400);
    expect((await d.json()).error.param).toBe("x-tfy-metadata");
    const long = await post("/v1/chat/completions", JSON.stringify({ model: "openai-main/gpt-4o-mini", messages: msg }), {
      "x-tfy-metadata": JSON.stringify({ a: "x".repeat(129) }),
    });
    expect(long.status).toBe(400);
    expect((await long.json()).error).toMatchObject({ param: "x-tfy-metadata", message: "x-tfy-metadata value for 'a' is longer than 128 characters" });
  });

  test("metadata is stored with the log", async () => {
    const c = new OpenAI({ apiKey: key, baseURL: g.url + "/v1", maxRetries: 0, defaultHeaders: { "x-tfy-metadata": JSON.stringify({ team: "search", env: "prod" }) } });
    await c.chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg });
    expect(JSON.parse(g.logs()[0].metadata)).toEqual({ team: "search", env: "prod" });
  });

  test("every mount point serves the same API", async () => {
    for (const prefix of ["/v1", "/api/llm", "/api/llm/api/inference/openai"]) {
      const r = await g.client(key, prefix).chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: [{ role: "user", content: prefix }] });
      expect(r.choices[0]!.message.content).toBe(`echo: ${prefix}`);
    }
  });
});

describe("pass-through of other OpenAI paths", () => {
  test("method, query and body reach the account with its credential", async () => {
    const h = { authorization: `Bearer ${key}`, "x-tfy-provider-name": "openai-main", "content-type": "application/json" };
    const r = await fetch(g.url + "/v1/chat/completions/chatcmpl-123/messages?limit=2&order=asc", { headers: h });
    expect(r.status).toBe(200);
    expect((await r.json()).echo).toEqual({ method: "GET", path: "/v1/chat/completions/chatcmpl-123/messages", search: "?limit=2&order=asc", body: null });
    const up = mock.requests.at(-1)!;
    expect(up.headers.authorization).toBe(`Bearer ${MOCK_KEY}`);
    const p = await fetch(g.url + "/v1/vector_stores", { method: "POST", headers: h, body: JSON.stringify({ name: "docs" }) });
    expect((await p.json()).echo.body).toEqual({ name: "docs" });
    expect(g.logs()[0].endpoint).toBe("vector_stores");
  });

  test("GET /v1/chat/completions (stored completions list) is passed through, not taken for a chat call", async () => {
    const r = await fetch(g.url + "/v1/chat/completions?limit=3", { headers: { authorization: `Bearer ${key}`, "x-tfy-provider-name": "openai-main" } });
    expect(r.status).toBe(200);
    expect((await r.json()).echo).toEqual({ method: "GET", path: "/v1/chat/completions", search: "?limit=3", body: null });
  });

  test("the SDK reaches a stored completion through the header", async () => {
    const c = new OpenAI({ apiKey: key, baseURL: g.url + "/v1", maxRetries: 0, defaultHeaders: { "x-tfy-provider-name": "openai-main" } });
    const r: any = await c.chat.completions.retrieve("chatcmpl-abc");
    expect(r.echo.path).toBe("/v1/chat/completions/chatcmpl-abc");
  });

  test("without the header: 404 saying how to reach the path; an unknown account: 404 naming it", async () => {
    const r = await fetch(g.url + "/v1/assistants", { headers: { authorization: `Bearer ${key}` } });
    expect(r.status).toBe(404);
    expect((await r.json()).error.message).toContain("x-tfy-provider-name");
    const g2 = await fetch(g.url + "/v1/assistants", { headers: { authorization: `Bearer ${key}`, "x-tfy-provider-name": "nope" } });
    expect(g2.status).toBe(404);
    expect((await g2.json()).error.message).toBe("Unknown account 'nope' in x-tfy-provider-name");
  });
});

describe("body limit and header text (found by black-box checks)", () => {
  const msg = [{ role: "user" as const, content: "hi" }];
  const chunked = (text: string) =>
    new ReadableStream<Uint8Array>({
      start(c) {
        const bytes = new TextEncoder().encode(text);
        for (let i = 0; i < bytes.length; i += 16 * 1024) c.enqueue(bytes.slice(i, i + 16 * 1024));
        c.close();
      },
    });

  test("a body far over the limit gets the OpenAI envelope the SDK can read, and is logged", async () => {
    // more than Bun's own cut-off would have been (limit + 1 MiB): that one answered with no body at all
    const e = await g
      .client(key)
      .chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg, pad: "x".repeat(3 * 1024 * 1024) } as any)
      .catch((x) => x);
    expect(e.status).toBe(413);
    expect(e.error).toMatchObject({ code: "request_too_large", message: expect.stringContaining("larger than the limit of 65536 bytes") });
    expect(g.logs()[0]).toMatchObject({ id: e.requestID, status: 413, endpoint: "chat/completions" });
  });

  test("a body without content-length is counted as it is read: over the limit a 413, under it served", async () => {
    const post = (body: ReadableStream, path = "/v1/chat/completions", headers: Record<string, string> = {}) =>
      fetch(g.url + path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers }, body, duplex: "half" } as any);
    const big = await post(chunked(JSON.stringify({ model: "openai-main/gpt-4o-mini", messages: msg, pad: "x".repeat(200_000) })));
    expect(big.status).toBe(413);
    expect((await big.json()).error.code).toBe("request_too_large");
    const small = await post(chunked(JSON.stringify({ model: "openai-main/gpt-4o-mini", messages: [{ role: "user", content: "chunked hello" }] })));
    expect(small.status).toBe(200);
    expect((await small.json()).choices[0].message.content).toContain("chunked hello");
    // a multipart form, and a pass-through upload, the same
    const form = await post(chunked("--b\r\n" + "x".repeat(100_000)), "/v1/audio/transcriptions", { "content-type": "multipart/form-data; boundary=b" });
    expect(form.status).toBe(413);
    const pass = await post(chunked("x".repeat(100_000)), "/v1/files", { "content-type": "application/octet-stream", "x-tfy-provider-name": "openai-main" });
    expect(pass.status).toBe(413);
    expect((await pass.json()).error.code).toBe("request_too_large");
  });

  test("x-tfy-metadata in UTF-8 is stored as written, its length counted in characters", async () => {
    // the header's bytes as a client such as curl sends them: UTF-8 (fetch takes a string of one character per byte)
    const c = (meta: unknown) =>
      new OpenAI({ apiKey: key, baseURL: g.url + "/v1", maxRetries: 0, defaultHeaders: { "x-tfy-metadata": Buffer.from(JSON.stringify(meta)).toString("latin1") } });
    await c({ team: "Zürich", note: "héllo wörld ✓" }).chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg });
    expect(JSON.parse(g.logs()[0].metadata)).toEqual({ team: "Zürich", note: "héllo wörld ✓" });
    await c({ a: "é".repeat(128) }).chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg });
    expect(JSON.parse(g.logs()[0].metadata).a).toBe("é".repeat(128));
    const e = await c({ a: "é".repeat(129) }).chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: msg }).catch((x) => x);
    expect(e.status).toBe(400);
    expect(e.error.message).toBe("x-tfy-metadata value for 'a' is longer than 128 characters");
  });
});
