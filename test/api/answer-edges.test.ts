/**
 * Found by black-box checks of the built binary against OpenAI's spec and by an accounting audit: strict mode on
 * every surface, Groq's two usage forms, answers cut short or malformed, the upstream's error `param`, base64
 * embeddings from a server that ignores the encoding, the ids of model listings, schema messages for unions, a
 * typed path spelled another way, answers without usage, and how stream failures are logged.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import OpenAI from "openai";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";
import { fakeUpstream } from "../helpers/upstream.ts";
import { schemaErrors } from "../helpers/openapi.ts";
import { sseData } from "../helpers/sse.ts";

const sse = (events: (object | string)[]) =>
  new Response(events.map((e) => `data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`).join(""), { headers: { "content-type": "text/event-stream" } });
const chunk = (delta: object, finish: string | null = null, extra: object = {}) => ({
  id: "c1",
  object: "chat.completion.chunk",
  created: 1,
  model: "m",
  choices: [{ index: 0, delta, finish_reason: finish }],
  ...extra,
});

/** what each scenario answers (the request's first message picks it) */
const scenarios: Record<string, (body: any) => Response> = {
  // Groq: x_groq.usage on the finish chunk, and (newer API versions) a standard usage chunk as well
  "groq-both": () =>
    sse([
      chunk({ role: "assistant", content: "hi" }),
      chunk({}, "stop", { x_groq: { id: "g1", usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } } }),
      { ...chunk({}), choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 }, x_groq: { id: "g1" } },
      "[DONE]",
    ]),
  "groq-old": () =>
    sse([chunk({ role: "assistant", content: "hi" }), chunk({}, "stop", { x_groq: { id: "g1", usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } } }), "[DONE]"]),
  // a JSON answer cut off in the middle, and one with text after it
  "cut-json": () => new Response('{"id":"x","object":"chat.completion","created":1,"mod', { headers: { "content-type": "application/json" } }),
  "trailing-json": () =>
    new Response(JSON.stringify({ id: "x", object: "chat.completion", created: 1, model: "m", choices: [] }) + "garbage", { headers: { "content-type": "application/json" } }),
  // an error whose param is a path array
  "array-param": () => Response.json({ error: { message: "bad", type: "invalid_request_error", param: ["messages", 0, "content"], code: "x" } }, { status: 400 }),
  // a stream that stops after content, without a finish and without [DONE]
  "cut-stream": () => sse([chunk({ role: "assistant", content: "" }), chunk({ content: "half an ans" })]),
  // one that finishes but sends no [DONE]: fine
  "no-done": () => sse([chunk({ role: "assistant", content: "" }), chunk({ content: "whole" }), chunk({}, "stop")]),
  // an unreadable event after the content began
  "bad-event": () => sse([chunk({ role: "assistant", content: "" }), chunk({ content: "a" }), "{not json}", chunk({}, "stop"), "[DONE]"]),
  // a stream with no usage at all (a server that ignores include_usage)
  "no-usage": (body) =>
    body.stream
      ? sse([chunk({ role: "assistant", content: "" }), chunk({ content: "x" }), chunk({}, "stop"), "[DONE]"])
      : Response.json({ id: "x", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content: "x" }, finish_reason: "stop" }] }),
  // usage with cache writes and reasoning
  rich: () =>
    Response.json({
      id: "x",
      object: "chat.completion",
      created: 1,
      model: "m",
      choices: [{ index: 0, message: { role: "assistant", content: "x" }, finish_reason: "stop" }],
      usage: { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150, prompt_tokens_details: { cached_tokens: 10, cache_creation_tokens: 20 }, completion_tokens_details: { reasoning_tokens: 30 } },
    }),
  // Groq compound: the answer's usage, then a per-model breakdown with usage of its own, then x_groq's
  nested: () =>
    new Response(
      JSON.stringify({
        id: "x",
        object: "chat.completion",
        created: 1,
        model: "m",
        choices: [{ index: 0, message: { role: "assistant", content: "x" }, finish_reason: "stop" }],
        usage: { prompt_tokens: 2400, completion_tokens: 300, total_tokens: 2700 },
        usage_breakdown: { models: [{ model: "a", usage: { prompt_tokens: 2000, completion_tokens: 250 } }, { model: "b", usage: { prompt_tokens: 400, completion_tokens: 50 } }] },
        x_groq: { id: "g", usage: { queue_time: 0.01 } },
      }),
      { headers: { "content-type": "application/json" } },
    ),
  // a completion without its own id whose tool call has one
  "tool-no-id": () =>
    Response.json({
      object: "chat.completion",
      created: 1,
      model: "m",
      choices: [
        { index: 0, message: { role: "assistant", content: null, refusal: null, tool_calls: [{ id: "call_1", type: "function", function: { name: "f", arguments: "{}" } }] }, logprobs: null, finish_reason: "tool_calls" },
      ],
    }),
  // chunks after the first that lack their id; a usage chunk without `choices`
  "chunk-no-id": () =>
    sse([
      chunk({ role: "assistant", content: "" }, null, { id: "chatcmpl-up" }),
      chunk({ content: "a" }, null, { id: "chatcmpl-up" }),
      { object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: "b" }, finish_reason: "stop" }] },
      { id: "chatcmpl-up", object: "chat.completion.chunk", created: 1, model: "m", usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 } },
      "[DONE]",
    ]),
  // SSE events of their own type: a ping to leave out, an error to end with
  "typed-events": () =>
    new Response(
      `data: ${JSON.stringify(chunk({ role: "assistant", content: "" }))}\n\nevent: ping\ndata: {}\n\ndata: ${JSON.stringify(chunk({ content: "a" }))}\n\nevent: error\ndata: {"message":"overloaded","code":503}\n\n`,
      { headers: { "content-type": "text/event-stream" } },
    ),
  "vllm-error": () => sse([chunk({ role: "assistant", content: "" }), chunk({ content: "a" }), { object: "error", message: "engine died", type: "InternalServerError", code: 500 }]),
  // n = 2: the first choice finishes, the second is cut off (no [DONE])
  "n2-cut": () =>
    sse([
      { ...chunk({ role: "assistant", content: "" }), choices: [0, 1].map((index) => ({ index, delta: { role: "assistant", content: "" }, finish_reason: null })) },
      { ...chunk({}), choices: [{ index: 0, delta: { content: "done" }, finish_reason: "stop" }] },
      { ...chunk({}), choices: [{ index: 1, delta: { content: "still go" }, finish_reason: null }] },
    ]),
  // n = 2 asked, a server that ignores n: one choice, finished, no [DONE]
  "n2-ignored": () => sse([chunk({ role: "assistant", content: "" }), chunk({ content: "one" }), chunk({}, "stop")]),
  // reasoning under vLLM's name, then content only once the test lets it go
  reasoning: () => gated("reasoning", [chunk({ role: "assistant", content: "" }), chunk({ reasoning: "thinking…" })], [chunk({ content: "answer" }), chunk({}, "stop"), "[DONE]"]),
  // [DONE], then the body stays open (and sends more) until the test lets it go
  "done-open": () => gated("done-open", [chunk({ role: "assistant", content: "" }), chunk({ content: "all" }), chunk({}, "stop"), "[DONE]"], [chunk({ content: "GHOST" }), "[DONE]"]),
  // a stream that reports what it used (the pass-through path must ask for it)
  usage: (body) =>
    sse([
      chunk({ role: "assistant", content: "" }),
      chunk({ content: "ok" }),
      chunk({}, "stop"),
      ...(body.stream_options?.include_usage ? [{ ...chunk({}), choices: [], usage: { prompt_tokens: 9999, completion_tokens: 9999, total_tokens: 19998 } }] : []),
      "[DONE]",
    ]),
};

