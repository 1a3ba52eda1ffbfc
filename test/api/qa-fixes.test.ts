/**
 * Found by black-box checks of the built binary: an upstream that echoes the credential it was sent, pass-through
 * bodies that name a model, a stream that fails before its first content, strict mode on an answer that names a
 * provider, and refused requests in the log and with their request id.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import OpenAI from "openai";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";
import { fakeUpstream } from "../helpers/upstream.ts";
import { completion } from "../mocks/openai.ts";
import { schemaErrors } from "../helpers/openapi.ts";

const SECRET = "sk-live-0123456789abcdefSECRET";
let upstream: ReturnType<typeof fakeUpstream>;
/** answers every request with the role chunk of a stream, then drops the connection */
let dropper: Server;
let g: TestGateway;
let user: string;
let support: string;
const seen: { path: string; body: any; auth: string | null }[] = [];

const enc = new TextEncoder();
const roleChunk = `data: ${JSON.stringify({ id: "c1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] })}\n\n`;

beforeAll(async () => {
  dropper = createServer((socket) => {
    socket.once("data", () => {
      const chunk = roleChunk.length.toString(16) + "\r\n" + roleChunk + "\r\n";
      socket.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n" + chunk);
      setTimeout(() => socket.destroy(), 20);
    });
  });
  await new Promise<void>((r) => dropper.listen(0, "127.0.0.1", r));
  upstream = fakeUpstream(async (req) => {
    const url = new URL(req.url);
    const auth = req.headers.get("authorization");
    const body = req.method === "POST" && req.headers.get("content-type")?.includes("json") ? await req.json() : null;
    seen.push({ path: url.pathname, body, auth });
    const [, kind] = url.pathname.split("/");
    if (kind === "reflect") {
      // an upstream that puts the credential it was sent in its answer (a reflecting mock, a broken proxy)
      if (url.pathname.endsWith("/embeddings")) return Response.json({ object: "list", data: [{ object: "embedding", index: 0, embedding: [0.1] }], model: auth, usage: { prompt_tokens: 1, total_tokens: 1 } });
      if (body?.stream) {
        const chunk = (content: string, finish: string | null) =>
          `data: ${JSON.stringify({ id: "r1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: finish }] })}\n\n`;
        return new Response(chunk("you sent ", null) + chunk(String(auth), null) + chunk("", "stop") + "data: [DONE]\n\n", { headers: { "content-type": "text/event-stream" } });
      }
      return Response.json(completion(`you sent ${auth}`, "m", { prompt_tokens: 1, completion_tokens: 1 }));
    }
    if (kind === "echo" && url.pathname.endsWith("/content")) {
      // a file download served as text: a BOM, Latin-1, bytes that are not UTF-8
      return new Response(new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a, 0xff, 0x00, 0xfe, 0x80]), { headers: { "content-type": "text/plain" } });
    }
    if (kind === "echo" && url.pathname.endsWith("/echo-headers")) {
      // a debug endpoint that reflects the request, with a 200; streamed in small pieces when asked
      const text = JSON.stringify({ headers: { authorization: auth } });
      if (url.searchParams.has("stream")) {
        const bytes = new TextEncoder().encode(`data: ${text}\n\n`);
        return new Response(
          new ReadableStream({
            async start(c) {
              for (let i = 0; i < bytes.length; i += 7) {
                c.enqueue(bytes.slice(i, i + 7));
                await Bun.sleep(1);
              }
              c.close();
            },
          }),
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      return new Response(text, { headers: { "content-type": url.searchParams.has("binary") ? "application/octet-stream" : "application/json", "x-echo-auth": String(auth) } });
    }
    if (kind === "echo") {
      // an upstream that prints what it was sent
      const message = `Incorrect API key provided: ${auth?.slice(7)}. You sent: ${auth}`;
      if (url.pathname.endsWith("/chat/completions") && body?.stream && body?.messages?.[0]?.content === "mid") {
        return new Response(`data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: "hi" }, finish_reason: null }] })}\n\ndata: ${JSON.stringify({ error: { message } })}\n\n`, {
          headers: { "content-type": "text/event-stream" },
        });
      }
      return Response.json({ error: { message, type: "invalid_request_error", code: "invalid_api_key" } }, { status: 401 });
    }
    if (kind === "stall") {
      // the role chunk, then nothing: a timeout
      return new Response(
        new ReadableStream({
          start(c) {
            c.enqueue(enc.encode(roleChunk));
          },
        }),
        { headers: { "content-type": "text/event-stream" } },
      );
    }
    if (url.pathname.endsWith("/responses")) {
      const usage = { input_tokens: 11, output_tokens: 7, total_tokens: 18 };
      const resp = { id: "resp_1", object: "response", status: "completed", model: body?.model, output: [], usage };
      if (body?.stream) {
        const events = [
          { type: "response.created", response: { ...resp, status: "in_progress", usage: null } },
          { type: "response.output_text.delta", delta: "Hi" },
          { type: "response.completed", response: resp },
        ];
        return new Response(events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(""), { headers: { "content-type": "text/event-stream" } });
      }
      return Response.json(resp);
    }
    if (kind === "plain") {
      // a server that rejects stream_options (like some self-hosted ones) and reports usage on its last chunk
      if (body?.stream_options) return Response.json({ detail: [{ loc: ["body", "stream_options"], msg: "Extra inputs are not permitted" }] }, { status: 400 });
      const chunk = (delta: object, finish: string | null, usage?: object) =>
        `data: ${JSON.stringify({ id: "p1", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta, finish_reason: finish }], ...(usage ? { usage } : {}) })}\n\n`;
      return new Response(chunk({ role: "assistant", content: "Hi" }, null) + chunk({}, "stop", { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 }) + "data: [DONE]\n\n", {
        headers: { "content-type": "text/event-stream" },
      });
    }
    if (kind === "bare") {
      // a self-hosted server that leaves out id, object, created and model (its choices are whole)
      const message = { role: "assistant", content: "bare answer", refusal: null };
      const usage = { prompt_tokens: 4, completion_tokens: 2, total_tokens: 6 };
      if (body?.stream && body?.messages?.[0]?.content !== "json") {
        const chunk = (o: object) => `data: ${JSON.stringify(o)}\n\n`;
        return new Response(
          chunk({ choices: [{ index: 0, delta: { role: "assistant", content: "bare" }, finish_reason: null }] }) +
            chunk({ choices: [{ index: 0, delta: { content: " answer" }, finish_reason: null }] }) +
            chunk({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }) +
            chunk({ choices: [], usage }) +
            "data: [DONE]\n\n",
          { headers: { "content-type": "text/event-stream" } },
        );
      }
      return Response.json({ choices: [{ index: 0, message, logprobs: null, finish_reason: "stop" }], usage });
    }
    if (kind === "named") return Response.json({ provider: "SomeCloud", ...completion("hello", "m", { prompt_tokens: 3, completion_tokens: 2 }), x_groq: { id: "req_01" } });
    return Response.json(completion("ok", "m", { prompt_tokens: 3, completion_tokens: 2 }));
  });
  const base = (name: string) => `http://127.0.0.1:${upstream.port}/${name}/v1`;
  // one-model OpenAI-compatible accounts, each with a key of its own
  const simple = (name: string, url: string, key: string) => `
  - name: ${name}
    provider: openai-compatible
    base_url: ${url}
    auth: { api_key: ${key} }
    models: [{ name: m, types: [chat, embedding] }]
    access: { users: [team:everyone] }`;
  g = await startGateway(
    `accounts:${simple("echo", base("echo"), SECRET)}${simple("stall", base("stall"), "sk-stall-key-000")}${simple("dropper", `http://127.0.0.1:${(dropper.address() as any).port}/v1`, "sk-drop-key-000")}${simple("named", base("named"), "sk-named-key-000")}${simple("bare", base("bare"), "sk-bare-key-000")}${simple("reflect", base("reflect"), "sk-reflect-secret-0000")}${simple("plain", base("plain"), "sk-plain-key-000")}
    stream_usage: false
  - name: main
    provider: openai
    base_url: ${base("main")}
    auth: { api_key: sk-main-key-000 }
    models:
      - { name: gpt-4o-mini, types: [chat, responses] }
      - { name: chat-only, model_id: gpt-4.1-nano, types: [chat] }
      - { name: rt, model_id: gpt-realtime, types: [realtime] }
      - name: support-bot
        model_id: "ft:gpt-4o-mini:acme::abc123"
        types: [chat, responses]
        authorized_subjects: [team:support]
    access: { users: [team:everyone] }
`,
    { requestTimeoutMs: 60_000 },
  );
  user = g.key("user:bob@example.com", { teams: ["everyone"] });
  support = g.key("user:sue@example.com", { teams: ["everyone", "support"] });
});

afterAll(async () => {
  await g.close();
  upstream.stop(true);
  dropper.close();
});

const providerClient = (key: string, account: string) =>
  new OpenAI({ apiKey: key, baseURL: g.url + "/v1", maxRetries: 0, defaultHeaders: { "x-tfy-provider-name": account } });

async function apiError(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

test("an upstream that echoes the credential: the key is cut out of the client's error, the log and Test Credentials", async () => {
  const c = g.client(user);
  const plain = await apiError(c.chat.completions.create({ model: "echo/m", messages: [{ role: "user", content: "hi" }] }));
  expect(plain.status).toBe(401);
  expect(plain.message).toContain("Incorrect API key provided: <redacted>");
  expect(plain.message).not.toContain(SECRET);
  // an error before the first chunk of a stream
  const streamed = await apiError(c.chat.completions.create({ model: "echo/m", stream: true, messages: [{ role: "user", content: "hi" }] }));
  expect(streamed.status).toBe(401);
  expect(JSON.stringify(streamed.error)).not.toContain(SECRET);
  // an error event after content
  const res = await fetch(g.url + "/v1/chat/completions", {
    method: "POST",
    headers: { authorization: `Bearer ${user}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "echo/m", stream: true, messages: [{ role: "user", content: "mid" }] }),
  });
  const text = await res.text();
  expect(text).toContain('"content":"hi"');
  expect(text).toContain("<redacted>");
  expect(text).not.toContain(SECRET);
  // a pass-through path's error body
  const pass = await fetch(g.url + "/v1/assistants", { headers: { authorization: `Bearer ${user}`, "x-tfy-provider-name": "echo" } });
  expect(pass.status).toBe(401);
  const passText = await pass.text();
  expect(passText).toContain("<redacted>");
  expect(passText).not.toContain(SECRET);
  // Test Credentials reports the upstream's message without it
  const tested = await (await g.admin("/accounts/echo/test", { method: "POST" })).json();
  expect(JSON.stringify(tested)).toContain("<redacted>");
  expect(JSON.stringify(tested)).not.toContain(SECRET);
  const rows = g.logs().filter((r) => r.account === "echo");
  expect(rows.length).toBe(4);
  for (const r of rows) expect(String(r.error)).not.toContain(SECRET);
  expect(rows.some((r) => String(r.error).includes("<redacted>"))).toBe(true);
});

