/**
 * The pooled HTTP/1.1 upstream client against servers that write exact bytes (Bun.listen), so that framing,
 * keep-alive, retries and failures are what the test says they are; and against Bun.serve over TLS.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { CallSignal, fetchClient, Http1Pool, PooledReply, pooledFetch } from "../../src/providers/http1.ts";
import { upstreamFetch } from "../../src/providers/upstream.ts";
import type { CallContext } from "../../src/providers/types.ts";
import { rawServer, type Reply } from "../mocks/raw-http.ts";

const json = (body: string, extra = "") =>
  `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n${extra}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

const stops: (() => void)[] = [];
afterEach(() => {
  for (const s of stops.splice(0)) s();
});

function server(reply: Reply) {
  const s = rawServer(reply);
  stops.push(s.stop);
  return s;
}

describe("http1 pool: requests and framing", () => {
  test("sends method, path, query, headers and a UTF-8 body with its byte length; reuses the connection", async () => {
    const s = server((_req, sock) => sock.write(json('{"ok":true}', "x-request-id: req_1\r\n")));
    const f = pooledFetch(new Http1Pool());
    for (let i = 0; i < 3; i++) {
      const r = await f(`${s.url}/v1/chat/completions?api-version=2024-10-21`, {
        method: "POST",
        headers: { authorization: "Bearer sk-upstream", "content-type": "application/json" },
        body: '{"text":"héllo ✓"}',
      });
      expect(r.status).toBe(200);
      expect(r.ok).toBe(true);
      expect(await r.json()).toEqual({ ok: true });
      expect(r.headers.get("x-request-id")).toBe("req_1");
    }
    expect(s.connections).toBe(1);
    const req = s.requests[0]!;
    expect(req.startsWith("POST /v1/chat/completions?api-version=2024-10-21 HTTP/1.1\r\n")).toBe(true);
    expect(req).toContain("\r\nauthorization: Bearer sk-upstream\r\n");
    expect(req).toContain(`\r\ncontent-length: ${Buffer.byteLength('{"text":"héllo ✓"}')}\r\n`);
    expect(Buffer.from(req.slice(req.indexOf("\r\n\r\n") + 4), "latin1").toString("utf8")).toBe('{"text":"héllo ✓"}');
  });

  test("a frozen headers object's head is rendered once per endpoint and method and stays right; an unfrozen one is read every time", async () => {
    const s = server((_req, sock) => sock.write(json('{"ok":true}')));
    const f = pooledFetch(new Http1Pool());
    const frozen = Object.freeze({ authorization: "Bearer sk-a", "content-type": "application/json" });
    const heads: string[] = [];
    const headOf = () => s.requests.at(-1)!.slice(0, s.requests.at(-1)!.indexOf("\r\n\r\n"));
    for (const [path, method, body] of [["/a", "POST", "{}"], ["/a", "POST", '{"x":"ü"}'], ["/b", "POST", "{}"], ["/a", "PUT", "{}"], ["/a", "POST", "{}"]] as const) {
      await (await f(`${s.url}${path}`, { method, headers: frozen, body })).text();
      heads.push(headOf());
    }
    expect(heads[0]!.startsWith("POST /a HTTP/1.1\r\n")).toBe(true);
    expect(heads[0]).toContain("\r\nauthorization: Bearer sk-a\r\n");
    expect(heads[0]).toEndWith("\r\ncontent-length: 2");
    expect(heads[1]).toEndWith(`\r\ncontent-length: ${Buffer.byteLength('{"x":"ü"}')}`);
    expect(heads[2]!.startsWith("POST /b HTTP/1.1\r\n")).toBe(true);
    expect(heads[3]!.startsWith("PUT /a HTTP/1.1\r\n")).toBe(true);
    expect(heads[4]).toBe(heads[0]!);
    const open: Record<string, string> = { authorization: "Bearer sk-1" };
    await (await f(`${s.url}/a`, { method: "POST", headers: open, body: "{}" })).text();
    expect(headOf()).toContain("authorization: Bearer sk-1");
    open.authorization = "Bearer sk-2";
    await (await f(`${s.url}/a`, { method: "POST", headers: open, body: "{}" })).text();
    expect(headOf()).toContain("authorization: Bearer sk-2");
    expect(headOf()).not.toContain("sk-1");
  });

  test("a binary body (audio, a file) arrives byte for byte, whole or streamed; a JSON one is decoded as text", async () => {
    // bytes that are not UTF-8: decoding them as text and back would change them
    const bin = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x49, 0x44, 0x33]);
    const s = server((_req, sock) => {
      sock.write(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-type: audio/mpeg\r\ncontent-length: ${bin.length}\r\n\r\n`), bin]));
    });
    const f = pooledFetch(new Http1Pool());
    const whole = await f(`${s.url}/v1/audio/speech`, { method: "POST", body: "{}" });
    expect(whole.bufferedText?.()).toBeNull();
    expect(Buffer.from(await whole.arrayBuffer()).equals(bin)).toBe(true);
    const streamed = await f(`${s.url}/v1/audio/speech`, { method: "POST", body: "{}" });
    const parts: Uint8Array[] = [];
    const reader = streamed.body!.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    expect(Buffer.concat(parts).equals(bin)).toBe(true);
    const t = server((_req, sock) => sock.write(json('{"text":"héllo"}')));
    const text = await f(`${t.url}/v1/x`, { method: "POST", body: "{}" });
    expect(text.bufferedText?.()).toBe('{"text":"héllo"}');
  });

  test("framing headers in any case and with blanks around the value", async () => {
    const body = '{"a":1}';
    const s = server((_req, sock) => sock.write(`HTTP/1.1 200 OK\r\nCONTENT-TYPE: application/json\r\nContent-Length:   ${body.length} \r\nConnection: Keep-Alive\r\n\r\n${body}`));
    const f = pooledFetch(new Http1Pool());
    for (let i = 0; i < 2; i++) expect(await (await f(`${s.url}/x`, { method: "POST", body: "{}" })).json()).toEqual({ a: 1 });
    expect(s.connections).toBe(1);
  });

  test("chunked body (split across writes, with extensions and trailers) arrives whole and in order", async () => {
    const s = server((_req, sock) => {
      sock.write("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n");
      sock.write("5;ext=1\r\n{\"a\":\r\n");
      setTimeout(() => {
        sock.write("3\r\n123\r\n1\r\n}\r\n0\r\nx-trailer: t\r\n\r\n");
      }, 5);
    });
    const f = pooledFetch(new Http1Pool());
    const r1 = await f(`${s.url}/x`, { method: "POST", body: "{}" });
    expect(await r1.text()).toBe('{"a":123}');
    // the connection is reusable after a chunked answer
    const r2 = await f(`${s.url}/x`, { method: "POST", body: "{}" });
    expect(await r2.json()).toEqual({ a: 123 });
    expect(s.connections).toBe(1);
  });

  test("a streamed (chunked) body is readable event by event before the answer ends", async () => {
    let sock: any;
    const s = server((_req, so) => {
      sock = so;
      so.write("HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n");
      so.write("d\r\ndata: first\n\n\r\n");
    });
    const f = pooledFetch(new Http1Pool());
    const r = await f(`${s.url}/s`, { method: "POST", body: "{}" });
    const reader = r.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("data: first\n\n");
    sock.write("e\r\ndata: second\n\n\r\n0\r\n\r\n");
    const second = await reader.read();
    expect(new TextDecoder().decode(second.value)).toBe("data: second\n\n");
    expect((await reader.read()).done).toBe(true);
  });

  test("1xx answers are skipped; 204 has no body; connection: close and read-to-close bodies work", async () => {
    const s = server((req, sock, n) => {
      if (n === 1) sock.write("HTTP/1.1 100 Continue\r\n\r\n" + json('{"n":1}'));
      else if (n === 2) sock.write("HTTP/1.1 204 No Content\r\n\r\n");
      else if (n === 3) {
        sock.write("HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\nuntil ");
        setTimeout(() => sock.end("close"), 5);
      } else sock.write(json(JSON.stringify({ n, path: req.split(" ")[1] })));
    });
    const pool = new Http1Pool();
    const f = pooledFetch(pool);
    expect(await (await f(`${s.url}/a`, { method: "POST", body: "{}" })).json()).toEqual({ n: 1 });
    const r204 = await f(`${s.url}/b`, { method: "DELETE" });
    expect(r204.status).toBe(204);
    expect(r204.body).toBeNull();
    expect(await r204.text()).toBe("");
    expect(await (await f(`${s.url}/c`, { method: "GET" })).text()).toBe("until close");
    // the read-to-close connection is not reused: the next request opens a new one
    expect(await (await f(`${s.url}/d`, { method: "GET" })).json()).toEqual({ n: 4, path: "/d" });
    expect(s.connections).toBe(2);
  });

  test("error statuses are answers, not failures", async () => {
    const body = '{"error":{"message":"slow"}}';
    const s = server((_req, sock) =>
      sock.write(`HTTP/1.1 429 Too Many Requests\r\nretry-after: 7\r\ncontent-length: ${body.length}\r\n\r\n${body}`),
    );
    const r = await pooledFetch(new Http1Pool())(`${s.url}/x`, { method: "POST", body: "{}" });
    expect(r.status).toBe(429);
    expect(r.ok).toBe(false);
    expect(r.headers.get("retry-after")).toBe("7");
    expect(await r.json()).toEqual({ error: { message: "slow" } });
  });

  test("gzip bodies are decoded, whole and streamed", async () => {
    const gz = gzipSync(Buffer.from('{"compressed":true}'));
    const s = server((_req, sock, n) => {
      if (n === 1) {
        sock.write(`HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ncontent-length: ${gz.length}\r\n\r\n`);
        sock.write(gz);
      } else {
        sock.write(`HTTP/1.1 200 OK\r\ncontent-encoding: gzip\r\ntransfer-encoding: chunked\r\n\r\n${gz.length.toString(16)}\r\n`);
        sock.write(gz);
        sock.write("\r\n0\r\n\r\n");
      }
    });
    const f = pooledFetch(new Http1Pool());
    expect(await (await f(`${s.url}/x`, { method: "POST", body: "{}" })).json()).toEqual({ compressed: true });
    const r = await f(`${s.url}/x`, { method: "POST", body: "{}" });
    expect(await new Response(r.body).json()).toEqual({ compressed: true });
  });

  test("a large request body is written whole (partial writes continue on drain)", async () => {
    let got = 0;
    const s = server((req, sock) => {
      got = req.length - req.indexOf("\r\n\r\n") - 4;
      sock.write(json('{"ok":1}'));
    });
    const body = JSON.stringify({ data: "x".repeat(8 * 1024 * 1024) });
    const r = await pooledFetch(new Http1Pool())(`${s.url}/big`, { method: "POST", body });
    expect(await r.json()).toEqual({ ok: 1 });
    expect(got).toBe(body.length);
  });

  test("an answer that comes before the whole body was written retires the connection", async () => {
    let conns = 0;
    const srv = Bun.listen<{ n: number; buf: string; answered: boolean }>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(s) {
          s.data = { n: ++conns, buf: "", answered: false };
        },
        data(s, d) {
          if (s.data.n === 1) {
            // answers at once, keeps the connection, ignores the rest of the body
            if (!s.data.answered) s.write(`HTTP/1.1 413 Payload Too Large\r\ncontent-length: 2\r\n\r\n{}`);
            s.data.answered = true;
            return;
          }
          s.data.buf += d.toString("latin1");
          if (s.data.buf.endsWith("}")) s.write(json('{"second":true}'));
        },
      },
    });
    stops.push(() => srv.stop(true));
    const f = pooledFetch(new Http1Pool());
    const big = JSON.stringify({ data: "x".repeat(4 * 1024 * 1024) });
    const r1 = await f(`http://127.0.0.1:${srv.port}/x`, { method: "POST", body: big });
    expect(r1.status).toBe(413);
    const r2 = await f(`http://127.0.0.1:${srv.port}/x`, { method: "POST", body: "{}" });
    expect(await r2.json()).toEqual({ second: true });
    expect(conns).toBe(2);
  });

  test("header values with CR or LF are refused (no header injection)", async () => {
    const s = server((_req, sock) => sock.write(json("{}")));
    const f = pooledFetch(new Http1Pool());
    await expect(f(`${s.url}/x`, { method: "POST", headers: { "x-a": "v\r\nx-injected: 1" }, body: "{}" })).rejects.toThrow(/Invalid value/);
    expect(s.requests.length).toBe(0);
  });
});

describe("http1 pool: failures", () => {
  test("connection refused is a network error with its code", async () => {
    const err: any = await pooledFetch(new Http1Pool())("http://127.0.0.1:1/x", { method: "POST", body: "{}" }).catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(err.code).toBe("ECONNREFUSED");
  });

  test("a reused connection the server closed is retried once on a new one", async () => {
    const s = server((_req, sock, n) => {
      if (n === 2) sock.end(); // drops the second request without an answer, as a server closing an idle connection would
      else sock.write(json(JSON.stringify({ n })));
    });
    const f = pooledFetch(new Http1Pool());
    expect(await (await f(`${s.url}/x`, { method: "POST", body: "{}" })).json()).toEqual({ n: 1 });
    expect(await (await f(`${s.url}/x`, { method: "POST", body: "{}" })).json()).toEqual({ n: 3 });
    expect(s.connections).toBe(2);
  });

  test("a fresh connection closed before the answer fails (no retry); mid-body close fails the body", async () => {
    const s = server((_req, sock, n) => {
      if (n === 1) sock.end();
      else {
        sock.write("HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"partial\":");
        setTimeout(() => sock.end(), 5);
      }
    });
    const f = pooledFetch(new Http1Pool());
    const e1: any = await f(`${s.url}/x`, { method: "POST", body: "{}" }).catch((e) => e);
    expect(e1.code).toBe("ECONNRESET");
    expect(s.requests.length).toBe(1);
    const e2: any = await f(`${s.url}/x`, { method: "POST", body: "{}" })
      .then((r) => r.text())
      .catch((e) => e);
    expect(e2.code).toBe("ECONNRESET");
  });

  test("abort before the answer rejects with the signal's reason and closes the connection", async () => {
    const s = server(() => {}); // never answers
    const pool = new Http1Pool();
    const ctrl = new AbortController();
    const p = pooledFetch(pool)(`${s.url}/x`, { method: "POST", body: "{}", signal: ctrl.signal });
    setTimeout(() => ctrl.abort(new DOMException("upstream timeout", "TimeoutError")), 20);
    const err: any = await p.catch((e) => e);
    expect(err.name).toBe("TimeoutError");
    expect(pool.idleCount()).toBe(0);
  });

  test("a CallSignal aborts the pool's call; fetchClient hands fetch a real AbortSignal that follows it (timeout → 504)", async () => {
    const s = server(() => {}); // never answers
    for (const f of [pooledFetch(new Http1Pool()), fetchClient(fetch)]) {
      const signal = new CallSignal();
      const ctx = { target: { account: { name: "slow" } }, signal, fetch: f, notes: [], requestId: "t" } as unknown as CallContext;
      const p = upstreamFetch(ctx, `${s.url}/x`, { method: "POST", body: "{}" });
      setTimeout(() => signal.abort(new DOMException("upstream timeout", "TimeoutError")), 20);
      const err: any = await p.catch((e) => e);
      expect(err.status).toBe(504);
      expect(err.message).toContain("'slow' timed out");
    }
    const late = new CallSignal();
    late.abort(new DOMException("gone", "AbortError"));
    expect(late.signal.aborted).toBe(true);
    expect(late.signal.reason.name).toBe("AbortError");
  });

  test("abort during a streamed body errors the stream", async () => {
    const s = server((_req, sock) => sock.write("HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n"));
    const ctrl = new AbortController();
    const r = await pooledFetch(new Http1Pool())(`${s.url}/x`, { method: "POST", body: "{}", signal: ctrl.signal });
    const reader = r.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("hello");
    ctrl.abort(new DOMException("client went away", "AbortError"));
    const err: any = await reader.read().catch((e) => e);
    expect(err.name).toBe("AbortError");
  });

  test("garbage instead of HTTP fails clearly", async () => {
    const s = server((_req, sock) => sock.write("SSH-2.0-OpenSSH_9.6\r\n\r\n"));
    const err: any = await pooledFetch(new Http1Pool())(`${s.url}/x`, { method: "POST", body: "{}" }).catch((e) => e);
    expect(err.code).toBe("HPE_INVALID_CONSTANT");
  });

  test("what the pool does not handle goes to the fallback", async () => {
    const seen: string[] = [];
    const fallback = (async (url: string) => {
      seen.push(url);
      return new Response("from fallback");
    }) as unknown as typeof fetch;
    const f = pooledFetch(new Http1Pool(), fallback);
    const form = new FormData();
    form.set("purpose", "batch");
    expect(await (await f("http://127.0.0.1:1/files", { method: "POST", body: form })).text()).toBe("from fallback");
    expect(await (await f("data:text/plain,hi", { method: "GET" })).text()).toBe("from fallback");
    expect(await (await f("http://user:pass@127.0.0.1:1/x", { method: "POST", body: "{}" })).text()).toBe("from fallback");
    expect(seen).toEqual(["http://127.0.0.1:1/files", "data:text/plain,hi", "http://user:pass@127.0.0.1:1/x"]);
  });
});

describe("http1 pool: TLS", () => {
  const cert = Bun.file(new URL("../fixtures/tls/localhost-cert.pem", import.meta.url));
  const key = Bun.file(new URL("../fixtures/tls/localhost-key.pem", import.meta.url));

  async function tlsServer(hostname = "127.0.0.1") {
    const srv = Bun.serve({
      port: 0,
      hostname,
      tls: { cert: await cert.text(), key: await key.text() },
      fetch: async (req) => Response.json({ path: new URL(req.url).pathname, body: await req.text() }),
    });
    stops.push(() => srv.stop(true));
    return srv.port;
  }

  test("an untrusted certificate is refused", async () => {
    const port = await tlsServer();
    const err: any = await pooledFetch(new Http1Pool())(`https://localhost:${port}/v1/x`, { method: "POST", body: "{}" }).catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(String(err.code)).toMatch(/SELF_SIGNED|CERT/);
  });

  test("a trusted certificate works, the name is checked, connections are reused", async () => {
    const port = await tlsServer();
    const pool = new Http1Pool({ tls: { ca: await cert.text() } });
    const f = pooledFetch(pool);
    for (let i = 0; i < 2; i++) {
      const r = await f(`https://localhost:${port}/v1/x`, { method: "POST", body: '{"i":1}' });
      expect(await r.json()).toEqual({ path: "/v1/x", body: '{"i":1}' });
    }
    expect(pool.idleCount()).toBe(1);
    // the certificate names localhost and 127.0.0.1, not this name
    const other = await tlsServer("127.0.0.2");
    const err: any = await pooledFetch(new Http1Pool({ tls: { ca: await cert.text() } }))(`https://127.0.0.2:${other}/v1/x`, {
      method: "POST",
      body: "{}",
    }).catch((e) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect(String(err.code)).toBe("ERR_TLS_CERT_ALTNAME_INVALID");
  });
});

describe("http1 pool: a streamed answer's back-pressure", () => {
  test("reading pauses once 64 KB wait unread, counted in bytes whatever the size of the reads, and resumes as they are read", async () => {
    const calls: string[] = [];
    const conn = { socket: { pause: () => calls.push("pause"), resume: () => calls.push("resume") }, closed: false };
    const reply = new PooledReply(200, "content-type: text/event-stream", null, true, conn as any);
    const reader = reply.body!.getReader();
    // a single socket read of 100 KB is more than the queue holds: paused at once (not after 8 reads)
    reply.push(new Uint8Array(100 * 1024));
    expect(calls).toEqual(["pause"]);
    expect(reply.paused).toBe(true);
    // small reads while paused (what was in flight) are queued, not lost
    reply.push(new Uint8Array(10));
    expect(calls).toEqual(["pause"]);
    // the consumer reads: under the mark again, reading resumes
    expect((await reader.read()).value!.length).toBe(100 * 1024);
    await Bun.sleep(0);
    expect(calls).toEqual(["pause", "resume"]);
    expect(reply.paused).toBe(false);
    // 8 small reads are far under 64 KB: no pause
    for (let i = 0; i < 8; i++) reply.push(new Uint8Array(1024));
    expect(calls).toEqual(["pause", "resume"]);
    reply.end();
    let rest = 0;
    for (let r = await reader.read(); !r.done; r = await reader.read()) rest += r.value.length;
    expect(rest).toBe(10 + 8 * 1024);
  });
});