/** gates of the gated scenarios: open one to let the rest of its stream go */
const gates = new Map<string, () => void>();

/** An SSE stream that sends `before`, then waits for its gate to open before it sends `after` and ends. */
function gated(name: string, before: (object | string)[], after: (object | string)[]): Response {
  const event = (e: object | string) => new TextEncoder().encode(`data: ${typeof e === "string" ? e : JSON.stringify(e)}\n\n`);
  const open = new Promise<void>((resolve) => gates.set(name, resolve));
  return new Response(
    new ReadableStream({
      async start(c) {
        for (const e of before) c.enqueue(event(e));
        await open;
        for (const e of after) c.enqueue(event(e));
        c.close();
      },
    }),
    { headers: { "content-type": "text/event-stream" } },
  );
}

let upstream: ReturnType<typeof fakeUpstream>;
/** accepts the request, then closes the connection without a byte of answer */
let closer: Server;
let g: TestGateway;
let key: string;
const bodies: any[] = [];

beforeAll(async () => {
  closer = createServer((socket) => socket.once("data", () => socket.destroy()));
  await new Promise<void>((r) => closer.listen(0, "127.0.0.1", r));
  upstream = fakeUpstream(async (req) => {
    const body = await req.json();
    bodies.push(body);
    if (new URL(req.url).pathname.endsWith("/moderations")) return Response.json({ id: "modr-1", model: "omni", results: [{ flagged: false, categories: {}, category_scores: {} }] });
    if (new URL(req.url).pathname.endsWith("/embeddings")) {
      // a server that ignores encoding_format
      return Response.json({ object: "list", data: [{ object: "embedding", index: 0, embedding: [0.5, -1.25, 3] }], model: "e", usage: { prompt_tokens: 2, total_tokens: 2 } });
    }
    const scenario = scenarios[String(body.messages?.[0]?.content)];
    return scenario ? scenario(body) : Response.json({ error: { message: "no such scenario" } }, { status: 400 });
  });
  g = await startGateway(`
accounts:
  - name: compat
    provider: openai-compatible
    base_url: http://127.0.0.1:${upstream.port}/v1
    auth: { api_key: sk-compat-upstream-key }
    models:
      - { name: m, types: [chat] }
      - { name: e, types: [embedding] }
      - { name: r, types: [chat] }
      - { name: mod, types: [moderation] }
    access: { users: [team:everyone] }
  - name: groq-main
    provider: groq
    base_url: http://127.0.0.1:${upstream.port}/v1
    auth: { api_key: gsk-upstream-key }
    models: [{ name: m, types: [chat] }]
    access: { users: [team:everyone] }
  - name: closer
    provider: openai-compatible
    base_url: http://127.0.0.1:${(closer.address() as any).port}/v1
    auth: { api_key: sk-closer }
    models: [{ name: m, types: [chat] }]
    access: { users: [team:everyone] }
`);
  key = g.key("user:dev@example.com", { teams: ["everyone"] });
});

