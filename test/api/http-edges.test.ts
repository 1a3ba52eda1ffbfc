/**
 * HTTP-level edges found by black-box checks: a short Host header (a container's service name on port 80), malformed
 * percent-encoding in a model id, and an answer whose body cannot be read (a gzip body that is not gzip, a body that
 * breaks off): each gets the status that says what happened, never the gateway's own 500.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, createServer, type Server } from "node:net";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";
import { completion } from "../mocks/openai.ts";

let g: TestGateway;
let key: string;
/** a raw upstream: "/gzip" sends a body that claims gzip and is not, "/short" a body shorter than its content-length */
let raw: Server;

beforeAll(async () => {
  raw = createServer((socket) => {
    let head = "";
    socket.on("data", (d) => {
      head += d.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      const body = JSON.stringify(completion("hello", "m", { prompt_tokens: 1, completion_tokens: 1 }));
      if (head.startsWith("POST /gzip/")) {
        socket.end(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: ${body.length}\r\n\r\n${body}`);
      } else {
        socket.write(`HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: ${body.length + 100}\r\n\r\n${body}`);
        setTimeout(() => socket.destroy(), 20);
      }
    });
  });
  await new Promise<void>((r) => raw.listen(0, "127.0.0.1", r));
  const port = (raw.address() as any).port;
  const account = (name: string) => `
  - name: ${name}
    provider: openai-compatible
    base_url: http://127.0.0.1:${port}/${name}/v1
    auth: { api_key: sk-raw-000000 }
    models: [{ name: m, types: [chat] }]
    access: { users: [team:everyone] }`;
  g = await startGateway(`accounts:${account("gzip")}${account("short")}\n`);
  key = g.key("user:bob@example.com", { teams: ["everyone"] });
});

afterAll(async () => {
  await g.close();
  raw.close();
});

/** One request on its own connection, written as given; the status line and body of the answer. */
function rawRequest(text: string): Promise<{ status: number; body: string }> {
  const { port, hostname } = new URL(g.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => s.write(text));
    let data = "";
    s.on("data", (c) => (data += c.toString()));
    s.on("end", () => resolve({ status: Number(data.split(" ")[1]), body: data.slice(data.indexOf("\r\n\r\n") + 4) }));
    s.on("error", reject);
  });
}

test("a Host header shorter than four characters reaches every route, not a 404", async () => {
  for (const host of ["llm", "x", "gw:80"]) {
    const models = await rawRequest(`GET /v1/models HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${key}\r\nConnection: close\r\n\r\n`);
    expect(models.status).toBe(200);
    expect(models.body).toContain('"gzip/m"');
    const admin = await rawRequest(`GET /admin/v1/keys HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${g.adminKey}\r\nConnection: close\r\n\r\n`);
    expect(admin.status).toBe(200);
    const one = await rawRequest(`GET /v1/models/gzip%2Fm HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${key}\r\nConnection: close\r\n\r\n`);
    expect(one.status).toBe(200);
    expect(JSON.parse(one.body).id).toBe("gzip/m");
  }
});

test("malformed percent-encoding in a model id is a 400 naming the parameter", async () => {
  for (const id of ["%ZZ", "gzip%2", "%C3%28"]) {
    const r = await fetch(`${g.url}/v1/models/${id}`, { headers: { authorization: `Bearer ${key}` } });
    expect(r.status).toBe(400);
    expect((await r.json()).error).toMatchObject({ param: "model", code: "invalid_value" });
  }
});

test("an answer that cannot be read: a 502 naming the account, logged as such", async () => {
  const c = g.client(key);
  for (const account of ["gzip", "short"]) {
    const e = await c.chat.completions.create({ model: `${account}/m`, messages: [{ role: "user", content: "hi" }] }).catch((x) => x);
    expect(e.status).toBe(502);
    expect(e.error.message).toContain(`account '${account}'`);
    expect(e.error.code).toBe("upstream_read_failed");
    expect(g.logs()[0]).toMatchObject({ status: 502, account });
  }
});
