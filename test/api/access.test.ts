import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { startOpenAIMock, MOCK_KEY, type OpenAIMock } from "../mocks/openai.ts";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";

let mock: OpenAIMock;
let g: TestGateway;

beforeAll(async () => {
  mock = startOpenAIMock();
  g = await startGateway(`
accounts:
  - name: openai-main
    provider: openai
    base_url: ${mock.url}
    auth: { api_key: ${MOCK_KEY} }
    models:
      - { name: gpt-4o-mini, types: [chat] }
      - { name: support-bot, model_id: ft:gpt-4o-mini:acme::abc123, types: [chat], authorized_subjects: [team:support] }
      - { name: whisper-1, types: [audio_transcription] }
    access:
      managers: [user:alice@example.com]
      users: [team:eng, virtualaccount:ci-bot]
  - name: cache-acct
    provider: openai-compatible
    base_url: ${mock.url}
    auth: { api_key: ${MOCK_KEY} }
    models:
      - { name: m1, types: [chat] }
      - { name: m2, types: [chat] }
    access:
      users: [team:eng]
  - name: private-acct
    provider: openai-compatible
    base_url: ${mock.url}
    auth: { api_key: ${MOCK_KEY} }
    models:
      - { name: llama, model_id: meta-llama/Llama-3.1-8B, types: [chat] }
`);
});
afterAll(async () => {
  await g.close();
  mock.close();
});

const ask = (c: OpenAI, model: string) => c.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] });