afterAll(async () => {
  for (const open of gates.values()) open();
  await g.close();
  upstream.stop(true);
  closer.close();
});

const client = () => g.client(key);
const ask = (model: string, scenario: string, extra: Record<string, unknown> = {}) => ({ model, messages: [{ role: "user" as const, content: scenario }], ...extra });
const rowOf = (id: string | null | undefined) => g.logs().find((r) => r.id === id);

/** A stream's events as the client reads them, as text (`data:` payloads). */
async function events(res: Response): Promise<string[]> {
  return sseData(await res.text());
}

async function rawChat(body: object, headers: Record<string, string> = {}, path = "/v1/chat/completions") {
  return fetch(g.url + path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
}

describe("strict mode on every surface", () => {
  test("embeddings: no provider; the float answer of a server that ignores base64 comes back as base64 the SDK decodes", async () => {
    const res = await fetch(g.url + "/v1/embeddings", {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json", "x-tfy-strict-openai": "true" },
      body: JSON.stringify({ model: "compat/e", input: "x", encoding_format: "base64" }),
    });
    const body = await res.json();
    expect(body.provider).toBeUndefined();
    // (OpenAI's spec types `embedding` as the float array only; base64 is a string)
    expect(Buffer.from(body.data[0].embedding, "base64").length).toBe(3 * 4);
    // the SDK asks for base64 by default and decodes it: the upstream's floats, not an empty array
    const viaSdk = await client().embeddings.create({ model: "compat/e", input: "x" });
    expect(viaSdk.data[0]!.embedding).toEqual([0.5, -1.25, 3]);
    expect(bodies.at(-1).encoding_format).toBe("base64");
    // asked for floats: floats, as the upstream sent them
    const floats = await client().embeddings.create({ model: "compat/e", input: "x", encoding_format: "float" });
    expect(floats.data[0]!.embedding).toEqual([0.5, -1.25, 3]);
    expect(schemaErrors("CreateEmbeddingResponse", floats)).toEqual([]);
  });

  test("the other typed endpoints (moderations here): strict leaves out provider", async () => {
    const ask = (strict: boolean) =>
      fetch(g.url + "/v1/moderations", {
        method: "POST",
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...(strict ? { "x-tfy-strict-openai": "true" } : {}) },
        body: JSON.stringify({ model: "compat/mod", input: "hello" }),
      }).then((r) => r.json());
    expect((await ask(false)).provider).toBe("compat");
    const strict = await ask(true);
    expect(strict.provider).toBeUndefined();
    expect(strict.id).toBe("modr-1");
  });

  test("models: strict leaves out the gateway's provider and types; every listing carries x-request-id", async () => {
    const headers = { authorization: `Bearer ${key}`, "x-tfy-strict-openai": "true" };
    const list = await fetch(g.url + "/v1/models", { headers });
    expect(list.headers.get("x-request-id")).toMatch(/^req_/);
    const body = await list.json();
    expect(body.data.length).toBeGreaterThan(0);
    for (const m of body.data) expect(Object.keys(m).sort()).toEqual(["created", "id", "object", "owned_by"]);
    const one = await fetch(g.url + "/api/llm/models/compat%2Fm", { headers });
    expect(one.headers.get("x-request-id")).toMatch(/^req_/);
    expect(await one.json()).toEqual({ id: "compat/m", object: "model", created: expect.any(Number), owned_by: "compat" });
    // not strict: the gateway's fields are there
    const plain = await client().models.retrieve("compat/m");
    expect((plain as any).types).toEqual(["chat"]);
    // the admin API's unknown path too
    const unknown = await g.admin("/no-such-thing");
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get("x-request-id")).toMatch(/^req_/);
  });
});

