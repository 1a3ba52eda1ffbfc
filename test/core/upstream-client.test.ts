import { afterEach, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openGateway } from "../../src/boot.ts";
import { CallSignal } from "../../src/providers/http1.ts";
import { rawServer } from "../mocks/raw-http.ts";

const saved = process.env.SWITCHBOARD_UPSTREAM_CLIENT;
const upstream = rawServer((_req, sock) => sock.write("HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"));
afterEach(() => {
  if (saved === undefined) delete process.env.SWITCHBOARD_UPSTREAM_CLIENT;
  else process.env.SWITCHBOARD_UPSTREAM_CLIENT = saved;
});

const dir = () => mkdtempSync(join(tmpdir(), "sb-client-"));

/** The user agent the gateway's upstream client sent (the pool says `switchboard`, Bun's fetch `Bun/…`). */
async function userAgentOf(env: string | undefined): Promise<string> {
  if (env === undefined) delete process.env.SWITCHBOARD_UPSTREAM_CLIENT;
  else process.env.SWITCHBOARD_UPSTREAM_CLIENT = env;
  const gw = openGateway({ dataDir: dir() });
  try {
    // the call's CallSignal goes in as it is, whichever client
    const r = await gw.fetch(`${upstream.url}/v1/x`, { method: "POST", body: "{}", signal: new CallSignal() as unknown as AbortSignal });
    expect(await r.json()).toEqual({});
    return /\r\nuser-agent: ([^\r]*)\r\n/i.exec(upstream.requests.at(-1)!)![1]!;
  } finally {
    gw.store.sqlite.close();
  }
}

test("the pooled client by default; SWITCHBOARD_UPSTREAM_CLIENT=fetch switches to fetch; anything else is refused", async () => {
  expect(await userAgentOf(undefined)).toBe("switchboard");
  expect(await userAgentOf("pool")).toBe("switchboard");
  expect(await userAgentOf("fetch")).toMatch(/^Bun\//);

  process.env.SWITCHBOARD_UPSTREAM_CLIENT = "curl";
  expect(() => openGateway({ dataDir: dir() })).toThrow(/must be 'pool' or 'fetch'/);
  upstream.stop();
});
