/** CORS, on with --cors-origins: preflights answered, answers to allowed origins marked; off by default. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { openAIAccountConfig, startGateway, type TestGateway } from "../helpers/gateway.ts";
import { MOCK_KEY, startOpenAIMock, type OpenAIMock } from "../mocks/openai.ts";
import { parseCorsOrigins } from "../../src/http/cors.ts";

let mock: OpenAIMock;
let listed: TestGateway;
let off: TestGateway;
let key: string;
let offKey: string;
const APP = "https://app.example.com";

beforeAll(async () => {
  mock = startOpenAIMock();
  const yaml = openAIAccountConfig(mock.url, MOCK_KEY);
  listed = await startGateway(yaml, { corsOrigins: [APP] });
  off = await startGateway(yaml);
  key = listed.key("user:web@example.com", { teams: ["everyone"] });
  offKey = off.key("user:web@example.com", { teams: ["everyone"] });
});

afterAll(async () => {
  await listed.close();
  await off.close();
  mock.close();
});

const preflight = (url: string, origin: string) =>
  fetch(url, { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, x-stainless-os" } });

test("a preflight from an allowed origin is answered 204 with the methods and the headers asked for, on every route", async () => {
  for (const path of ["/v1/chat/completions", "/v1/models", "/admin/v1/keys"]) {
    const r = await preflight(listed.url + path, APP);
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe(APP);
    expect(r.headers.get("access-control-allow-methods")).toContain("POST");
    expect(r.headers.get("access-control-allow-headers")).toBe("authorization, content-type, x-stainless-os");
  }
  expect((await preflight(listed.url + "/v1/chat/completions", "https://evil.example")).status).toBe(403);
});

test("answers to an allowed origin carry allow-origin and expose the gateway's headers; others none", async () => {
  const call = (origin: string, auth = key) =>
    fetch(listed.url + "/v1/chat/completions", {
      method: "POST",
      headers: { origin, authorization: `Bearer ${auth}`, "content-type": "application/json" },
      body: JSON.stringify({ model: "openai-main/gpt-4o-mini", messages: [{ role: "user", content: "from the browser" }] }),
    });
  const ok = await call(APP);
  expect(ok.status).toBe(200);
  expect((await ok.json()).choices[0].message.content).toContain("from the browser");
  expect(ok.headers.get("access-control-allow-origin")).toBe(APP);
  expect(ok.headers.get("access-control-expose-headers")).toContain("x-request-id");
  // an error the page must be able to read too
  const denied = await call(APP, "sk-sb-nope");
  expect(denied.status).toBe(401);
  expect(denied.headers.get("access-control-allow-origin")).toBe(APP);
  const models = await fetch(listed.url + "/v1/models", { headers: { origin: APP, authorization: `Bearer ${key}` } });
  expect(models.headers.get("access-control-allow-origin")).toBe(APP);
  const other = await call("https://evil.example");
  expect(other.status).toBe(200);
  expect(other.headers.get("access-control-allow-origin")).toBeNull();
});

test("off by default: no CORS headers, a preflight is not answered as one", async () => {
  const r = await preflight(off.url + "/v1/chat/completions", APP);
  expect(r.headers.get("access-control-allow-origin")).toBeNull();
  const ok = await fetch(off.url + "/v1/models", { headers: { origin: APP, authorization: `Bearer ${offKey}` } });
  expect(ok.status).toBe(200);
  expect(ok.headers.get("access-control-allow-origin")).toBeNull();
});

test("--cors-origins: * or origins; anything else is refused with a clear message", () => {
  expect(parseCorsOrigins(undefined)).toBeNull();
  expect(parseCorsOrigins("*")).toEqual(["*"]);
  expect(parseCorsOrigins("https://a.example.com, http://localhost:3000/")).toEqual(["https://a.example.com", "http://localhost:3000"]);
  expect(() => parseCorsOrigins("a.example.com")).toThrow("--cors-origins: 'a.example.com' is not an origin (scheme://host[:port]) or *");
});
