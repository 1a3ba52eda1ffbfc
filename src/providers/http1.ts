/**
 * The gateway's upstream HTTP/1.1 client: keep-alive connections pooled per origin on `Bun.connect` (TCP or TLS),
 * one request in flight per connection, answers parsed in place.
 *
 * Why not `fetch`: on loopback, a Bun proxy whose upstream calls go through this pool spends ~10 µs less CPU per
 * request than the same proxy on `fetch` (docs/benchmarks.md), and an answer the gateway reads whole (a
 * non-streaming completion, embeddings) needs no `Response`, `Headers` or body stream: it is handed over as bytes.
 *
 * It answers only what it fully supports: `http:`/`https:` URLs, a string or byte body, no HTTP(S)_PROXY in the
 * environment. Anything else goes to `fetch` (see `pooledFetch`). Framing: content-length, chunked, or read to
 * close; 1xx answers are skipped; gzip and deflate bodies are decoded. TLS verifies the certificate and the host
 * name (honours NODE_EXTRA_CA_CERTS and NODE_TLS_REJECT_UNAUTHORIZED, like `fetch`). A request that fails on a
 * reused connection before any byte of its answer arrived (the server closed an idle connection as we wrote) is
 * sent once more on a new connection.
 */

/** What the adapters read from an upstream answer; a `Response` has all of it. */
export interface UpstreamReply {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
  json(): Promise<any>;
  arrayBuffer(): Promise<ArrayBuffer>;
  /** the pooled client's: the whole body as text when it has been read already, else null */
  bufferedText?(): string | null;
  /** the pooled client's: whether a header is one the client gets too (x-ratelimit-*; told as the head is parsed,
   *  so that the common answer with none costs nothing) */
  readonly passesOn?: boolean;
}

/** `init.signal` may be a CallSignal (see `fetchClient` for Bun's fetch). */
export type UpstreamFetch = (url: string, init: RequestInit) => Promise<UpstreamReply>;

/** A listener: a function, or an object with `handleEvent` (as EventTarget takes; no closure needed). */
type AbortListener = (() => void) | { handleEvent(): void };

/** What the pool needs of a signal: an AbortSignal, or the cheaper CallSignal. */
type AbortLike = Pick<AbortSignal, "aborted" | "reason"> & {
  addEventListener(type: "abort", fn: AbortListener, opts?: { once?: boolean }): void;
  removeEventListener(type: "abort", fn: AbortListener): void;
};

/**
 * A call's cancellation, cheaper than an AbortController per request (which, with its listener, cost ~4 µs of CPU
 * per call in-process): listeners in a plain array, an AbortSignal made only when something asks for one (`fetch`).
 */
export class CallSignal {
  aborted = false;
  reason: unknown = undefined;
  /** the listeners: none, one (the common case: the upstream call's), or several */
  #listeners: AbortListener | AbortListener[] | null = null;
  #ctrl: AbortController | null = null;

  /** A real AbortSignal that follows this one (for fetch and other Web APIs). */
  get signal(): AbortSignal {
    if (this.#ctrl === null) {
      this.#ctrl = new AbortController();
      if (this.aborted) this.#ctrl.abort(this.reason);
    }
    return this.#ctrl.signal;
  }

  addEventListener(_type: "abort", fn: AbortListener) {
    const l = this.#listeners;
    if (l === null) this.#listeners = fn;
    else if (!Array.isArray(l)) this.#listeners = [l, fn];
    else l.push(fn);
  }

  removeEventListener(_type: "abort", fn: AbortListener) {
    const l = this.#listeners;
    if (l === fn) this.#listeners = null;
    else if (Array.isArray(l)) {
      const i = l.indexOf(fn);
      if (i >= 0) l.splice(i, 1);
    }
  }

  abort(reason: unknown) {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    const l = this.#listeners;
    this.#listeners = null;
    if (Array.isArray(l)) for (const fn of l) call(fn);
    else if (l !== null) call(l);
    this.#ctrl?.abort(reason);
  }
}

const call = (l: AbortListener) => (typeof l === "function" ? l() : l.handleEvent());

/** A `fetch` as an UpstreamFetch: a CallSignal in `init.signal` is swapped for its AbortSignal. */
export function fetchClient(f: typeof fetch = fetch): UpstreamFetch {
  return (url, init) => {
    const s = init.signal as unknown;
    return f(url, s instanceof CallSignal ? { ...init, signal: s.signal } : init);
  };
}

/** Answers with a known length up to this size are read whole before the reply is handed over. */
const BUFFER_LIMIT = 1024 * 1024;
/** Idle connections kept per origin; more are closed when they come back. */
const MAX_IDLE = 256;
/** How long an idle connection is kept when the server does not say (`keep-alive: timeout=N`). */
const DEFAULT_IDLE_S = 15;
const CRLF2 = Buffer.from("\r\n\r\n");