describe("answers cut short or malformed", () => {
  test("Groq with both usage forms: one usage chunk, not two; the older form alone still gives one", async () => {
    for (const scenario of ["groq-both", "groq-old"]) {
      const stream = await client().chat.completions.create({ ...ask("groq-main/m", scenario), stream: true, stream_options: { include_usage: true } });
      const usageChunks: any[] = [];
      let text = "";
      for await (const c of stream) {
        if (c.usage) usageChunks.push(c);
        text += c.choices[0]?.delta?.content ?? "";
      }
      expect(text).toBe("hi");
      expect(usageChunks.length).toBe(1);
      expect(usageChunks[0].choices).toEqual([]);
      expect(usageChunks[0].usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 });
      const row = g.logs()[0]; // newest first
      expect(row.prompt_tokens).toBe(5);
      expect(row.completion_tokens).toBe(2);
    }
  });

  test("a JSON answer cut off, or with text after it, is a 502 naming the account, not a 200", async () => {
    for (const scenario of ["cut-json", "trailing-json"]) {
      const e = await client().chat.completions.create(ask("compat/m", scenario)).catch((x) => x);
      expect(e).toBeInstanceOf(OpenAI.APIError);
      expect(e.status).toBe(502);
      expect(e.error.code).toBe("upstream_malformed_response");
      expect(e.error.message).toContain("compat");
    }
  });

  test("an upstream error's param given as a path array becomes OpenAI's string form", async () => {
    const e = await client().chat.completions.create(ask("compat/m", "array-param")).catch((x) => x);
    expect(e.status).toBe(400);
    expect(e.error.param).toBe("messages[0].content");
    expect(schemaErrors("ErrorResponse", { error: e.error })).toEqual([]);
  });

  test("a stream that stops without finishing or [DONE] ends with an error event; one that finished gets its [DONE]", async () => {
    const res = await rawChat(ask("compat/m", "cut-stream", { stream: true }));
    const ev = await events(res);
    expect(ev.at(-1)).not.toBe("[DONE]");
    const last = JSON.parse(ev.at(-1)!);
    expect(last.error.code).toBe("upstream_stream_truncated");
    expect(last.error.message).toContain("compat");
    const row = rowOf(res.headers.get("x-request-id"));
    expect(row.status).toBe(502);
    expect(row.stream).toBe(1);
    // the SDK raises it
    const stream = await client().chat.completions.create({ ...ask("compat/m", "cut-stream"), stream: true });
    const failed = await (async () => {
      for await (const _ of stream);
    })().catch((x) => x);
    expect(failed).toBeInstanceOf(Error);
    expect(String(failed.message)).toContain("ended before the answer finished");

    const ok = await events(await rawChat(ask("compat/m", "no-done", { stream: true })));
    expect(ok.at(-1)).toBe("[DONE]");
    expect(ok.some((e) => e.includes('"whole"'))).toBe(true);
  });

  test("an unreadable event after the content began is an error event, not passed on with provider spliced into it", async () => {
    const ev = await events(await rawChat(ask("compat/m", "bad-event", { stream: true })));
    expect(ev.some((e) => e.includes("not json"))).toBe(false);
    expect(JSON.parse(ev.at(-1)!).error.message).toContain("unreadable stream event");
  });

  test("an upstream that closes the connection without answering is named as such, not as unreachable", async () => {
    const e = await client().chat.completions.create(ask("closer/m", "x")).catch((x) => x);
    expect(e.status).toBe(502);
    expect(e.error.code).toBe("upstream_connection_closed");
    expect(e.error.message).toContain("closer");
    expect(e.error.message).not.toContain("Could not reach");
  });
});