test("pass-through bodies that name a model: authorized_subjects, the model's type and its upstream id apply", async () => {
  const bob = providerClient(user, "main");
  const denied = await apiError(bob.responses.create({ model: "support-bot", input: "hi" }));
  expect(denied.status).toBe(403);
  expect(denied.message).toContain("main/support-bot");
  const deniedRow = g.logs()[0];
  expect([deniedRow.status, deniedRow.account, deniedRow.model, deniedRow.endpoint]).toEqual([403, "main", "support-bot", "responses"]);

  const wrongType = await apiError(bob.responses.create({ model: "chat-only", input: "hi" }));
  expect(wrongType.status).toBe(400);
  expect(wrongType.error.message).toBe("responses is not supported for the model main/chat-only");
  const unknown = await apiError(bob.responses.create({ model: "gpt-9", input: "hi" }));
  expect(unknown.status).toBe(404);
  const otherAccount = await apiError(bob.responses.create({ model: "echo/m", input: "hi" }));
  expect(otherAccount.status).toBe(400);
  expect(otherAccount.error.param).toBe("model");

  seen.length = 0;
  const sue = providerClient(support, "main");
  const r = await sue.responses.create({ model: "main/support-bot", input: "hi" });
  expect(r.id).toBe("resp_1");
  expect(seen[0]!.body.model).toBe("ft:gpt-4o-mini:acme::abc123");
  expect(seen[0]!.auth).toBe("Bearer sk-main-key-000");
  expect((r as any).provider).toBe("main");
  const row = g.logs()[0];
  expect([row.status, row.model, row.prompt_tokens, row.completion_tokens]).toEqual([200, "support-bot", 11, 7]);

  // streamed: the usage of response.completed is logged
  const stream = await sue.responses.create({ model: "gpt-4o-mini", input: "hi", stream: true });
  const types: string[] = [];
  for await (const e of stream) types.push(e.type);
  expect(types).toEqual(["response.created", "response.output_text.delta", "response.completed"]);
  const srow = g.logs()[0];
  expect([srow.status, srow.model, srow.stream, srow.prompt_tokens, srow.completion_tokens]).toEqual([200, "gpt-4o-mini", 1, 11, 7]);
  // a body without a model goes as it is
  seen.length = 0;
  const res = await fetch(g.url + "/v1/vector_stores", {
    method: "POST",
    headers: { authorization: `Bearer ${user}`, "x-tfy-provider-name": "main", "content-type": "application/json" },
    body: JSON.stringify({ name: "docs" }),
  });
  expect(res.status).toBe(200);
  expect(seen[0]!.body).toEqual({ name: "docs" });
});