export interface Http1PoolOptions {
  /** extra TLS options (e.g. `ca` in tests); verification stays on */
  tls?: { ca?: string | string[] };
  userAgent?: string;
}

type Framing = 0 /* none */ | 1 /* length */ | 2 /* chunked */ | 3 /* until close */;

class Conn {
  socket: any = null;
  /** bytes received and not yet consumed */
  buf: Buffer | null = null;
  exchange: Exchange | null = null;
  reused = false;
  closed = false;
  /** unsent request bytes waiting for `drain` */
  pending: Buffer | null = null;
  constructor(readonly pool: OriginPool) {}
}

export interface Endpoint {
  pool: OriginPool;
  /** path and query */
  target: string;
  /** host[:port] for the Host header */
  host: string;
  /** request heads without their framing, per frozen headers object (see headPrefix) */
  heads?: WeakMap<object, { method: string; userAgent: string; head: HeadState }>;
}

interface OriginPool {
  hostname: string;
  port: number;
  tls: boolean;
  idle: Conn[];
}

/** One request/answer on a connection. */
class Exchange {
  head = true;
  framing: Framing = 0;
  remaining = 0;
  /** chunked decoding: 0 size line, 1 data, 2 CRLF after data, 3 trailers */
  chunkState = 0;
  gotBytes = false;
  reply: PooledReply | null = null;
  keepAlive = true;
  keepAliveS = DEFAULT_IDLE_S;
  settled = false;
  /** the answer's content type is text (JSON, text/*): a whole body may be decoded as UTF-8 straight away */
  textual = false;
  /** registered on `signal` (the exchange itself is the listener: `handleEvent`) */
  listening = false;
  /** the connection carrying it (a retry moves it to a new one) */
  conn: Conn | null = null;
  retried = false;
  /** chunk data of the current read, as [start, end) offsets into spanBuf, handed over in one piece */
  spans: number[] | null = null;
  spanBuf: Buffer | null = null;
  constructor(
    readonly pool: OriginPool,
    readonly method: string,
    /** the whole request, head and body, and its size in bytes; let go once the answer begins (no retry then) */
    public wire: string | Buffer | null,
    readonly size: number,
    readonly resolve: (r: PooledReply) => void,
    readonly reject: (e: unknown) => void,
    readonly signal: AbortLike | null | undefined,
    readonly client: Http1Pool,
  ) {}

  /** the signal aborted: the call fails with its reason and the connection is closed */
  handleEvent() {
    this.client.abortExchange(this);
  }
}

export class PooledReply implements UpstreamReply {
  readonly ok: boolean;
  passesOn = false;
  #headers: Headers | null = null;
  #chunks: Uint8Array[] | null = null;
  /** a whole body already decoded (the common case of a small JSON answer) */
  #text: string | null = null;
  #paused = false;
  #done = false;
  #error: unknown = null;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  #stream: ReadableStream<Uint8Array> | null = null;
  #waiters: { resolve: () => void; reject: (e: unknown) => void }[] | null = null;
  #conn: Conn | null;

  constructor(
    readonly status: number,
    /** the header lines, parsed into `headers` when first asked for */
    private readonly rawHeaders: string,
    readonly encoding: string | null,
    readonly hasBody: boolean,
    conn: Conn,
  ) {
    this.ok = status >= 200 && status < 300;
    this.#conn = conn;
    if (!hasBody) this.#done = true;
  }

  get headers(): Headers {
    if (this.#headers === null) {
      const h = new Headers();
      for (const line of this.rawHeaders.split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon > 0) h.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      this.#headers = h;
    }
    return this.#headers;
  }

