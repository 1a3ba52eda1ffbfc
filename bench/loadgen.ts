/**
 * A lean load generator, the way wrk works: N keep-alive HTTP/1.1 connections on one thread, each sending the same
 * prepared request bytes again as soon as the previous answer is whole (Content-Length or chunked framing), and
 * nothing else per request — no Request/Response objects, no header parsing beyond the framing. On the 2-core
 * benchmark machine the load generator shares the cores with the upstream and the proxy under test, so what it
 * costs per request is taken from them: this one costs a fraction of `fetch` (which also runs its HTTP client on a
 * second thread). `bench/run.ts` measures with both.
 */

export interface Run {
  /** latency of every whole answer, ms */
  lat: number[];
  seconds: number;
  /** answers that were not 200, and connections that failed */
  errors: number;
}

const CRLFCRLF = Buffer.from("\r\n\r\n");
const CHUNKED_END = Buffer.from("0\r\n\r\n");

/** `headers` and `body` sent as a POST to `url` by `concurrency` connections for `seconds`. */
export function loadRaw(url: string, headers: Record<string, string>, concurrency: number, seconds: number, body: string): Promise<Run> {
  const u = new URL(url);
  let head = `POST ${u.pathname}${u.search} HTTP/1.1\r\nhost: ${u.host}\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  const request = Buffer.from(`${head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  const lat: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  return new Promise<Run>((resolve) => {
    let open = 0;
    const finished = () => {
      if (--open === 0) resolve({ lat, seconds, errors });
    };
    const connect = () => {
      open++;
      let t = 0;
      let buf: Buffer | null = null;
      /** total bytes of the answer being read (head + body), -1: head not whole yet; -2: chunked */
      let need = -1;
      let status = 0;
      let pending: Buffer | null = null;
      let closed = false;
      const send = (s: { write(b: Buffer): number }) => {
        t = performance.now();
        const n = s.write(request);
        pending = n < request.length ? request.subarray(Math.max(n, 0)) : null;
      };
      Bun.connect({
        hostname: u.hostname,
        port: Number(u.port),
        socket: {
          open(s) {
            send(s);
          },
          drain(s) {
            if (pending) {
              const n = s.write(pending);
              pending = n < pending.length ? pending.subarray(Math.max(n, 0)) : null;
            }
          },
          data(s, chunk: Buffer) {
            buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
            for (;;) {
              if (need === -1) {
                const h = buf.indexOf(CRLFCRLF);
                if (h < 0) return;
                const text = buf.toString("latin1", 0, h).toLowerCase();
                status = Number(text.slice(9, 12));
                const cl = /\r\ncontent-length:\s*(\d+)/.exec(text);
                if (cl) need = h + 4 + Number(cl[1]);
                else if (/\r\ntransfer-encoding:\s*chunked/.test(text)) need = -2;
                else need = h + 4; // no body
              }
              let whole: number;
              if (need === -2) {
                const e = buf.indexOf(CHUNKED_END);
                if (e < 0) return;
                whole = e + CHUNKED_END.length;
              } else {
                if (buf.length < need) return;
                whole = need;
              }
              lat.push(performance.now() - t);
              if (status !== 200) errors++;
              buf = buf.length > whole ? buf.subarray(whole) : null;
              need = -1;
              if (performance.now() < end) send(s);
              else {
                s.end();
                return;
              }
              if (buf === null) return;
            }
          },
          close() {
            if (closed) return;
            closed = true;
            // closed before its time was up: an error, and a new connection takes its place
            if (performance.now() < end) {
              errors++;
              connect();
            }
            finished();
          },
          error() {
            errors++;
          },
          connectError() {
            errors++;
            if (!closed) {
              closed = true;
              finished();
            }
          },
        },
      }).catch(() => {
        errors++;
        if (!closed) {
          closed = true;
          finished();
        }
      });
    };
    for (let i = 0; i < concurrency; i++) connect();
  });
}