test("a stream that stops after its role chunk: a timeout is a 504, a dropped connection a 502, both naming the account", async () => {
  const c = g.client(user);
  const timedOut = await apiError(
    c.chat.completions.create({ model: "stall/m", stream: true, messages: [{ role: "user", content: "wait" }] }, { headers: { "x-tfy-request-timeout": "200" } }),
  );
  expect(timedOut.status).toBe(504);
  expect(timedOut.message).toContain("'stall'");
  const dropped = await apiError(c.chat.completions.create({ model: "dropper/m", stream: true, messages: [{ role: "user", content: "drop" }] }));
  expect(dropped.status).toBe(502);
  expect(dropped.message).toContain("'dropper'");
  expect(g.logs().find((r) => r.account === "stall")?.status).toBe(504);
  expect(g.logs().find((r) => r.account === "dropper")?.status).toBe(502);
});

test("strict mode: an answer that names its own provider (and Groq's x_groq) comes back without them", async () => {
  const c = g.client(user);
  const res = await c.chat.completions.create({ model: "named/m", messages: [{ role: "user", content: "hi" }] }, { headers: { "x-tfy-strict-openai": "true" } });
  expect(res.choices[0]!.message.content).toBe("hello");
  expect("provider" in res).toBe(false);
  expect("x_groq" in res).toBe(false);
  const loose = await c.chat.completions.create({ model: "named/m", messages: [{ role: "user", content: "hi" }] });
  expect((loose as any).provider).toBe("named");
});

