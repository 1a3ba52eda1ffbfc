/** Reference: the thinnest useful proxy — Bun.serve + fetch, body and headers forwarded, nothing else. */
const upstream = process.env.UPSTREAM!;
const server = Bun.serve({
  port: 0,
  hostname: "127.0.0.1",
  async fetch(req) {
    const url = new URL(req.url);
    const res = await fetch(upstream + url.pathname, { method: req.method, headers: { "content-type": "application/json", authorization: "Bearer upstream" }, body: await req.text() });
    const h = new Headers(res.headers);
    h.delete("content-encoding");
    h.delete("content-length");
    return new Response(res.body, { status: res.status, headers: h });
  },
});
console.log(server.port);
export {};
