/**
 * Input meant to hurt: control characters that would forge rows in the CLI's tables, a model string of megabytes,
 * a body nested deeper than the engine's stack; and the database file's mode.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { join } from "node:path";
import { printable } from "../../src/cli/commands.ts";
import { openAIAccountConfig, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { MOCK_KEY, startOpenAIMock, type OpenAIMock } from "../mocks/openai.ts";

let mock: OpenAIMock;
let g: TestGateway;
let key: string;

beforeAll(async () => {
  mock = startOpenAIMock();
  g = await startGateway(openAIAccountConfig(mock.url, MOCK_KEY));
  key = g.key("user:eve@example.com", { teams: ["everyone"] });
});

afterAll(async () => {
  await g.close();
  mock.close();
});

const post = (body: string) =>
  fetch(g.url + "/v1/chat/completions", { method: "POST", headers: { authorization: `Bearer ${key}`, "content-type": "application/json" }, body });

test("control characters are shown escaped in the CLI's tables", () => {
  expect(printable("\u001b[31mEVIL\u001b[0m\n2026-01-01 fake-row")).toBe("\\x1b[31mEVIL\\x1b[0m\\n2026-01-01 fake-row");
  expect(printable("plain text, ünïcode ✓")).toBe("plain text, ünïcode ✓");
});

test("a model string of megabytes: a 404 that quotes it clipped, and a log row of bounded size", async () => {
  const r = await post(JSON.stringify({ model: "x".repeat(2_000_000), messages: [{ role: "user", content: "hi" }] }));
  expect(r.status).toBe(404);
  const text = await r.text();
  expect(text.length).toBeLessThan(2000);
  const row = g.logs()[0];
  expect(row.status).toBe(404);
  expect(String(row.model).length).toBeLessThanOrEqual(200);
  expect(String(row.error).length).toBeLessThanOrEqual(2001);
});

test("a body nested deeper than the stack: a 400, and the gateway serves on", async () => {
  const deep = '{"model":"openai-main/gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"x":' + "[".repeat(200_000) + "]".repeat(200_000) + "}";
  const r = await post(deep);
  expect(r.status).toBe(400);
  expect((await r.json()).error.code).toBe("nesting_too_deep");
  const ok = await post(JSON.stringify({ model: "openai-main/gpt-4o-mini", messages: [{ role: "user", content: "still here" }] }));
  expect(ok.status).toBe(200);
});

test("the database file is the owner's only", () => {
  expect(statSync(join(g.dataDir, "switchboard.db")).mode & 0o777).toBe(0o600);
});