test("refused requests are logged, with their account and model when known, and their answer carries the log's request id", async () => {
  const post = (body: string, path = "/v1/chat/completions", key = user) =>
    fetch(g.url + path, { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body });
  const bad = await post("{not json");
  expect(bad.status).toBe(400);
  const badId = bad.headers.get("x-request-id");
  expect(badId).toMatch(/^req_/);
  expect(g.logs()[0]).toMatchObject({ id: badId, status: 400, endpoint: "chat/completions", subject: "user:bob@example.com" });

  const schema = await post(JSON.stringify({ model: "main/gpt-4o-mini" }));
  expect(schema.status).toBe(400);
  expect((await schema.json()).error.param).toBe("messages");
  expect(g.logs()[0]).toMatchObject({ id: schema.headers.get("x-request-id"), status: 400 });

  const emb = await post(JSON.stringify({ model: "main/gpt-4o-mini" }), "/v1/embeddings");
  expect(emb.status).toBe(400);
  expect(g.logs()[0]).toMatchObject({ id: emb.headers.get("x-request-id"), status: 400, endpoint: "embeddings" });

  const notAllowed = await post(JSON.stringify({ model: "main/support-bot", messages: [{ role: "user", content: "x" }] }));
  expect(notAllowed.status).toBe(403);
  expect(g.logs()[0]).toMatchObject({ id: notAllowed.headers.get("x-request-id"), status: 403, account: "main", model: "support-bot" });

  const gated = await post(JSON.stringify({ model: "main/chat-only", input: "x" }), "/v1/embeddings");
  expect(gated.status).toBe(400);
  expect(g.logs()[0]).toMatchObject({ status: 400, account: "main", model: "chat-only" });

  const unknown = await post(JSON.stringify({ model: "main/nope", messages: [{ role: "user", content: "x" }] }));
  expect(unknown.status).toBe(404);
  expect(g.logs()[0]).toMatchObject({ id: unknown.headers.get("x-request-id"), status: 404, model: "main/nope" });

  // an upstream error's answer carries the id too (the SDK reads it as requestID)
  const err = await apiError(g.client(user).chat.completions.create({ model: "echo/m", messages: [{ role: "user", content: "hi" }] }));
  expect(err.requestID).toMatch(/^req_/);
  expect(g.logs()[0].id).toBe(err.requestID);

  // the typed JSON endpoints log a body they cannot read
  const mod = await post("[1,2]", "/v1/moderations");
  expect(mod.status).toBe(400);
  expect(g.logs()[0]).toMatchObject({ id: mod.headers.get("x-request-id"), status: 400, endpoint: "moderations" });

  // no key: a 401, not logged
  const before = g.logs().length;
  const anon = await post("{}", "/v1/chat/completions", "sk-sb-nope");
  expect(anon.status).toBe(401);
  expect(g.logs().length).toBe(before);
});

