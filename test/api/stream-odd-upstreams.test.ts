/**
 * OpenAI-compatible servers that answer oddly: one that ignores `stream` and sends one JSON completion (sent on as a
 * stream: the client gets its answer, the log its usage), one that sends an error body with a 200 (an HTTP error,
 * streamed or not), one whose stream ends without a single chunk (an HTTP error, not an empty answer), and one whose
 * answer names a provider of its own (the account's replaces it); for embeddings, an error body with a 200 and an
 * answer that is not JSON; a base URL that redirects.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";
import { fakeUpstream } from "../helpers/upstream.ts";
import { completion } from "../mocks/openai.ts";

let upstream: ReturnType<typeof fakeUpstream>;
let g: TestGateway;

beforeAll(async () => {
  upstream = fakeUpstream((req) => {
    const kind = new URL(req.url).pathname.split("/")[1];
    if (kind === "json") return Response.json(completion("Hello there, friend.", "tiny-llm", { prompt_tokens: 7, completion_tokens: 5 }));
    if (kind === "tools") {
      return Response.json({
        id: "chatcmpl-tools",
        object: "chat.completion",
        created: 1700000000,
        model: "tiny-llm",
        choices: [
          {
            index: 0,
            message: {
              role: "assistant",
              content: null,
              tool_calls: [
                { id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } },
                { id: "call_2", type: "function", function: { name: "get_time", arguments: '{"tz":"CET"}' } },
              ],
            },
            finish_reason: "tool_calls",
          },
        ],
        usage: { prompt_tokens: 30, completion_tokens: 20, total_tokens: 50 },
      });
    }
    if (kind === "error") return Response.json({ error: { message: "model is loading", type: "server_error" } });
    if (kind === "moved") return new Response("", { status: 301, headers: { location: "https://api.example.com/v1/chat/completions?sig=secret-token" } });
    if (kind === "html") return new Response("<html>gateway timeout</html>", { headers: { "content-type": "text/html" } });
    if (kind === "named") {
      // an aggregator that names the provider it routed to, in the answer itself
      return Response.json({ provider: "SomeCloud", ...completion('It said "provider": no', "tiny-llm", { prompt_tokens: 4, completion_tokens: 6 }) });
    }
    // "empty": an event stream that ends at once
    return new Response("", { headers: { "content-type": "text/event-stream" } });
  });
  const account = (name: string) => `
  - name: ${name}
    provider: openai-compatible
    base_url: http://127.0.0.1:${upstream.port}/${name}/v1
    auth: { api_key: sk-local }
    models:
      - { name: m, types: [chat, embedding] }`;
  g = await startGateway(`accounts:${account("json")}${account("error")}${account("empty")}${account("named")}${account("html")}${account("moved")}${account("tools")}\n`);
});

afterAll(async () => {
  await g.close();
  upstream.stop(true);
});

/** The SDK's error for a call that must fail with a 502 naming `account` (and saying `says`, when given). */
async function badGateway(call: Promise<unknown>, account: string, says?: string): Promise<any> {
  const err: any = await call.then(
    () => null,
    (e) => e,
  );
  expect(err?.status).toBe(502);
  expect(err.message).toContain(`account '${account}'`);
  if (says) expect(err.message).toContain(says);
  return err;
}

const chat = (model: string, stream = false) =>
  g.client(g.adminKey).chat.completions.create({ model, stream, messages: [{ role: "user", content: "hi" }] } as any);

