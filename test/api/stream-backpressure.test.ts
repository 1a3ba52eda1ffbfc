/**
 * A stream is pulled, not buffered: while its client does not read, the gateway stops reading the upstream (a slow
 * client must not make the gateway hold the answer in memory); once the client reads again, every event arrives, in
 * order, and the usage is logged. The client here is a raw socket that it can pause (fetch would read ahead into its
 * own buffer).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";
import { fakeUpstream } from "../helpers/upstream.ts";
import { sseData } from "../helpers/sse.ts";

/** ~8 KB of content per event, 48 MB in all: several times what the sockets' buffers on both sides hold */
const EVENTS = 6_000;
const CONTENT = "x".repeat(8_000);

let written = 0;
/** the slow upstream's stream was cancelled (its connection to the gateway closed) */
let slowCancelled = false;
let slowSent = 0;
let upstream: ReturnType<typeof fakeUpstream>;
let g: TestGateway;

beforeAll(async () => {
  const enc = new TextEncoder();
  const base = { id: "chatcmpl-bp", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini" };
  upstream = fakeUpstream((req) => {
    if (new URL(req.url).pathname.endsWith("/slow/chat/completions")) return slowStream(enc, base);
    written = 0;
    // one event per pull: the server pulls again only when its connection has taken the last one
    return new Response(
      new ReadableStream<Uint8Array>(
        {
          pull(c) {
            if (written < EVENTS) {
              const delta = { content: `${written}:${CONTENT}` };
              c.enqueue(enc.encode(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: null }] })}\n\n`));
              written++;
            } else {
              const usage = { prompt_tokens: 3, completion_tokens: EVENTS, total_tokens: EVENTS + 3 };
              c.enqueue(enc.encode(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\ndata: [DONE]\n\n`));
              c.close();
            }
          },
        },
        { highWaterMark: 0 },
      ),
      { headers: { "content-type": "text/event-stream" } },
    );
  });
  const account = (name: string, path: string, model: string) => `
  - name: ${name}
    provider: openai-compatible
    base_url: http://127.0.0.1:${upstream.port}${path}
    auth: { api_key: sk-local }
    models:
      - { name: ${model}, types: [chat] }`;
  g = await startGateway(`accounts:${account("local", "/v1", "big")}${account("slow", "/slow", "m")}\n`);
});

/** an event every 20 ms, 500 of them: the client leaves long before the end */
function slowStream(enc: TextEncoder, base: object): Response {
  slowCancelled = false;
  slowSent = 0;
  let timer: ReturnType<typeof setInterval>;
  return new Response(
    new ReadableStream<Uint8Array>({
      start(c) {
        timer = setInterval(() => {
          if (slowSent++ >= 500) return clearInterval(timer), c.close();
          c.enqueue(enc.encode(`data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta: { content: `t${slowSent} ` }, finish_reason: null }] })}\n\n`));
        }, 20);
      },
      cancel() {
        clearInterval(timer);
        slowCancelled = true;
      },
    }),
    { headers: { "content-type": "text/event-stream" } },
  );
}

afterAll(async () => {
  await g.close();
  upstream.stop(true);
});

/** The SSE data lines of a raw chunked HTTP/1.1 response (its chunk framing taken off first). */
function chunkedSseData(raw: Buffer): string[] {
  const head = raw.indexOf("\r\n\r\n");
  expect(raw.toString("latin1", 0, head)).toContain("HTTP/1.1 200");
  const body: Buffer[] = [];
  let at = head + 4;
  for (;;) {
    const eol = raw.indexOf("\r\n", at);
    const size = parseInt(raw.toString("latin1", at, eol), 16);
    if (size === 0) break;
    body.push(raw.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
  return sseData(Buffer.concat(body).toString("utf8"));
}

test("a client that stops reading holds the upstream back; when it reads again, every event arrives in order", async () => {
  const body = JSON.stringify({ model: "local/big", stream: true, messages: [{ role: "user", content: "go" }] });
  const parts: Buffer[] = [];
  let whileStalled = -1;
  let laterStill = -1;
  await new Promise<void>((resolve, reject) => {
    Bun.connect({
      hostname: "127.0.0.1",
      port: Number(new URL(g.url).port),
      socket: {
        open(s) {
          s.write(
            `POST /v1/chat/completions HTTP/1.1\r\nhost: gateway\r\nauthorization: Bearer ${g.adminKey}\r\n` +
              `content-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
          );
        },
        data(s, d) {
          parts.push(Buffer.from(d));
          if (parts.length === 1) {
            // the first bytes are in: the client reads nothing more for a while
            s.pause();
            setTimeout(() => {
              whileStalled = written;
              setTimeout(() => {
                laterStill = written;
                s.resume();
              }, 200);
            }, 500);
          }
          const tail = Buffer.concat(parts.slice(-2)).toString("latin1");
          if (tail.endsWith("0\r\n\r\n")) s.end();
        },
        close: () => resolve(),
        error: (_s, e) => reject(e),
        connectError: (_s, e) => reject(e),
      },
    });
  });

  // held back: the upstream wrote what the sockets' buffers take, not the stream, and made no progress while paused
  expect(whileStalled).toBeGreaterThan(0);
  expect(whileStalled).toBeLessThan(EVENTS / 2);
  expect(laterStill - whileStalled).toBeLessThan(EVENTS / 50);

  // then everything: nothing lost, nothing out of order, the usage chunk hidden (not asked for)
  const data = chunkedSseData(Buffer.concat(parts));
  expect(data.at(-1)).toBe("[DONE]");
  const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
  expect(chunks).toHaveLength(EVENTS);
  chunks.forEach((c, i) => {
    if (c.provider !== "local" || c.choices[0].delta.content !== `${i}:${CONTENT}`) throw new Error(`chunk ${i} is not the upstream's ${i}th`);
  });
  expect(written).toBe(EVENTS);

  await Bun.sleep(50);
  const log = g.logs().find((l) => l.model === "big");
  expect(log.status).toBe(200);
  expect(log.completion_tokens).toBe(EVENTS);
}, 20_000);

test("a client that leaves mid-stream closes the upstream call, and the request is logged as 499", async () => {
  const client = g.client(g.adminKey);
  const stream = await client.chat.completions.create({ model: "slow/m", stream: true, messages: [{ role: "user", content: "go" }] });
  let got = "";
  for await (const c of stream) {
    got += c.choices[0]?.delta?.content ?? "";
    if (got.split(" ").length > 3) break; // leaving the loop aborts the request
  }
  expect(got.startsWith("t1 t2 t3")).toBe(true);
  const left = slowSent;
  for (let i = 0; i < 50 && !slowCancelled; i++) await Bun.sleep(20);
  expect(slowCancelled).toBe(true);
  expect(slowSent - left).toBeLessThan(30);
  await Bun.sleep(50);
  const log = g.logs().find((l) => l.account === "slow");
  expect(log.status).toBe(499);
  expect(log.stream).toBe(1);
});