test("GET /models/{id}: 403 naming the model for a key that may not use it, 404 for none, a bare name with x-tfy-provider-name", async () => {
  const denied = await apiError(g.client(user).models.retrieve("main/support-bot"));
  expect(denied.status).toBe(403);
  expect(denied.error.message).toContain("main/support-bot");
  expect((await apiError(g.client(user).models.retrieve("main/nope"))).status).toBe(404);
  expect((await g.client(support).models.retrieve("main/support-bot")).id).toBe("main/support-bot");
  expect((await providerClient(user, "main").models.retrieve("gpt-4o-mini")).id).toBe("main/gpt-4o-mini");
});

test("stream_usage: false: the client's own stream_options is not sent either, and the usage the server reports reaches it", async () => {
  const stream = await g.client(user).chat.completions.create({ model: "plain/m", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: "hi" }] });
  let text = "";
  let usage: any = null;
  for await (const c of stream) {
    text += c.choices[0]?.delta?.content ?? "";
    if (c.usage) usage = c.usage;
  }
  expect(text).toBe("Hi");
  expect(usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 1 });
  const row = g.logs()[0];
  expect([row.account, row.status, row.prompt_tokens, row.completion_tokens]).toEqual(["plain", 200, 5, 1]);
  expect(row.notes).toContain("stream_options not sent");
});

