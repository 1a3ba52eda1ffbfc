/**
 * A raw HTTP/1.1 server on Bun.listen for tests that need exact bytes on the wire: `reply` is called once per
 * complete request (head plus content-length body) with the request as latin1 text, the socket and its number.
 */
export type Reply = (req: string, sock: any, n: number) => void;

export function rawServer(reply: Reply) {
  const state = { requests: [] as string[], connections: 0 };
  const server = Bun.listen<{ buf: string }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { buf: "" };
        state.connections++;
      },
      data(s, d) {
        s.data.buf += d.toString("latin1");
        for (;;) {
          const end = s.data.buf.indexOf("\r\n\r\n");
          if (end < 0) return;
          const m = /content-length: (\d+)/i.exec(s.data.buf.slice(0, end));
          const len = m ? Number(m[1]) : 0;
          if (s.data.buf.length < end + 4 + len) return;
          const req = s.data.buf.slice(0, end + 4 + len);
          s.data.buf = s.data.buf.slice(end + 4 + len);
          state.requests.push(req);
          reply(req, s, state.requests.length);
        }
      },
    },
  });
  return Object.assign(state, { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) });
}