describe("keys and access", () => {
  test("missing, invalid, revoked and expired keys get 401", async () => {
    const res = await fetch(g.url + "/v1/models");
    expect(res.status).toBe(401);
    expect((await res.json()).error.code).toBe("missing_api_key");
    const bad = await ask(g.client("sk-sb-not-a-real-key"), "openai-main/gpt-4o-mini").catch((e) => e);
    expect(bad).toBeInstanceOf(OpenAI.AuthenticationError);

    const expired = g.key("team:eng", { expiresAt: Date.now() - 1000 });
    const e1 = await ask(g.client(expired), "openai-main/gpt-4o-mini").catch((e) => e);
    expect(e1.status).toBe(401);
    expect(e1.error.message).toContain("expired");

    const res2 = await g.admin("/keys", { method: "POST", json: { name: "temp", subject: "team:eng" } });
    const created = await res2.json();
    expect(created.key).toStartWith("sk-sb-");
    expect((await ask(g.client(created.key), "openai-main/gpt-4o-mini")).choices[0]!.message.content).toBe("echo: hi");
    await g.admin(`/keys/${created.id}`, { method: "DELETE" });
    const e2 = await ask(g.client(created.key), "openai-main/gpt-4o-mini").catch((e) => e);
    expect(e2.status).toBe(401);
    expect(e2.error.message).toContain("revoked");
    // the key is never listed again
    const list = await (await g.admin("/keys")).json();
    expect(JSON.stringify(list)).not.toContain(created.key);
  });

  test("a key created with expires_at '30d' works now and expires 30 days ahead", async () => {
    const res = await g.admin("/keys", { method: "POST", json: { name: "month", subject: "team:eng", expires_at: "30d" } });
    const created = await res.json();
    const days = (created.expiresAt - Date.now()) / 864e5;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThan(30.1);
    expect((await ask(g.client(created.key), "openai-main/gpt-4o-mini")).choices[0]!.message.content).toBe("echo: hi");
    const bad = await g.admin("/keys", { method: "POST", json: { name: "x", subject: "team:eng", expires_at: "soon" } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.param).toBe("expires_at");
  });

  test("a model called before an access or model change is checked against the change at once", async () => {
    // targets are cached per model string: the cache must follow every change of accounts, models and access
    const eng = g.client(g.key("user:frank@example.com", { teams: ["eng"] }));
    expect((await ask(eng, "cache-acct/m1")).choices[0]!.message.content).toBe("echo: hi");
    const put = (users: string[]) => g.admin("/accounts/cache-acct/access", { method: "PUT", json: { managers: [], users } });
    expect((await put(["team:ops"])).status).toBe(200);
    const denied = await ask(eng, "cache-acct/m1").catch((e) => e);
    expect(denied.status).toBe(403);
    expect(denied.error.message).toContain("cache-acct/m1");
    expect((await put(["team:eng"])).status).toBe(200);
    expect((await ask(eng, "cache-acct/m1")).choices.length).toBe(1);
    expect((await g.admin("/accounts/cache-acct/models/m1", { method: "DELETE" })).status).toBeLessThan(300);
    const gone = await ask(eng, "cache-acct/m1").catch((e) => e);
    expect(gone.status).toBe(404);
    expect(gone.error.message).toContain("Unknown model 'm1' in account 'cache-acct'");
    expect((await ask(eng, "cache-acct/m2")).choices.length).toBe(1);
  });

  test("account users may call, others get 403 naming the model", async () => {
    const eng = g.key("user:carol@example.com", { teams: ["eng"] });
    const bot = g.key("virtualaccount:ci-bot");
    const stranger = g.key("user:mallory@example.com");
    expect((await ask(g.client(eng), "openai-main/gpt-4o-mini")).choices.length).toBe(1);
    expect((await ask(g.client(bot), "openai-main/gpt-4o-mini")).choices.length).toBe(1);
    const e = await ask(g.client(stranger), "openai-main/gpt-4o-mini").catch((x) => x);
    expect(e).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(e.error.message).toContain("openai-main/gpt-4o-mini");
    expect((await g.client(stranger).models.list()).data).toEqual([]);
  });

  test("authorized_subjects restricts one model", async () => {
    const eng = g.key("user:dave@example.com", { teams: ["eng"] });
    const support = g.key("user:erin@example.com", { teams: ["eng", "support"] });
    const e = await ask(g.client(eng), "openai-main/support-bot").catch((x) => x);
    expect(e.status).toBe(403);
    expect(e.error.message).toBe("Subject 'user:dave@example.com' is not allowed to use the model openai-main/support-bot");
    expect((await ask(g.client(support), "openai-main/support-bot")).choices[0]!.message.content).toBe("echo: hi");
    expect(mock.requests.at(-1)!.body.model).toBe("ft:gpt-4o-mini:acme::abc123");
    const ids = (await g.client(eng).models.list()).data.map((m) => m.id);
    expect(ids).toContain("openai-main/gpt-4o-mini");
    expect(ids).not.toContain("openai-main/support-bot");
  });

  test("managers may call and manage their account, not others", async () => {
    const alice = g.key("user:alice@example.com");
    expect((await ask(g.client(alice), "openai-main/support-bot")).choices.length).toBe(1);
    const h = { authorization: `Bearer ${alice}`, "content-type": "application/json" };
    const mine = await fetch(g.url + "/admin/v1/accounts/openai-main", { headers: h });
    expect(mine.status).toBe(200);
    const body = await mine.json();
    expect(body.auth.api_key).toBe("<redacted>");
    expect(JSON.stringify(body)).not.toContain(MOCK_KEY);
    const other = await fetch(g.url + "/admin/v1/accounts/private-acct", { headers: h });
    expect(other.status).toBe(403);
    expect((await other.json()).error.message).toBe("Your key may not manage the account 'private-acct'");
    const list = await (await fetch(g.url + "/admin/v1/accounts", { headers: h })).json();
    expect(list.data.map((a: any) => a.name)).toEqual(["openai-main"]);
    const mk = await fetch(g.url + "/admin/v1/keys", { method: "POST", headers: h, body: JSON.stringify({ name: "x", subject: "user:x@example.com" }) });
    expect(mk.status).toBe(403);
    expect((await mk.json()).error.message).toBe("Your key may not create keys");
  });

  test("pass-through to an account the key may not use: 403 naming the account, nothing sent upstream", async () => {
    const bob = g.key("user:bob@example.com", { teams: ["eng"] });
    const before = mock.requests.length;
    const r = await fetch(g.url + "/v1/assistants", { headers: { authorization: `Bearer ${bob}`, "x-tfy-provider-name": "private-acct" } });
    expect(r.status).toBe(403);
    expect((await r.json()).error.message).toBe("Subject 'user:bob@example.com' is not allowed to use the account private-acct");
    expect(mock.requests.length).toBe(before);
  });

  test("capability gating: a model without the endpoint's type answers 400", async () => {
    const eng = g.key("user:frank@example.com", { teams: ["eng"] });
    const e = await ask(g.client(eng), "openai-main/whisper-1").catch((x) => x);
    expect(e.status).toBe(400);
    expect(e.error.message).toBe("chat is not supported for the model openai-main/whisper-1");
  });

  test("admin keys may use every account; x-tfy-provider-name names a bare model", async () => {
    const c = new OpenAI({ apiKey: g.adminKey, baseURL: g.url + "/v1", maxRetries: 0, defaultHeaders: { "x-tfy-provider-name": "private-acct" } });
    const r = await ask(c, "llama");
    expect(r.choices[0]!.message.content).toBe("echo: hi");
    expect(mock.requests.at(-1)!.body.model).toBe("meta-llama/Llama-3.1-8B");
  });
});