test("a server that leaves out id, object, created and model: the client gets them, as OpenAI's schema requires", async () => {
  const c = g.client(user);
  const res = await c.chat.completions.create({ model: "bare/m", messages: [{ role: "user", content: "hi" }] });
  expect(schemaErrors("CreateChatCompletionResponse", res)).toEqual([]);
  expect(res.choices[0]!.message.content).toBe("bare answer");
  expect(res.id).toMatch(/^chatcmpl-/);
  expect(res.id).toBe(`chatcmpl-${g.logs()[0].id.replace(/^req_/, "")}`);
  expect(res.model).toBe("m");
  for (const ask of ["stream", "json"]) {
    const stream = await c.chat.completions.create({ model: "bare/m", stream: true, stream_options: { include_usage: true }, messages: [{ role: "user", content: ask }] });
    let text = "";
    const ids = new Set<string>();
    let usage: any = null;
    for await (const chunk of stream) {
      expect(schemaErrors("CreateChatCompletionStreamResponse", chunk)).toEqual([]);
      ids.add(chunk.id);
      text += chunk.choices[0]?.delta?.content ?? "";
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe("bare answer");
    expect(ids.size).toBe(1);
    expect(usage).toMatchObject({ prompt_tokens: 4, completion_tokens: 2 });
  }
});

test("a stream whose client leaves before the upstream answers: the upstream call is cancelled and logged as 499", async () => {
  const slow = fakeUpstream(async (req) => {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 3000);
      req.signal.addEventListener("abort", () => {
        clearTimeout(t);
        cancelledAt = performance.now();
        resolve();
      });
    });
    return new Response(roleChunk, { headers: { "content-type": "text/event-stream" } });
  });
  let cancelledAt = 0;
  const s = await startGateway(`accounts:
  - name: slow
    provider: openai-compatible
    base_url: http://127.0.0.1:${slow.port}/v1
    auth: { api_key: sk-slow-key-000 }
    models: [{ name: m, types: [chat] }]
    access: { users: [team:everyone] }
`);
  try {
    const k = s.key("user:bob@example.com", { teams: ["everyone"] });
    const ctl = new AbortController();
    const started = performance.now();
    const req = s.client(k).chat.completions.create({ model: "slow/m", stream: true, messages: [{ role: "user", content: "hi" }] }, { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 200);
    await req.catch(() => {});
    await Bun.sleep(300);
    expect(cancelledAt).toBeGreaterThan(0);
    expect(cancelledAt - started).toBeLessThan(1500);
    const row = s.logs()[0];
    expect(row.status).toBe(499);
    expect(row.latency_ms).toBeLessThan(1500);
  } finally {
    await s.close();
    slow.stop(true);
  }
});

/** A refused pass-through request: its status, an OpenAI error about the model, and nothing sent upstream. */
async function refused(answer: Promise<Response>, status: number) {
  const before = seen.length;
  const r = await answer;
  expect(r.status).toBe(status);
  const { error } = await r.json();
  if (status === 403) expect(error.message).toContain("support-bot");
  else expect(error.param).toBe("model");
  expect(seen.length).toBe(before);
}

