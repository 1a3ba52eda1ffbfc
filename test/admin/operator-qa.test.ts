/**
 * The admin API as an operator meets it (black-box QA round on the operator surface): decisions taken on the
 * database, not a registry another process has changed under it; request bodies checked whole; Test Credentials
 * that never calls "nothing tried" a success; base URLs and headers refused when they are given, not at every call.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { openStore } from "../../src/db/client.ts";
import { readAccount } from "../../src/db/accounts-repo.ts";
import { revokeKey } from "../../src/db/keys-repo.ts";
import { startOpenAIMock, MOCK_KEY, type OpenAIMock } from "../mocks/openai.ts";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";

let mock: OpenAIMock;
let g: TestGateway;

beforeAll(async () => {
  mock = startOpenAIMock();
  g = await startGateway(`accounts: []`);
});
afterAll(async () => {
  await g.close();
  mock.close();
});

const as = (key: string) => (path: string, init: { method?: string; json?: unknown } = {}) => g.admin(path, init, key);

const account = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  provider: "openai",
  base_url: mock.url,
  auth: { api_key: MOCK_KEY },
  models: [{ name: "gpt-4o-mini", types: ["chat"] }],
  ...extra,
});

describe("decisions on the database, not on a registry another process changed", () => {
  test("an account another process deleted is a 404 to its manager, never re-created, and its models are a 404, not a 500", async () => {
    const mgr = g.key("user:max@example.com");
    expect((await g.admin("/accounts", { method: "POST", json: account("gone-soon", { access: { managers: ["user:max@example.com"] } }) })).status).toBe(201);
    const shown = await (await as(mgr)("/accounts/gone-soon")).json();
    // the CLI in another process deletes it; this server has not polled since (the harness runs no watch at all)
    const other = openStore(join(g.dataDir, "switchboard.db"));
    other.sqlite.run("delete from accounts where name = 'gone-soon'");
    other.close();
    expect(g.gw.registry.accounts.has("gone-soon")).toBe(true);

    const put = await as(mgr)("/accounts/gone-soon", { method: "PUT", json: { ...shown, base_url: mock.url, auth: { api_key: "sk-managers-own" } } });
    expect(put.status).toBe(404);
    expect((await put.json()).error).toMatchObject({ code: "account_not_found", message: "Unknown account 'gone-soon'" });
    expect(readAccount(g.gw.store, g.gw.masterKey, "gone-soon")).toBeUndefined();

    const model = await as(mgr)("/accounts/gone-soon/models/x", { method: "PUT", json: { types: ["chat"] } });
    expect(model.status).toBe(404);
    expect((await model.json()).error.code).toBe("account_not_found");
    expect((await as(mgr)("/accounts/gone-soon/access", { method: "PUT", json: { users: [] } })).status).toBe(404);
    // and the registry caught up on the way
    expect(g.gw.registry.accounts.has("gone-soon")).toBe(false);
  });

  test("a manager removed by another process may no longer edit the account", async () => {
    const mgr = g.key("user:nia@example.com");
    await g.admin("/accounts", { method: "POST", json: account("demoted", { access: { managers: ["user:nia@example.com"] } }) });
    const other = openStore(join(g.dataDir, "switchboard.db"));
    other.sqlite.run(`update accounts set managers = '[]' where name = 'demoted'`);
    other.close();
    const r = await as(mgr)("/accounts/demoted/models", { method: "POST", json: { name: "m2", types: ["chat"] } });
    expect(r.status).toBe(403);
    expect(readAccount(g.gw.store, g.gw.masterKey, "demoted")!.models.map((m) => m.name)).toEqual(["gpt-4o-mini"]);
  });

  test("a key another process revoked stops working on the admin API at its next request", async () => {
    const { createKey } = await import("../../src/db/keys-repo.ts");
    const other = openStore(join(g.dataDir, "switchboard.db"));
    const { key, info } = createKey(other, { name: "second admin", subject: "user:root2@example.com", role: "admin" });
    expect((await as(key)("/keys")).status).toBe(200);
    revokeKey(other, info.id);
    other.close();
    const r = await as(key)("/keys");
    expect(r.status).toBe(401);
    expect((await r.json()).error.code).toBe("revoked_api_key");
  });
});

describe("POST /keys checks its body whole", () => {
  const post = (json: unknown) => g.admin("/keys", { method: "POST", json });

  test("an unknown field is a 400 naming it (a misspelt 'expires' made a key that never expires)", async () => {
    const r = await post({ name: "ci", subject: "virtualaccount:ci", expires: "30d" });
    expect(r.status).toBe(400);
    expect((await r.json()).error).toEqual({ message: "Unknown parameter: 'expires'", type: "invalid_request_error", param: "expires", code: "unknown_parameter" });
  });

  test("a role that is neither admin nor user says which roles there are", async () => {
    const r = await post({ name: "x", subject: "user:x@example.com", role: "root" });
    expect(r.status).toBe(400);
    expect((await r.json()).error).toEqual({
      message: "Invalid value for 'role': expected one of admin, user (got 'root')",
      type: "invalid_request_error",
      param: "role",
      code: "invalid_value",
    });
  });

  test("expires_at: null is no expiry, as when it is left out", async () => {
    const r = await post({ name: "forever", subject: "user:x@example.com", expires_at: null });
    expect(r.status).toBe(201);
    expect((await r.json()).expiresAt).toBeNull();
    const bad = await post({ name: "x", subject: "user:x@example.com", expires_at: "30" });
    expect((await bad.json()).error).toMatchObject({ param: "expires_at", code: "invalid_value" });
  });

  test("a user's email is kept in lower case, so access written in any case matches it", async () => {
    const r = await (await post({ name: "bob", subject: "user:Bob@Example.COM" })).json();
    expect(r.subject).toBe("user:bob@example.com");
    await g.admin("/accounts", { method: "POST", json: account("mixed-case", { access: { users: ["user:BOB@example.com"] } }) });
    expect((await (await g.admin("/accounts/mixed-case/access")).json()).users).toEqual(["user:bob@example.com"]);
    const out = await g.client(r.key).chat.completions.create({ model: "mixed-case/gpt-4o-mini", messages: [{ role: "user", content: "hi" }] });
    expect(out.choices[0]!.message.content).toBe("echo: hi");
  });

  test("a key stored with a mixed-case email before still matches access lists", async () => {
    const { createKey } = await import("../../src/db/keys-repo.ts");
    const old = createKey(g.gw.store, { name: "old", subject: "user:Zed@Example.com" }).key;
    g.gw.registry.reload();
    await g.admin("/accounts", { method: "POST", json: account("zed-acct", { access: { users: ["user:zed@example.com"] } }) });
    const out = await g.client(old).chat.completions.create({ model: "zed-acct/gpt-4o-mini", messages: [{ role: "user", content: "z" }] });
    expect(out.choices[0]!.message.content).toBe("echo: z");
  });
});

describe("Test Credentials", () => {
  test("models it cannot try are not reported as working; with none tried, the credential is checked with GET /models", async () => {
    await g.admin("/accounts", { method: "POST", json: account("audio-only", { models: [{ name: "whisper-1", types: ["audio_transcription"] }] }) });
    const r = await (await g.admin("/accounts/audio-only/test", { method: "POST" })).json();
    expect(r.results).toEqual([{ model: "whisper-1", ok: null, skipped: true, detail: "no test for types audio_transcription", latency_ms: 0 }]);
    expect(r.tested).toBe(0);
    expect(r.credential_check).toMatchObject({ call: "GET /v1/models", ok: true, status: 200 });
    expect(r.ok).toBe(true);
    expect(mock.requests.at(-1)).toMatchObject({ method: "GET", path: "/v1/models" });

    // a wrong credential: the check fails, and so does the test
    const shown = await (await g.admin("/accounts/audio-only")).json();
    await g.admin("/accounts/audio-only", { method: "PUT", json: { ...shown, auth: { api_key: "sk-wrong-000" } } });
    const bad = await (await g.admin("/accounts/audio-only/test", { method: "POST" })).json();
    expect(bad.ok).toBe(false);
    expect(bad.credential_check).toMatchObject({ ok: false, status: 401 });
    expect(bad.message).toContain("No model was tested");
  });

  test("an account without models gets the same check", async () => {
    await g.admin("/accounts", { method: "POST", json: account("no-models", { models: [] }) });
    const r = await (await g.admin("/accounts/no-models/test", { method: "POST" })).json();
    expect(r).toMatchObject({ ok: true, tested: 0, results: [], credential_check: { ok: true } });
    expect(r.message).toBe("No model was tested (the account has no models); the credential was checked with GET /v1/models");
  });
});

describe("base_url and headers are checked when given", () => {
  const refused = async (json: unknown, param: string) => {
    const r = await g.admin("/accounts", { method: "POST", json });
    expect(r.status).toBe(400);
    const e = (await r.json()).error;
    expect(e.param).toBe(param);
    expect(e.code).toBe("invalid_value");
    return e.message as string;
  };

  test("a base URL without a host, or with spaces, is a 400 naming base_url", async () => {
    expect(await refused(account("bad-url", { base_url: "http://" }), "base_url")).toBe("Invalid value for 'base_url': 'http://' is not a base URL: it does not parse as a URL");
    expect(await refused(account("bad-url", { base_url: "https://a b/v1 x" }), "base_url")).toContain("contains spaces or control characters");
    expect(await refused(account("bad-url", { base_url: "ftp://files.example.com" }), "base_url")).toContain("must start with http:// or https://");
    expect((await g.admin("/accounts/bad-url")).status).toBe(404);
  });

  test("a header name that is not a token, or a value with a line break, is a 400 naming headers", async () => {
    await refused(account("bad-hdr", { headers: { "x team": "a" } }), "headers");
    await refused(account("bad-hdr", { headers: { "": "a" } }), "headers");
    const msg = await refused(account("bad-hdr", { headers: { "x-team": "a\r\nx-injected: 1" } }), "headers.x-team");
    expect(msg).not.toContain("injected");
    // PUT alike
    const put = await g.admin("/accounts/bad-hdr", { method: "PUT", json: account("bad-hdr", { headers: { "x-ok": "tab\tis fine", "x y": "no" } }) });
    expect(put.status).toBe(400);
    expect((await put.json()).error.param).toBe("headers");
  });
});

describe("one error shape, and nothing for keys that manage nothing", () => {
  test("a plain user key gets 403 on the listings, not empty lists; a manager still sees its own", async () => {
    const plain = g.key("user:pat@example.com");
    for (const path of ["/accounts", "/logs", "/usage"]) {
      const r = await as(plain)(path);
      expect(r.status).toBe(403);
      expect((await r.json()).error).toMatchObject({ type: "permission_error", code: "not_allowed" });
    }
    const mgr = g.key("user:lee@example.com");
    await g.admin("/accounts", { method: "POST", json: account("lees", { access: { managers: ["user:lee@example.com"] } }) });
    const list = await (await as(mgr)("/accounts")).json();
    expect(list.data.map((a: any) => a.name)).toEqual(["lees"]);
    expect((await as(mgr)("/usage")).status).toBe(200);
  });

  test("account errors are worded and coded like the keys'; a duplicate model has a code", async () => {
    const r = await g.admin("/accounts", { method: "POST", json: account("shape", { models: [{ name: "m", types: ["chat"], max_output_tokens: "many" }] }) });
    expect((await r.json()).error).toEqual({ message: "Invalid value for 'models[0].max_output_tokens': Expected integer", type: "invalid_request_error", param: "models[0].max_output_tokens", code: "invalid_value" });
    const provider = await g.admin("/accounts", { method: "POST", json: account("shape", { provider: "openia" }) });
    expect((await provider.json()).error.message).toBe(
      "Invalid value for 'provider': expected one of openai, openai-compatible, groq, azure-openai, anthropic, google-gemini, google-vertex, aws-bedrock (got 'openia')",
    );
    const extra = await g.admin("/accounts", { method: "POST", json: account("shape", { base_ur: "x" }) });
    expect((await extra.json()).error).toMatchObject({ param: "base_ur", code: "unknown_parameter" });
    await g.admin("/accounts", { method: "POST", json: account("shape") });
    const dup = await g.admin("/accounts/shape/models", { method: "POST", json: { name: "gpt-4o-mini", types: ["chat"] } });
    expect(dup.status).toBe(409);
    expect((await dup.json()).error).toMatchObject({ param: "name", code: "model_exists" });
  });
});