test("a server that answers a stream request with one JSON completion: the client still gets it as a stream", async () => {
  const client = g.client(g.adminKey);
  const stream = await client.chat.completions.create({
    model: "json/m",
    stream: true,
    stream_options: { include_usage: true },
    messages: [{ role: "user", content: "hi" }],
  });
  let content = "";
  let finish: string | null = null;
  let usage: any = null;
  let chunks = 0;
  for await (const c of stream) {
    chunks++;
    expect(c.object).toBe("chat.completion.chunk");
    expect((c as any).provider).toBe("json");
    content += c.choices[0]?.delta?.content ?? "";
    finish = c.choices[0]?.finish_reason ?? finish;
    if (c.usage) usage = c.usage;
  }
  expect(chunks).toBe(3);
  expect(content).toBe("Hello there, friend.");
  expect(finish).toBe("stop");
  expect(usage).toMatchObject({ prompt_tokens: 7, completion_tokens: 5 });
  await Bun.sleep(30);
  const log = g.logs().find((l) => l.account === "json");
  expect(log).toMatchObject({ status: 200, stream: 1, prompt_tokens: 7, completion_tokens: 5 });
  expect(log.notes).toContain("one JSON completion");
});

test("an error body with a 200 to a stream request is an HTTP error naming the account", async () => {
  await badGateway(chat("error/m", true), "error", "model is loading");
});

test("a stream that ends without a single chunk is a 502, not an empty answer", async () => {
  const err = await badGateway(chat("empty/m", true), "empty");
  expect(err.code).toBe("upstream_empty_stream");
  await Bun.sleep(30);
  expect(g.logs().find((l) => l.account === "empty").status).toBe(502);
});

test("an answer that names its own provider gets the account's instead, once", async () => {
  const res = await fetch(`${g.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${g.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "named/m", messages: [{ role: "user", content: "hi" }] }),
  });
  const text = await res.text();
  expect(text.match(/"provider"\s*:/g)).toHaveLength(1);
  const body = JSON.parse(text);
  expect(body.provider).toBe("named");
  expect(body.choices[0].message.content).toBe('It said "provider": no');
  expect(body.usage.total_tokens).toBe(10);
});

test("an error body with a 200 to a plain request is an HTTP error naming the account, and logged as one", async () => {
  const err = await badGateway(chat("error/m"), "error", "model is loading");
  expect(err.type).toBe("server_error");
  await Bun.sleep(30);
  const log = g.logs().find((l) => l.account === "error" && l.stream === 0);
  expect(log.status).toBe(502);
});

test("embeddings: an error body with a 200, and an answer that is not JSON, are 502s naming the account", async () => {
  const client = g.client(g.adminKey);
  await badGateway(client.embeddings.create({ model: "error/m", input: "hi" }), "error", "model is loading");
  const html = await badGateway(client.embeddings.create({ model: "html/m", input: "hi" }), "html");
  expect(html.code).toBe("upstream_malformed_response");
  await Bun.sleep(30);
  expect(g.logs().filter((l) => l.endpoint === "embeddings").map((l) => l.status)).toEqual([502, 502]);
});

test("a base URL that redirects is a 502 saying so, where to (without the query), and naming the account", async () => {
  const err = await badGateway(chat("moved/m"), "moved", "https://api.example.com/v1/chat/completions");
  expect(err.code).toBe("upstream_redirect");
  expect(err.message).not.toContain("secret-token");
  expect(err.message).toContain("base_url");
});

test("tool calls of a JSON answer to a stream request: the SDK's stream helper assembles them", async () => {
  const runner = g.client(g.adminKey).chat.completions.stream({
    model: "tools/m",
    messages: [{ role: "user", content: "weather and time in Paris?" }],
    tools: [
      { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { city: { type: "string" } } } } },
      { type: "function", function: { name: "get_time", parameters: { type: "object", properties: { tz: { type: "string" } } } } },
    ],
  });
  const done = await runner.finalChatCompletion();
  const calls = done.choices[0]!.message.tool_calls!;
  expect(calls.map((c: any) => [c.id, c.function.name, c.function.arguments])).toEqual([
    ["call_1", "get_weather", '{"city":"Paris"}'],
    ["call_2", "get_time", '{"tz":"CET"}'],
  ]);
  expect(done.choices[0]!.finish_reason).toBe("tool_calls");
});