  get body(): ReadableStream<Uint8Array> | null {
    if (!this.hasBody) return null;
    if (this.#stream === null) {
      if (this.#text !== null) {
        this.#chunks = [Buffer.from(this.#text)];
        this.#text = null;
      }
      let raw = new ReadableStream<Uint8Array>(
        {
          start: (c) => {
            this.#controller = c;
            if (this.#chunks !== null) for (const chunk of this.#chunks) c.enqueue(chunk);
            this.#chunks = null;
            if (this.#error !== null) c.error(this.#error);
            else if (this.#done) c.close();
          },
          pull: () => {
            if (!this.#paused) return;
            this.#paused = false;
            const s = this.#conn?.socket;
            if (s && !this.#done) s.resume();
          },
          cancel: () => {
            this.#controller = null;
            const conn = this.#conn;
            if (conn && !this.#done) destroy(conn);
          },
        },
        // counted in bytes, not chunks: one socket read can bring hundreds of KB, and 8 of them let a stream that
        // its client does not read run ahead by megabytes before the connection was paused
        new ByteLengthQueuingStrategy({ highWaterMark: BODY_QUEUE_BYTES }),
      );
      const fmt = decodingFormat(this.encoding);
      if (fmt) raw = raw.pipeThrough(new DecompressionStream(fmt) as unknown as TransformStream<Uint8Array, Uint8Array>);
      this.#stream = raw;
    }
    return this.#stream;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  text(): Promise<string> {
    if (this.#text !== null && this.#stream === null) return Promise.resolve(this.#text);
    return this.#bytes().then(utf8);
  }

  /** The whole body as text when it is here already (a JSON answer read whole), else null: no promise to wait for. */
  bufferedText(): string | null {
    return this.#stream === null ? this.#text : null;
  }

  async json(): Promise<any> {
    return JSON.parse(await this.text());
  }

  async #bytes(): Promise<Buffer> {
    if (this.#text !== null && this.#stream === null) return Buffer.from(this.#text);
    if (this.#stream !== null) {
      const parts: Uint8Array[] = [];
      const reader = this.#stream.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
      return Buffer.concat(parts);
    }
    if (!this.#done) await new Promise<void>((resolve, reject) => (this.#waiters ??= []).push({ resolve, reject }));
    if (this.#error !== null) throw this.#error;
    const parts = this.#chunks ?? [];
    this.#chunks = null;
    const all = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    const fmt = decodingFormat(this.encoding);
    if (fmt !== null) {
      // node:zlib is loaded only once an upstream compresses
      const zlib = await import("node:zlib");
      return fmt === "gzip" ? zlib.gunzipSync(all) : zlib.inflateSync(all);
    }
    return all;
  }

  /** @internal reading from the connection was paused for this reply's consumer */
  get paused(): boolean {
    return this.#paused;
  }

  /** @internal nothing received yet */
  isEmpty(): boolean {
    return this.#chunks === null && this.#text === null && this.#stream === null;
  }

  /** @internal the whole body, decoded */
  setText(text: string) {
    this.#text = text;
  }

  /** @internal body bytes from the connection (owned by the reply) */
  push(chunk: Uint8Array) {
    if (this.#done) return;
    const c = this.#controller;
    if (c !== null) {
      c.enqueue(chunk);
      // back-pressure: stop reading the upstream until the consumer catches up
      if (!this.#paused && (c.desiredSize ?? 1) <= 0) {
        this.#paused = true;
        this.#conn?.socket?.pause();
      }
    } else if (this.#stream === null) (this.#chunks ??= []).push(chunk);
  }

  /** @internal the answer is complete */
  end() {
    this.#done = true;
    this.#conn = null;
    if (this.#controller !== null) this.#controller.close();
    if (this.#waiters !== null) for (const w of this.#waiters) w.resolve();
    this.#waiters = null;
  }

  /** @internal the connection failed mid-answer */
  fail(err: unknown) {
    if (this.#done) return;
    this.#done = true;
    this.#error = err;
    this.#conn = null;
    if (this.#controller !== null) this.#controller.error(err);
    if (this.#waiters !== null) for (const w of this.#waiters) w.reject(err);
    this.#waiters = null;
  }
}

const utf8 = (b: Buffer) => b.toString("utf8");

/**
 * A content type whose whole body is decoded as it arrives: JSON (application/json, …+json), which the gateway reads
 * as text. Anything else stays bytes until asked for, so that what is passed on is what came (a text/plain file
 * download with a BOM or bytes that are not UTF-8 would not survive a decode and re-encode).
 */
const TEXTUAL = /json/i;

/** How much of a streamed answer may wait unread before reading from the upstream pauses. */
const BODY_QUEUE_BYTES = 64 * 1024;

function decodingFormat(encoding: string | null): "gzip" | "deflate" | null {
  if (encoding === null) return null;
  const e = encoding.trim().toLowerCase();
  if (e === "gzip" || e === "x-gzip") return "gzip";
  if (e === "deflate") return "deflate";
  return null;
}

function destroy(conn: Conn) {
  if (conn.closed) return;
  conn.closed = true;
  try {
    conn.socket?.terminate();
  } catch {}
}

/** The error `fetch` would throw for a network failure: a TypeError carrying the system code. */
function networkError(code: string, message: string): Error {
  const e = new TypeError(`${code}: ${message}`) as TypeError & { code: string };
  e.code = code;
  return e;
}

export class Http1Pool {
  readonly #pools = new Map<string, OriginPool>();
  readonly #tls: { ca?: string | string[] } | undefined;
  readonly #userAgent: string;
  readonly #handlers;

  constructor(opts: Http1PoolOptions = {}) {
    this.#tls = opts.tls;
    this.#userAgent = opts.userAgent ?? "switchboard";
    this.#handlers = {
      open: (socket: any) => {
        const conn = socket.data as Conn;
        conn.socket = socket;
      },
      data: (socket: any, data: Buffer) => this.#onData(socket.data as Conn, data),
      drain: (socket: any) => {
        const conn = socket.data as Conn;
        const rest = conn.pending;
        if (rest === null) return;
        const n = socket.write(rest);
        conn.pending = n < rest.length ? rest.subarray(Math.max(n, 0)) : null;
      },
      close: (socket: any, err?: Error) => this.#onClose(socket.data as Conn, err),
      error: (socket: any, err: Error) => this.#onClose(socket.data as Conn, err),
      timeout: (socket: any) => {
        const conn = socket.data as Conn;
        if (conn.exchange === null) this.#drop(conn);
      },
    };
  }

  /** Number of idle connections kept, all origins (for tests and diagnostics). */
  idleCount(): number {
    let n = 0;
    for (const p of this.#pools.values()) n += p.idle.length;
    return n;
  }

  /** Where a URL goes: its origin's pool and its request target; parsed once per distinct URL. */
  endpoint(url: string | URL): Endpoint {
    const u = typeof url === "string" ? new URL(url) : url;
    if (u.protocol !== "http:" && u.protocol !== "https:") throw new TypeError(`unsupported protocol ${u.protocol}`);
    // credentials in the URL (basic auth) are left to fetch
    if (u.username || u.password) throw new TypeError("credentials in the URL");
    return { pool: this.#pool(u), target: u.pathname + u.search, host: u.host };
  }

  /** Sends one request. `headers` are sent as given (plus host, content-length, user-agent and accept-encoding). */
  request(
    to: Endpoint,
    method: string,
    headers: HeadersInit | undefined,
    body: string | Uint8Array | null,
    signal?: AbortLike | null,
  ): Promise<PooledReply> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const pool = to.pool;
    const length = body === null ? -1 : typeof body === "string" ? Buffer.byteLength(body) : body.length;
    let head: HeadState;
    try {
      head = requestHead(to, method, headers, length, this.#userAgent);
    } catch (err) {
      return Promise.reject(err);
    }
    // one write per request, head and body together; an ASCII head and a string body go as one string (written
    // as UTF-8 without an extra copy), anything else as bytes
    let wire: string | Buffer;
    if (head.ascii && typeof body === "string") wire = head.text + body;
    else if (head.ascii && body === null) wire = head.text;
    else {
      const h = Buffer.from(head.text, "latin1");
      wire = body === null ? h : Buffer.concat([h, typeof body === "string" ? Buffer.from(body) : body]);
    }
    const size = typeof wire === "string" ? head.text.length + Math.max(length, 0) : wire.length;
    // withResolvers rather than an executor: no closure (and its scope) per request
    const { promise, resolve, reject } = Promise.withResolvers<PooledReply>();
    this.#start(new Exchange(pool, method, wire, size, resolve, reject, signal, this), false);
    return promise;
  }

  /** @internal an exchange's signal aborted */
  abortExchange(ex: Exchange) {
    const c = ex.conn!;
    this.#failExchange(c, ex, ex.signal!.reason);
    destroy(c);
  }

  #pool(url: URL): OriginPool {
    const key = url.protocol + url.host;
    let p = this.#pools.get(key);
    if (p === undefined) {
      const tls = url.protocol === "https:";
      let hostname = url.hostname;
      if (hostname.startsWith("[")) hostname = hostname.slice(1, -1);
      p = { hostname, port: url.port ? Number(url.port) : tls ? 443 : 80, tls, idle: [] };
      this.#pools.set(key, p);
    }
    return p;
  }

  /** Sends the exchange on an idle connection of its origin, or on a new one (`fresh`: always a new one). */
  #start(ex: Exchange, fresh: boolean) {
    const pool = ex.pool;
    let conn: Conn | undefined;
    while (!fresh && (conn = pool.idle.pop()) !== undefined) {
      if (!conn.closed) break;
    }
    if (conn !== undefined && !conn.closed) return this.#send(conn, ex);
    this.#connect(pool, ex.signal).then(
      (c) => this.#send(c, ex),
      (err) => {
        if (ex.settled) return;
        ex.settled = true;
        if (ex.listening) ex.signal?.removeEventListener("abort", ex);
        ex.reject(err);
      },
    );
  }

  #send(conn: Conn, ex: Exchange) {
    if (ex.signal?.aborted) {
      // aborted while connecting
      destroy(conn);
      if (!ex.settled) {
        ex.settled = true;
        ex.reject(ex.signal.reason);
      }
      return;
    }
    conn.socket.timeout(0);
    conn.exchange = ex;
    ex.conn = conn;
    if (ex.signal && !ex.listening) {
      ex.listening = true;
      ex.signal.addEventListener("abort", ex, { once: true });
    }
    const wire = ex.wire!;
    const n: number = conn.socket.write(wire);
    if (n < ex.size) conn.pending = (typeof wire === "string" ? Buffer.from(wire) : wire).subarray(Math.max(n, 0));
  }


  #connect(pool: OriginPool, signal: AbortLike | null | undefined): Promise<Conn> {
    const conn = new Conn(pool);
    return new Promise<Conn>((resolve, reject) => {
      let done = false;
      const onAbort = () => finish(signal!.reason);
      const finish = (err?: unknown) => {
        if (done) return;
        done = true;
        signal?.removeEventListener("abort", onAbort);
        if (err === undefined) return resolve(conn);
        destroy(conn);
        reject(err);
      };
      if (signal) signal.addEventListener("abort", onAbort, { once: true });
      const handlers = pool.tls
        ? {
            ...this.#handlers,
            handshake: (socket: any, ok: boolean, authErr: Error | null) => {
              conn.socket = socket;
              if (ok) finish();
              else finish(networkError((authErr as any)?.code ?? "TLS_HANDSHAKE_FAILED", authErr?.message ?? "TLS handshake failed"));
            },
            close: (socket: any, err?: Error) => {
              if (!done) finish(networkError("ECONNRESET", err?.message ?? "the connection closed during the TLS handshake"));
              this.#onClose(socket.data as Conn, err);
            },
          }
        : this.#handlers;
      Bun.connect<Conn>({
        hostname: pool.hostname,
        port: pool.port,
        data: conn,
        socket: handlers as any,
        tls: pool.tls ? { serverName: pool.hostname, ...this.#tls } : undefined,
      } as any).then(
        (socket) => {
          conn.socket = socket;
          // the call was aborted while connecting: this socket is nobody's
          if (done && conn.closed) socket.terminate();
          else if (!pool.tls) finish();
        },
        (err: any) => finish(networkError(err?.code ?? "ECONNREFUSED", err?.message ?? "could not connect")),
      );
    });
  }

  #onData(conn: Conn, data: Buffer) {
    const ex = conn.exchange;
    if (ex === null) {
      // bytes nobody asked for: the connection is no longer in a known state
      this.#drop(conn);
      return;
    }
    if (!ex.gotBytes) {
      ex.gotBytes = true;
      ex.wire = null;
    }
    const buf: Buffer = conn.buf === null ? data : Buffer.concat([conn.buf, data]);
    conn.buf = null;
    this.#consume(conn, ex, buf);
    if (ex.spanBuf !== null) this.#emit(ex);
  }

  /**
   * Hands the chunk data gathered from one read to the reply as one piece (an SSE stream sends an event per chunk;
   * one read often holds several).
   */
  #emit(ex: Exchange) {
    const spans = ex.spans!;
    const buf = ex.spanBuf!;
    let total = 0;
    for (let i = 0; i < spans.length; i += 2) total += spans[i + 1]! - spans[i]!;
    const out = Buffer.allocUnsafe(total);
    let o = 0;
    for (let i = 0; i < spans.length; i += 2) o += buf.copy(out, o, spans[i]!, spans[i + 1]!);
    spans.length = 0;
    ex.spanBuf = null;
    ex.reply!.push(out);
  }

  #consume(conn: Conn, ex: Exchange, buf: Buffer) {
    let at = 0;
    while (at < buf.length) {
      if (ex.head) {
        const end = buf.indexOf(CRLF2, at);
        if (end < 0) {
          conn.buf = Buffer.from(buf.subarray(at));
          if (conn.buf.length > 64 * 1024) this.#failExchange(conn, ex, networkError("HPE_HEADER_OVERFLOW", "upstream response headers too large"), true);
          return;
        }
        const ok = this.#parseHead(conn, ex, buf.toString("latin1", at, end));
        at = end + 4;
        if (!ok) return;
        if (ex.head) continue; // a 1xx answer was skipped
        if (ex.framing === 0) {
          this.#complete(conn, ex);
          if (at < buf.length) this.#drop(conn);
          return;
        }
        continue;
      }
      const reply = ex.reply!;
      if (ex.framing === 1 && !ex.settled && ex.textual && reply.encoding === null && buf.length - at >= ex.remaining && reply.isEmpty()) {
        // the whole of a buffered text body is here: decoded straight from the socket's bytes, no copy (a binary
        // body, audio or a file, stays bytes: decoding it as UTF-8 would change it)
        reply.setText(buf.toString("utf8", at, at + ex.remaining));
        at += ex.remaining;
        ex.remaining = 0;
        this.#complete(conn, ex);
        if (at < buf.length) this.#drop(conn);
        return;
      }
      if (ex.framing === 1) {
        const take = Math.min(ex.remaining, buf.length - at);
        reply.push(copyOf(buf, at, at + take));
        at += take;
        ex.remaining -= take;
        if (ex.remaining === 0) {
          this.#complete(conn, ex);
          if (at < buf.length) this.#drop(conn);
          return;
        }
      } else if (ex.framing === 3) {
        reply.push(copyOf(buf, at, buf.length));
        at = buf.length;
      } else {
        // chunked
        if (ex.chunkState === 1) {
          const take = Math.min(ex.remaining, buf.length - at);
          if (take > 0) {
            (ex.spans ??= []).push(at, at + take);
            ex.spanBuf = buf;
          }
          at += take;
          ex.remaining -= take;
          if (ex.remaining === 0) ex.chunkState = 2;
          continue;
        }
        const eol = buf.indexOf("\r\n", at);
        if (eol < 0) {
          conn.buf = Buffer.from(buf.subarray(at));
          return;
        }
        const line = buf.toString("latin1", at, eol);
        at = eol + 2;
        if (ex.chunkState === 2) {
          if (line !== "") return this.#failExchange(conn, ex, networkError("HPE_INVALID_CHUNK", "malformed chunked body from upstream"), true);
          ex.chunkState = 0;
        } else if (ex.chunkState === 0) {
          const semi = line.indexOf(";");
          const size = parseInt(semi < 0 ? line : line.slice(0, semi), 16);
          if (!(size >= 0)) return this.#failExchange(conn, ex, networkError("HPE_INVALID_CHUNK", "malformed chunked body from upstream"), true);
          if (size === 0) ex.chunkState = 3;
          else {
            ex.remaining = size;
            ex.chunkState = 1;
          }
        } else if (line === "") {
          // end of trailers
          this.#complete(conn, ex);
          if (at < buf.length) this.#drop(conn);
          return;
        }
      }
    }
    // everything consumed; a fixed-length body waiting to be read whole resolves when complete
  }

  /** Parses the status line and headers; decides the framing. Returns false when the exchange failed. */
  #parseHead(conn: Conn, ex: Exchange, head: string): boolean {
    // "HTTP/1.x NNN reason"
    const c0 = head.charCodeAt(9) - 48, c1 = head.charCodeAt(10) - 48, c2 = head.charCodeAt(11) - 48;
    if (!head.startsWith("HTTP/1.") || !(c0 >= 1 && c0 <= 5 && c1 >= 0 && c1 <= 9 && c2 >= 0 && c2 <= 9) || (head.length > 12 && head.charCodeAt(12) !== 32)) {
      this.#failExchange(conn, ex, networkError("HPE_INVALID_CONSTANT", "upstream did not answer with HTTP/1.x"), true);
      return false;
    }
    const status = c0 * 100 + c1 * 10 + c2;
    if (status >= 100 && status < 200 && status !== 101) return true; // 100 Continue, 103 Early Hints: skipped
    const eol = head.indexOf("\r\n");
    ex.keepAlive = head.charCodeAt(7) === 49; // HTTP/1.1
    let length = -1;
    let chunked = false;
    let encoding: string | null = null;
    let passesOn = false;
    // the few headers that decide framing; a line is looked at only if its first letter could start one of them
    // (c, t, k). The rest are parsed only if `headers` is asked for.
    let pos = eol < 0 ? head.length : eol + 2;
    while (pos < head.length) {
      let e = head.indexOf("\r\n", pos);
      if (e < 0) e = head.length;
      const c = head.charCodeAt(pos) | 0x20;
      if (c === 0x78 || c === 0x6f) {
        // x-ratelimit-*, openai-processing-ms: headers the client gets too (upstream.ts `passedOnHeaders`)
        const colon = head.indexOf(":", pos);
        if (colon > pos && colon < e && (prefixIs(head, pos, colon, "x-ratelimit-") || nameIs(head, pos, colon, "openai-processing-ms"))) passesOn = true;
      } else if (c === 0x63 || c === 0x74 || c === 0x6b) {
        const colon = head.indexOf(":", pos);
        if (colon > pos && colon < e) {
          // names compared in place and content-length read in place: no strings made for the common headers
          if (nameIs(head, pos, colon, "content-length")) length = decimalIn(head, colon + 1, e);
          else if (nameIs(head, pos, colon, "transfer-encoding")) chunked = head.slice(colon + 1, e).toLowerCase().includes("chunked");
          else if (nameIs(head, pos, colon, "connection")) {
            const v = head.slice(colon + 1, e).toLowerCase();
            if (v.includes("close")) ex.keepAlive = false;
            else if (v.includes("keep-alive")) ex.keepAlive = true;
          } else if (nameIs(head, pos, colon, "keep-alive")) {
            const t = /timeout=(\d+)/i.exec(head.slice(colon + 1, e));
            if (t) ex.keepAliveS = Math.max(1, Number(t[1]) - 1);
          } else if (nameIs(head, pos, colon, "content-type")) {
            ex.textual = TEXTUAL.test(head.slice(colon + 1, e));
          } else if (nameIs(head, pos, colon, "content-encoding")) {
            const v = head.slice(colon + 1, e).trim().toLowerCase();
            if (v !== "identity") encoding = v;
          }
        }
      }
      pos = e + 2;
    }
    ex.head = false;
    const bodyless = ex.method === "HEAD" || status === 204 || status === 304 || status === 101;
    if (bodyless) ex.framing = 0;
    else if (chunked) ex.framing = 2;
    else if (length >= 0 && Number.isSafeInteger(length)) {
      ex.framing = length === 0 ? 0 : 1;
      ex.remaining = length;
    } else {
      ex.framing = 3;
      ex.keepAlive = false;
    }
    if (encoding !== null && decodingFormat(encoding) === null) {
      this.#failExchange(conn, ex, networkError("ERR_CONTENT_ENCODING", `upstream used an unsupported content-encoding '${encoding}'`), true);
      return false;
    }
    const reply = new PooledReply(status, eol < 0 ? "" : head.slice(eol + 2), encoding, ex.framing !== 0 || (!bodyless && length === 0), conn);
    reply.passesOn = passesOn;
    ex.reply = reply;
    // a body of known, modest length is read whole first; anything else is handed over as it streams
    if (ex.framing !== 1 || ex.remaining > BUFFER_LIMIT) this.#settle(ex);
    return true;
  }

  #settle(ex: Exchange) {
    if (ex.settled) return;
    ex.settled = true;
    ex.resolve(ex.reply!);
  }

  #complete(conn: Conn, ex: Exchange) {
    if (ex.spanBuf !== null) this.#emit(ex);
    this.#settle(ex);
    if (ex.listening) {
      ex.signal!.removeEventListener("abort", ex);
      ex.listening = false;
    }
    conn.exchange = null;
    ex.reply!.end();
    // an answer that came before the whole request was written (an early 413, say) leaves the connection mid-request
    if (!ex.keepAlive || conn.closed || conn.pending !== null) return this.#drop(conn);
    const pool = conn.pool;
    if (pool.idle.length >= MAX_IDLE) return this.#drop(conn);
    conn.reused = true;
    if (ex.reply!.paused) conn.socket.resume();
    conn.socket.timeout(ex.keepAliveS);
    pool.idle.push(conn);
  }

  /** Fails the exchange in flight (before or during its answer) and closes the connection. */
  #failExchange(conn: Conn, ex: Exchange, err: unknown, drop = false) {
    ex.spanBuf = null;
    if (ex.spans !== null) ex.spans.length = 0;
    if (ex.listening) {
      ex.signal?.removeEventListener("abort", ex);
      ex.listening = false;
    }
    if (conn.exchange === ex) conn.exchange = null;
    if (drop) this.#drop(conn);
    if (!ex.settled) {
      ex.settled = true;
      // the answer had begun (a body read whole that broke off): not a failure to reach the upstream
      if (ex.gotBytes && err && typeof err === "object") (err as { answerBegan?: boolean }).answerBegan = true;
      ex.reject(err);
    } else ex.reply?.fail(err);
  }

  #onClose(conn: Conn, err?: Error) {
    conn.closed = true;
    const idle = conn.pool.idle;
    const i = idle.indexOf(conn);
    if (i >= 0) idle.splice(i, 1);
    const ex = conn.exchange;
    if (ex === null) return;
    if (ex.framing === 3 && !ex.head) {
      // read-to-close body: the close is its end
      conn.exchange = null;
      this.#settle(ex);
      ex.reply!.end();
      return;
    }
    const failure = networkError((err as any)?.code ?? "ECONNRESET", err?.message ?? "the upstream closed the connection");
    // the upstream was reached (the request went out on this connection): not a failure to connect
    (failure as { connected?: boolean }).connected = true;
    if (!ex.gotBytes && conn.reused && !ex.settled && !ex.retried && !ex.signal?.aborted) {
      // a reused connection closed under us before the answer began: once more on a new one
      conn.exchange = null;
      ex.retried = true;
      this.#start(ex, true);
      return;
    }
    this.#failExchange(conn, ex, failure);
  }

  #drop(conn: Conn) {
    const idle = conn.pool.idle;
    const i = idle.indexOf(conn);
    if (i >= 0) idle.splice(i, 1);
    destroy(conn);
  }
}

/** Whether head[from, to) is `lower` (a lower-case header name), in any case. */
function nameIs(head: string, from: number, to: number, lower: string): boolean {
  return to - from === lower.length && prefixIs(head, from, to, lower);
}

/** Whether head[from, to) starts with `lower`, letters in any case. */
function prefixIs(head: string, from: number, to: number, lower: string): boolean {
  if (to - from < lower.length) return false;
  for (let i = 0; i < lower.length; i++) {
    const c = head.charCodeAt(from + i);
    const l = lower.charCodeAt(i);
    // a letter in either case; anything else exactly
    if (c !== l && !(l >= 97 && l <= 122 && (c | 0x20) === l)) return false;
  }
  return true;
}

/** The decimal number in head[from, to), blanks around it allowed (none: 0, like Number("")); NaN if it is not one. */
function decimalIn(head: string, from: number, to: number): number {
  while (from < to && (head.charCodeAt(from) === 32 || head.charCodeAt(from) === 9)) from++;
  while (to > from && (head.charCodeAt(to - 1) === 32 || head.charCodeAt(to - 1) === 9)) to--;
  let n = 0;
  for (let i = from; i < to; i++) {
    const d = head.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    n = n * 10 + d;
  }
  return n;
}

/** A copy (the socket's buffer is not ours to keep); copied natively, without views on the source. */
function copyOf(buf: Buffer, from: number, to: number): Buffer {
  const out = Buffer.allocUnsafe(to - from);
  buf.copy(out, 0, from, to);
  return out;
}

const HEADER_ASCII = /^[\t\x20-\x7e]*$/;
const HEADER_LATIN1 = /^[\t\x20-\x7e\x80-\xff]*$/;
const NAME_OK = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * The request head, as the head without its framing (`headPrefix`) plus the content-length line. `length` is the
 * body's size in bytes, -1 without a body.
 */
function requestHead(to: Endpoint, method: string, headers: HeadersInit | undefined, length: number, userAgent: string): HeadState {
  const h = headPrefix(to, method, headers, userAgent);
  const text = length >= 0 || (method !== "GET" && method !== "HEAD") ? `${h.text}content-length: ${Math.max(length, 0)}\r\n\r\n` : h.text + "\r\n";
  return { text, ascii: h.ascii, seen: h.seen };
}

/**
 * Heads without their framing, kept on the endpoint per frozen headers object (the gateway freezes each account's
 * headers, built once per account record): the same account and endpoint then cost no header checks and no string
 * building per request, and an account whose calls alternate between endpoints keeps one head for each. A headers
 * object that is not frozen might change between calls and is rendered every time.
 */
function headPrefix(to: Endpoint, method: string, headers: HeadersInit | undefined, userAgent: string): HeadState {
  const cacheable = headers !== undefined && !(headers instanceof Headers) && !Array.isArray(headers) && Object.isFrozen(headers);
  if (cacheable) {
    const c = to.heads?.get(headers);
    if (c !== undefined && c.method === method && c.userAgent === userAgent) return c.head;
  }
  // a parsed URL's path, query and host are ASCII already
  const h: HeadState = { text: `${method} ${to.target} HTTP/1.1\r\nhost: ${to.host}\r\n`, ascii: true, seen: 0 };
  if (headers !== undefined) {
    if (headers instanceof Headers) headers.forEach((v, k) => addHeader(h, k, v));
    else if (Array.isArray(headers)) for (const [k, v] of headers as [string, string][]) addHeader(h, k, v);
    else
      for (const k in headers) {
        const v = (headers as Record<string, string | undefined>)[k];
        if (v !== undefined) addHeader(h, k, v);
      }
  }
  if (!(h.seen & 1)) h.text += `user-agent: ${userAgent}\r\n`;
  if (!(h.seen & 2)) h.text += "accept-encoding: gzip, deflate\r\n";
  if (!(h.seen & 4)) h.text += "accept: */*\r\n";
  if (cacheable) (to.heads ??= new WeakMap()).set(headers, { method, userAgent, head: h });
  return h;
}

interface HeadState {
  text: string;
  ascii: boolean;
  /** bit 1 user-agent, 2 accept-encoding, 4 accept: given by the caller */
  seen: number;
}

function addHeader(h: HeadState, name: string, value: string) {
  if (!NAME_OK.test(name)) throw new TypeError(`Invalid header name '${name}'`);
  if (!HEADER_ASCII.test(value)) {
    if (!HEADER_LATIN1.test(value)) throw new TypeError(`Invalid value for header '${name}'`);
    h.ascii = false;
  }
  const lower = name.toLowerCase();
  if (lower === "host" || lower === "content-length" || lower === "transfer-encoding" || lower === "connection") return;
  if (lower === "user-agent") h.seen |= 1;
  else if (lower === "accept-encoding") h.seen |= 2;
  else if (lower === "accept") h.seen |= 4;
  h.text += `${name}: ${value}\r\n`;
}


function proxyConfigured(): boolean {
  const e = process.env;
  return !!(e.HTTP_PROXY || e.HTTPS_PROXY || e.http_proxy || e.https_proxy || e.ALL_PROXY || e.all_proxy);
}

/**
 * A `fetch`-shaped function on a pool: string/byte bodies to http(s) URLs go through the pool; anything else
 * (streamed or form bodies, other schemes, an HTTP proxy in the environment) through `fallback`.
 */
export function pooledFetch(pool: Http1Pool = new Http1Pool(), fallbackFetch: typeof fetch = fetch): UpstreamFetch {
  const fallback = fetchClient(fallbackFetch);
  const viaProxy = proxyConfigured();
  // upstream URLs repeat (an account's base URL + an endpoint path): parsed once
  const endpoints = new Map<string, Endpoint>();
  return (url, init) => {
    const body = init.body;
    if (viaProxy || (body != null && typeof body !== "string" && !(body instanceof Uint8Array))) return fallback(url, init);
    let to = endpoints.get(url);
    if (to === undefined) {
      try {
        to = pool.endpoint(url);
      } catch {
        return fallback(url, init);
      }
      if (endpoints.size >= 1024) endpoints.clear();
      endpoints.set(url, to);
    }
    return pool.request(to, (init.method ?? "GET").toUpperCase(), init.headers, (body as string | Uint8Array | null | undefined) ?? null, init.signal as AbortLike | null | undefined);
  };
}
