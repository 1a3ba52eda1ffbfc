import { afterAll, expect, test } from "bun:test";
import { loadRaw } from "../../bench/loadgen.ts";

// answers as a proxy might: whole bodies with Content-Length, chunked streams, errors; counts what it received
let received = 0;
const bodies: string[] = [];
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    received++;
    const body = await req.text();
    if (bodies.length < 3) bodies.push(body);
    const path = new URL(req.url).pathname;
    if (path === "/chunked") {
      return new Response(
        new ReadableStream({
          async start(c) {
            c.enqueue(new TextEncoder().encode("data: one\n\n"));
            await Bun.sleep(1);
            c.enqueue(new TextEncoder().encode("data: two\n\n"));
            c.close();
          },
        }),
      );
    }
    if (path === "/error") return Response.json({ error: "no" }, { status: 429 });
    return Response.json({ echo: body.length, pad: "x".repeat(5000) });
  },
});
afterAll(() => server.stop(true));
const url = (p: string) => `http://127.0.0.1:${server.port}${p}`;

test("the raw load generator counts each whole answer once, over keep-alive connections", async () => {
  received = 0;
  const run = await loadRaw(url("/v1/chat/completions"), { "content-type": "application/json" }, 4, 0.3, '{"model":"m"}');
  expect(run.errors).toBe(0);
  expect(run.lat.length).toBeGreaterThan(20);
  // every request the server saw was answered and counted (an answer split over reads is counted once)
  expect(run.lat.length).toBe(received);
  expect(bodies[0]).toBe('{"model":"m"}');
  expect(run.lat.every((ms) => ms > 0)).toBe(true);
});

test("chunked answers are read to their end; answers other than 200 are errors", async () => {
  received = 0;
  const chunked = await loadRaw(url("/chunked"), {}, 2, 0.2, "{}");
  expect(chunked.errors).toBe(0);
  expect(chunked.lat.length).toBe(received);
  expect(chunked.lat.length).toBeGreaterThan(5);

  const failing = await loadRaw(url("/error"), {}, 2, 0.2, "{}");
  expect(failing.lat.length).toBeGreaterThan(5);
  expect(failing.errors).toBe(failing.lat.length);
});

test("a target that refuses connections gives errors, not a hang", async () => {
  const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
  const port = closed.port;
  closed.stop(true);
  const run = await loadRaw(`http://127.0.0.1:${port}/`, {}, 3, 0.1, "{}");
  expect(run.lat.length).toBe(0);
  expect(run.errors).toBeGreaterThanOrEqual(3);
});