describe("streams as self-hosted servers write them (found by a second black-box round)", () => {
  test("reasoning under another name (vLLM's and Ollama's `reasoning`) reaches the client as it comes, before any content", async () => {
    const stream = await client().chat.completions.create({ ...ask("compat/m", "reasoning"), stream: true });
    const seen: string[] = [];
    for await (const c of stream) {
      const d: any = c.choices[0]?.delta ?? {};
      if (d.reasoning) {
        seen.push(`reasoning:${d.reasoning}`);
        // the upstream sends its content only now: a gateway holding the reasoning back would wait here forever
        gates.get("reasoning")!();
      }
      if (d.content) seen.push(`content:${d.content}`);
    }
    expect(seen).toEqual(["reasoning:thinking…", "content:answer"]);
  });

  test("the upstream's [DONE] ends the client's stream, whatever the upstream does after it", async () => {
    const res = await rawChat({ ...ask("compat/m", "done-open"), stream: true });
    // read to the end while the upstream body is still open (its gate is never opened here)
    const ev = await events(res);
    expect(ev.at(-1)).toBe("[DONE]");
    expect(ev.filter((e) => e === "[DONE]")).toHaveLength(1);
    expect(ev.some((e) => e.includes("GHOST"))).toBe(false);
    expect(ev.some((e) => e.includes('"all"'))).toBe(true);
    expect(rowOf(res.headers.get("x-request-id")).status).toBe(200);
  });

  test("a non-streamed answer's own usage is logged, not a nested one after it", async () => {
    const res = await rawChat(ask("compat/m", "nested"));
    expect((await res.json()).usage.prompt_tokens).toBe(2400);
    const row = rowOf(res.headers.get("x-request-id"));
    expect([row.prompt_tokens, row.completion_tokens]).toEqual([2400, 300]);
  });

  test("ids: a completion whose tool call has an id but which has none itself gets one; chunks without one get the stream's", async () => {
    const c = await client().chat.completions.create(ask("compat/m", "tool-no-id"));
    expect(c.id).toMatch(/^chatcmpl-/);
    expect(c.choices[0]!.message.tool_calls![0]!.id).toBe("call_1");
    expect(schemaErrors("CreateChatCompletionResponse", c)).toEqual([]);
    const ids: string[] = [];
    let usage = 0;
    for await (const ch of await client().chat.completions.create({ ...ask("compat/m", "chunk-no-id"), stream: true, stream_options: { include_usage: true } })) {
      ids.push(ch.id);
      if (ch.usage) usage++;
    }
    expect(new Set(ids)).toEqual(new Set(["chatcmpl-up"]));
    expect(usage).toBe(1);
  });

  test("a usage chunk without `choices` is hidden from a client that did not ask for usage", async () => {
    const ev = await events(await rawChat({ ...ask("compat/m", "chunk-no-id"), stream: true }));
    expect(ev.at(-1)).toBe("[DONE]");
    for (const e of ev.slice(0, -1)) expect(Array.isArray(JSON.parse(e).choices)).toBe(true);
    // and the SDK's helper reads the stream whole
    const final = await client().chat.completions.stream({ ...ask("compat/m", "chunk-no-id") }).finalChatCompletion();
    expect(final.choices[0]!.message.content).toBe("ab");
  });

  test("`event: error` and vLLM's {object: error} end the stream with an error event; `event: ping` is left out", async () => {
    const ev = await events(await rawChat({ ...ask("compat/m", "typed-events"), stream: true }));
    expect(ev.some((e) => e === "{}" || e.includes('"provider":"compat"}'))).toBe(false);
    const last = JSON.parse(ev.at(-1)!);
    expect(last.error.message).toContain("overloaded");
    const e = await (async () => {
      for await (const _ of await client().chat.completions.create({ ...ask("compat/m", "vllm-error"), stream: true }));
    })().catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.APIError);
    expect(String(e.message)).toContain("engine died");
  });

  test("with n = 2 from a server that ignores n (one choice, finished, no [DONE]): a whole stream, ended with [DONE]", async () => {
    const res = await rawChat({ ...ask("compat/m", "n2-ignored"), stream: true, n: 2 });
    const ev = await events(res);
    expect(ev.at(-1)).toBe("[DONE]");
    expect(ev.some((e) => e.includes('"one"'))).toBe(true);
    expect(rowOf(res.headers.get("x-request-id")).status).toBe(200);
  });

  test("with n = 2 a stream that ends before every choice finished is cut off: an error event, not [DONE]", async () => {
    const res = await rawChat({ ...ask("compat/m", "n2-cut"), stream: true, n: 2 });
    const ev = await events(res);
    expect(JSON.parse(ev.at(-1)!).error.code).toBe("upstream_stream_truncated");
    expect(rowOf(res.headers.get("x-request-id")).status).toBe(502);
  });
});

