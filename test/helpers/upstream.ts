/** A throwaway upstream for one test file: a Bun server on 127.0.0.1, port 0, answering with `fetch`. */
export function fakeUpstream(fetch: (req: Request) => Response | Promise<Response>) {
  return Bun.serve({ port: 0, hostname: "127.0.0.1", fetch });
}