test("pass-through: a model is found and checked whatever the content type claims, a form's too, and a typed path written another way keeps its type", async () => {
  const send = (path: string, body: BodyInit, contentType?: string) =>
    fetch(g.url + path, {
      method: "POST",
      headers: { authorization: `Bearer ${user}`, "x-tfy-provider-name": "main", ...(contentType ? { "content-type": contentType } : {}) },
      body,
    });
  const denied = JSON.stringify({ model: "support-bot", input: "hi" });
  for (const ct of ["Application/JSON", "text/plain", "application/octet-stream", undefined]) await refused(send("/v1/responses", denied, ct), 403);
  // JSON the gateway cannot parse but a lax upstream could
  await refused(send("/v1/responses", '{"model":"expensive-upstream","input":"hi","temperature":NaN}', "application/json"), 400);
  await refused(send("/v1/responses", JSON.stringify({ model: ["support-bot"], input: "hi" }), "application/json"), 400);
  // a form that names a model, on a path the typed routes do not match
  const form = new FormData();
  form.set("model", "support-bot");
  form.set("file", new Blob(["RIFF"]), "a.wav");
  await refused(send("/v1/audio/Transcriptions", form), 403);
  // the typed path written another way: the model's type still counts
  const odd = await send("/v1/Chat/Completions", JSON.stringify({ model: "main/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] }), "application/json");
  expect(odd.status).toBe(200);
  const noEmbedding = await send("/v1//embeddings", JSON.stringify({ model: "chat-only", input: "x" }), "application/json");
  expect(noEmbedding.status).toBe(400);
  expect((await noEmbedding.json()).error.message).toBe("embedding is not supported for the model main/chat-only");
  // a form with an allowed model goes up with the upstream id
  seen.length = 0;
  const ok = new FormData();
  ok.set("model", "main/gpt-4o-mini");
  ok.set("purpose", "x");
  await send("/v1/some/form", ok);
  expect(seen.at(-1)!.path).toBe("/main/v1/some/form");
});

test("an upstream that reflects the request with a 200: the credential is cut out of the answer, streamed in pieces too", async () => {
  for (const query of ["", "?stream", "?binary"]) {
    const r = await fetch(g.url + "/v1/echo-headers" + query, { headers: { authorization: `Bearer ${user}`, "x-tfy-provider-name": "echo" } });
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toContain('"authorization":"Bearer <redacted>"');
    expect(text).not.toContain(SECRET);
  }
});

test("an upstream that puts the credential in a chat answer, a stream or embeddings: cut out; a reflecting response header too", async () => {
  const c = g.client(user);
  const plain = await c.chat.completions.create({ model: "reflect/m", messages: [{ role: "user", content: "hi" }] });
  expect(plain.choices[0]!.message.content).toBe("you sent Bearer <redacted>");
  const stream = await c.chat.completions.create({ model: "reflect/m", stream: true, messages: [{ role: "user", content: "hi" }] });
  let text = "";
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? "";
  expect(text).toBe("you sent Bearer <redacted>");
  const emb = await c.embeddings.create({ model: "reflect/m", input: "x", encoding_format: "float" });
  expect(emb.model).toBe("Bearer <redacted>");
  const r = await fetch(g.url + "/v1/echo-headers", { headers: { authorization: `Bearer ${user}`, "x-tfy-provider-name": "echo" } });
  expect(r.headers.get("x-echo-auth")).toBe("Bearer <redacted>");
});

test("pass-through: models named anywhere in the request are checked (nested, any case, the query, a form's JSON field, url-encoded), and what cannot be read is refused", async () => {
  const send = (path: string, body: BodyInit | null, contentType?: string) =>
    fetch(g.url + path, {
      method: "POST",
      headers: { authorization: `Bearer ${user}`, "x-tfy-provider-name": "main", ...(contentType ? { "content-type": contentType } : {}) },
      body,
    });
  const json = "application/json";
  // a realtime session's model, nested
  await refused(send("/v1/realtime/client_secrets", JSON.stringify({ session: { type: "realtime", model: "support-bot" } }), json), 403);
  seen.length = 0;
  expect((await send("/v1/realtime/client_secrets", JSON.stringify({ session: { type: "realtime", model: "rt" } }), json)).status).toBe(200);
  expect(seen.at(-1)!.body.session.model).toBe("gpt-realtime");
  // the query
  await refused(send("/v1/realtime/calls?model=support-bot", "v=0", "application/sdp"), 403);
  // any case; two that disagree
  await refused(send("/v1/responses", JSON.stringify({ MODEL: "support-bot", input: "x" }), json), 403);
  await refused(send("/v1/responses", JSON.stringify({ model: "gpt-4o-mini", Model: "support-bot", input: "x" }), json), 400);
  // url-encoded, and a form field holding JSON
  await refused(send("/v1/responses", "model=support-bot&input=x", "application/x-www-form-urlencoded"), 403);
  const form = new FormData();
  form.set("sdp", "v=0");
  form.set("session", JSON.stringify({ type: "realtime", model: "support-bot" }));
  await refused(send("/v1/realtime/calls", form), 403);
  // JSON the gateway cannot read that mentions a model in any spelling, and JSON that is not UTF-8
  await refused(send("/v1/responses", '{model: "support-bot"}', json), 400);
  await refused(send("/v1/responses", Buffer.from("\ufeff" + JSON.stringify({ model: "support-bot" }), "utf16le"), json), 400);
  // a typed path spelled with percent-encoding keeps its type
  const typed = await send("/v1/%65mbeddings", JSON.stringify({ model: "chat-only", input: "x" }), json);
  expect(typed.status).toBe(400);
  expect((await typed.json()).error.message).toBe("embedding is not supported for the model main/chat-only");
  // metadata is the client's own: a "model" in it is not a model
  expect((await send("/v1/responses", JSON.stringify({ model: "gpt-4o-mini", input: "x", metadata: { model: "anything" } }), json)).status).toBe(200);
});

test("a pass-through answer served as text with no credential in it comes back byte for byte", async () => {
  const r = await fetch(g.url + "/v1/files/file-1/content", { headers: { authorization: `Bearer ${user}`, "x-tfy-provider-name": "echo" } });
  expect(r.status).toBe(200);
  expect([...new Uint8Array(await r.arrayBuffer())]).toEqual([0xef, 0xbb, 0xbf, 0x7b, 0x7d, 0x0a, 0x63, 0x61, 0x66, 0xe9, 0x0a, 0xff, 0x00, 0xfe, 0x80]);
});