describe("schema errors for parameters that take several types", () => {
  test("the message names the types, or what is wrong inside an object", async () => {
    const cases: [object, string, string][] = [
      [{ model: "compat/m", messages: [{ role: "user", content: "x" }], stream: "yes" }, "stream", "expected a boolean or null"],
      [{ model: "compat/m", messages: [{ role: "user", content: "x" }], stream_options: { include_usage: "x" } }, "stream_options.include_usage", "boolean"],
      [{ model: "compat/e", input: 5 }, "input", "expected a string, an array of strings, an array of numbers or an array of arrays of numbers"],
      [{ model: "compat/e", input: [] }, "input", "must not be empty"],
    ];
    for (const [body, param, words] of cases) {
      const path = "input" in body ? "/v1/embeddings" : "/v1/chat/completions";
      const res = await rawChat(body, {}, path);
      expect(res.status).toBe(400);
      const { error } = await res.json();
      expect(error.param).toBe(param);
      expect(error.message).toContain(words);
      expect(error.message).not.toContain("union");
    }
  });
});

describe("accounting", () => {
  test("a chat path spelled another way is served as chat completions: a stream's usage is asked for and billed", async () => {
    for (const path of ["/v1//chat/completions", "/api/llm/Chat/Completions", "/v1/chat%2Fcompletions"]) {
      const res = await rawChat({ model: "m", stream: true, messages: [{ role: "user", content: "usage" }] }, { "x-tfy-provider-name": "compat" }, path);
      expect(res.status).toBe(200);
      const ev = await events(res);
      expect(ev.at(-1)).toBe("[DONE]");
      // the client did not ask for usage: the chunk the gateway asked for is hidden from it
      expect(ev.some((e) => e.includes("9999"))).toBe(false);
      expect(bodies.at(-1).stream_options).toEqual({ include_usage: true });
      const row = rowOf(res.headers.get("x-request-id"));
      expect(row.endpoint).toBe("chat/completions");
      expect(row.prompt_tokens).toBe(9999);
      expect(row.completion_tokens).toBe(9999);
    }
  });

  test("a successful answer without usage is noted and counted as unpriced, streamed or not", async () => {
    const before = (await (await g.admin("/usage?by=account&account=compat")).json()).data[0]?.unpriced ?? 0;
    const stream = await rawChat(ask("compat/m", "no-usage", { stream: true }));
    await stream.text();
    const plain = await rawChat(ask("compat/m", "no-usage"));
    expect((await plain.json()).choices[0].message.content).toBe("x");
    for (const res of [stream, plain]) {
      const row = rowOf(res.headers.get("x-request-id"));
      expect(row.status).toBe(200);
      expect(row.prompt_tokens).toBeNull();
      expect(row.notes).toContain("reported no usage");
    }
    const after = (await (await g.admin("/usage?by=account&account=compat")).json()).data[0];
    expect(after.unpriced - before).toBe(2);
  });

  test("a stream request that fails before its stream begins is logged as a stream", async () => {
    const res = await rawChat(ask("compat/m", "array-param", { stream: true }));
    expect(res.status).toBe(400);
    const row = rowOf(res.headers.get("x-request-id"));
    expect(row.status).toBe(400);
    expect(row.stream).toBe(1);
  });

  test("a request refused for its x-tfy-metadata is logged with its account and model", async () => {
    const res = await rawChat(ask("compat/m", "usage"), { "x-tfy-metadata": "[1]" });
    expect(res.status).toBe(400);
    const row = rowOf(res.headers.get("x-request-id"));
    expect(row.account).toBe("compat");
    expect(row.model).toBe("m");
  });

  test("usage totals carry cache-write and reasoning tokens", async () => {
    for (let i = 0; i < 2; i++) await client().chat.completions.create(ask("compat/r", "rich"));
    const body = await (await g.admin("/usage?by=model&model=compat/r")).json();
    expect(body.data).toEqual([
      expect.objectContaining({ key: "compat/r", requests: 2, prompt_tokens: 200, completion_tokens: 100, cached_tokens: 20, cache_write_tokens: 40, reasoning_tokens: 60 }),
    ]);
  });
});
