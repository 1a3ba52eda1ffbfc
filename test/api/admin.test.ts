import { afterAll, beforeAll, describe, expect, test } from "bun:test";
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

describe("admin API", () => {
  test("create an account, use it, edit models and access, never see the credential", async () => {
    const spec = {
      name: "openai-eu",
      provider: "openai",
      base_url: mock.url,
      auth: { api_key: MOCK_KEY },
      models: [{ name: "gpt-4o-mini", types: ["chat"] }],
      access: { users: ["team:eng"] },
    };
    const created = await g.admin("/accounts", { method: "POST", json: spec });
    expect(created.status).toBe(201);
    const body = await created.json();
    expect(body.auth).toEqual({ api_key: "<redacted>" });
    expect((await g.admin("/accounts", { method: "POST", json: spec })).status).toBe(409);

    const bad = await g.admin("/accounts", { method: "POST", json: { ...spec, name: "Bad_Name" } });
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.param).toBe("name");
    const badType = await g.admin("/accounts", { method: "POST", json: { ...spec, name: "x-y-z", models: [{ name: "m", types: ["chatt"] }] } });
    expect((await badType.json()).error.param).toBe("models[0].types[0]");

    const eng = g.key("user:amy@example.com", { teams: ["eng"] });
    expect((await g.client(eng).chat.completions.create({ model: "openai-eu/gpt-4o-mini", messages: [{ role: "user", content: "q" }] })).choices[0]!.message.content).toBe("echo: q");

    // add a model; it is usable at once
    const add = await g.admin("/accounts/openai-eu/models", { method: "POST", json: { name: "emb", model_id: "text-embedding-3-small", types: ["embedding"] } });
    expect(add.status).toBe(201);
    const e = await g.client(eng).embeddings.create({ model: "openai-eu/emb", input: "x" });
    expect(e.data.length).toBe(1);
    expect(mock.requests.at(-1)!.body.model).toBe("text-embedding-3-small");

    // a GET → PUT round trip keeps the credential
    const got = await (await g.admin("/accounts/openai-eu")).json();
    const put = await g.admin("/accounts/openai-eu", { method: "PUT", json: { ...got, access: { users: ["team:eng", "team:ops"] } } });
    expect((await put.json()).change).toBe("updated");
    const again = await g.client(eng).chat.completions.create({ model: "openai-eu/gpt-4o-mini", messages: [{ role: "user", content: "z" }] });
    expect(again.choices[0]!.message.content).toBe("echo: z");
    expect(mock.requests.at(-1)!.headers.authorization).toBe(`Bearer ${MOCK_KEY}`);

    // revoke access
    await g.admin("/accounts/openai-eu/access", { method: "PUT", json: { users: ["team:ops"] } });
    const denied = await g.client(eng).chat.completions.create({ model: "openai-eu/gpt-4o-mini", messages: [{ role: "user", content: "z" }] }).catch((x) => x);
    expect(denied.status).toBe(403);

    const del = await g.admin("/accounts/openai-eu", { method: "DELETE" });
    expect((await del.json()).deleted).toBe(true);
    const gone = await g.client(g.adminKey).chat.completions.create({ model: "openai-eu/gpt-4o-mini", messages: [{ role: "user", content: "z" }] }).catch((x) => x);
    expect(gone.status).toBe(404);
  });

  test("account validation: duplicate model names and a missing base_url are 400s naming the field", async () => {
    const error = async (r: Response) => {
      expect(r.status).toBe(400);
      return (await r.json()).error;
    };
    const spec = { name: "val-acct", provider: "openai", auth: { api_key: MOCK_KEY }, models: [{ name: "gpt-4o", types: ["chat"] }] };
    const twice = { ...spec, models: [{ name: "gpt-4o", types: ["chat"] }, { name: "gpt-4o", types: ["embedding"] }] };
    expect(await error(await g.admin("/accounts", { method: "POST", json: twice }))).toEqual({
      message: "Invalid value for 'models[1].name': model 'gpt-4o' is listed twice in account 'val-acct' (also at models[0])",
      type: "invalid_request_error",
      param: "models[1].name",
      code: "invalid_value",
    });
    for (const provider of ["openai-compatible", "azure-openai"]) {
      expect(await error(await g.admin("/accounts", { method: "POST", json: { ...spec, provider } }))).toEqual({
        message: `Missing required parameter: 'base_url' (account 'val-acct': provider '${provider}' has no default base URL)`,
        type: "invalid_request_error",
        param: "base_url",
        code: "missing_required_parameter",
      });
    }
    expect((await g.admin("/accounts/val-acct")).status).toBe(404);

    // PUT takes the same shape: creating and updating are checked alike
    expect((await error(await g.admin("/accounts/val-acct", { method: "PUT", json: twice }))).param).toBe("models[1].name");
    expect((await g.admin("/accounts", { method: "POST", json: { ...spec, provider: "openai-compatible", base_url: mock.url } })).status).toBe(201);
    const stored = await (await g.admin("/accounts/val-acct")).json();
    const noUrl = { ...stored, base_url: undefined };
    expect((await error(await g.admin("/accounts/val-acct", { method: "PUT", json: noUrl }))).param).toBe("base_url");
    expect((await error(await g.admin("/accounts/val-acct", { method: "PUT", json: { ...stored, models: twice.models } }))).param).toBe("models[1].name");
    // the GET → PUT round trip with its models in another order is no change
    const more = await g.admin("/accounts/val-acct", { method: "PUT", json: { ...stored, models: [{ name: "zz", types: ["chat"] }, ...stored.models] } });
    expect((await more.json()).change).toBe("updated");
    const got = await (await g.admin("/accounts/val-acct")).json();
    const same = await g.admin("/accounts/val-acct", { method: "PUT", json: { ...got, models: [...got.models].reverse() } });
    expect((await same.json()).change).toBe("unchanged");
    await g.admin("/accounts/val-acct", { method: "DELETE" });
  });

  test("test credentials reports per model and saves nothing", async () => {
    await g.admin("/accounts", {
      method: "POST",
      json: {
        name: "half-bad",
        provider: "openai",
        base_url: mock.url,
        auth: { api_key: MOCK_KEY },
        models: [
          { name: "gpt-4o-mini", types: ["chat"] },
          { name: "emb", model_id: "text-embedding-3-small", types: ["embedding"] },
          { name: "whisper-1", types: ["audio_transcription"] },
        ],
      },
    });
    const before = g.logs().length;
    const r = await (await g.admin("/accounts/half-bad/test", { method: "POST" })).json();
    expect(r.results.find((x: any) => x.model === "gpt-4o-mini")).toMatchObject({ ok: true });
    expect(r.results.find((x: any) => x.model === "emb")).toMatchObject({ ok: true });
    expect(r.results.find((x: any) => x.model === "whisper-1")).toMatchObject({ skipped: true });
    expect(g.logs().length).toBe(before);

    await g.admin("/accounts/half-bad", { method: "PUT", json: { ...(await (await g.admin("/accounts/half-bad")).json()), auth: { api_key: "sk-bad" } } });
    const r2 = await (await g.admin("/accounts/half-bad/test", { method: "POST" })).json();
    expect(r2.ok).toBe(false);
    expect(r2.results[0].status).toBe(401);
    expect(JSON.stringify(r2)).not.toContain("sk-bad");
  });

  test("catalogue lists models with prices per 1M tokens", async () => {
    const r = await (await g.admin("/catalog/openai")).json();
    const m = r.data.find((x: any) => x.id === "gpt-4o-mini");
    expect(m).toMatchObject({ input: 0.15, output: 0.6, cache_read: 0.075 });
    const a = await (await g.admin("/catalog/anthropic")).json();
    expect(a.data.length).toBeGreaterThan(5);
    expect((await g.admin("/catalog/nope")).status).toBe(404);
  });

  test("keys: subjects and expiries checked; the last working admin key cannot be revoked", async () => {
    const post = (body: object) => g.admin("/keys", { method: "POST", json: body });
    for (const subject of ["user:bob", "team:Bad Name!", "user: "]) expect((await post({ name: "x", subject })).status).toBe(400);
    for (const expires_at of [-5, "30", "2020-01-01", 0]) {
      const r = await post({ name: "x", subject: "user:bob@example.com", expires_at });
      expect(r.status).toBe(400);
      expect((await r.json()).error.param).toBe("expires_at");
    }
    const ok = await post({ name: "x", subject: "user:bob@example.com", expires_at: "7d" });
    expect(ok.status).toBe(201);
    // the harness's admin key is the only admin key
    const keys = (await (await g.admin("/keys")).json()).data;
    const admins = keys.filter((k: any) => k.role === "admin" && !k.revokedAt);
    expect(admins).toHaveLength(1);
    const last = await g.admin(`/keys/${admins[0].id}`, { method: "DELETE" });
    expect(last.status).toBe(409);
    expect((await last.json()).error).toMatchObject({ code: "last_admin_key" });
    expect((await g.admin("/keys")).status).toBe(200);
  });

  test("logs and usage", async () => {
    await g.admin("/accounts", {
      method: "POST",
      json: { name: "billing", provider: "openai", base_url: mock.url, auth: { api_key: MOCK_KEY }, models: [{ name: "gpt-4o-mini", types: ["chat"] }], access: { users: ["team:everyone"] } },
    });
    const k = g.key("user:ivy@example.com");
    for (let i = 0; i < 3; i++) await g.client(k).chat.completions.create({ model: "billing/gpt-4o-mini", messages: [{ role: "user", content: "x" }] });
    const logs = await (await g.admin("/logs?account=billing&since=1h")).json();
    expect(logs.data.length).toBe(3);
    expect(logs.data[0]).toMatchObject({ subject: "user:ivy@example.com", model: "gpt-4o-mini", promptTokens: 11, completionTokens: 7, status: 200 });
    const usage = await (await g.admin("/usage?by=model")).json();
    const row = usage.data.find((x: any) => x.key === "billing/gpt-4o-mini");
    expect(row.requests).toBe(3);
    expect(row.prompt_tokens).toBe(33);
    // catalogue price of gpt-4o-mini: 0.15 in / 0.6 out per 1M
    expect(row.cost_usd).toBeCloseTo(3 * (11 * 0.15 + 7 * 0.6) / 1e6, 12);
    expect((await g.admin("/usage?by=color")).status).toBe(400);
    // a page at a time, with the cursor of the next
    const first = await (await g.admin("/logs?account=billing&limit=2")).json();
    expect(first.data.length).toBe(2);
    expect(first.has_more).toBe(true);
    const rest = await (await g.admin(`/logs?account=billing&limit=2&before=${first.next_before}`)).json();
    expect(rest.data.length).toBe(1);
    expect(rest.has_more).toBe(false);
    expect(new Set([...first.data, ...rest.data].map((r: any) => r.id)).size).toBe(3);
    // a limit that is not 1..1000 is refused, not read as "every row"
    for (const bad of ["-1", "abc", "5000"]) {
      const r = await g.admin(`/logs?limit=${bad}`);
      expect(r.status).toBe(400);
      expect((await r.json()).error.param).toBe("limit");
    }
    expect((await (await g.admin("/logs?before=x")).json()).error.param).toBe("before");
  });
});

describe("account edits by a manager", () => {
  test("a manager may not send the stored credential somewhere else; an edit keeps the account the config file's", async () => {
    const { applyConfig } = await import("../../src/config/apply.ts");
    const { parseConfig } = await import("../../src/config/load-config.ts");
    const file = (extra = "") =>
      parseConfig(`accounts:
  - name: managed
    provider: openai-compatible
    base_url: ${mock.url}
    auth: { api_key: sk-managed-secret-000 }
    models: [{ name: m, types: [chat] }]
    access: { managers: [user:mia@example.com] }
${extra}`);
    applyConfig(g.gw, file());
    g.gw.registry.reload();
    const mia = g.key("user:mia@example.com");
    const asMia = (path: string, init: RequestInit & { json?: unknown } = {}) => g.admin(path, init, mia);
    const shown = await (await asMia("/accounts/managed")).json();
    expect(shown.auth.api_key).toBe("<redacted>");
    // the shown account with another base URL, its credential kept: refused
    const moved = await asMia("/accounts/managed", { method: "PUT", json: { ...shown, base_url: "http://attacker.example/v1" } });
    expect(moved.status).toBe(403);
    expect((await moved.json()).error).toMatchObject({ code: "credential_destination_change", param: "base_url" });
    const headers = await asMia("/accounts/managed", { method: "PUT", json: { ...shown, headers: { "x-forward-to": "elsewhere" } } });
    expect(headers.status).toBe(403);
    // a stored header that carries a secret is a credential too: kept, it may not go to a new destination
    applyConfig(g.gw, file("    headers: { x-api-token: hdr-secret-999999 }\n"));
    g.gw.registry.reload();
    const withHeader = await (await asMia("/accounts/managed")).json();
    expect(withHeader.headers).toEqual({ "x-api-token": "<redacted>" });
    const smuggled = await asMia("/accounts/managed", { method: "PUT", json: { ...withHeader, base_url: "http://attacker.example/v1", auth: { api_key: "sk-mias-own-key" } } });
    expect(smuggled.status).toBe(403);
    // with a credential of the manager's own, it may move; other edits are the manager's to make
    expect((await asMia("/accounts/managed", { method: "PUT", json: { ...shown, base_url: "http://other.example/v1", auth: { api_key: "sk-mias-own-key" } } })).status).toBe(200);
    expect((await asMia("/accounts/managed", { method: "PUT", json: { ...shown, base_url: "http://other.example/v1", auth: { api_key: "<redacted>" }, models: [{ name: "m2", types: ["chat"] }] } })).status).toBe(200);
    // still the file's: an apply without it deletes it
    const r = applyConfig(g.gw, parseConfig("accounts: []\n"));
    expect(r.changes).toContainEqual({ account: "managed", change: "deleted" });
  });
});

test("extra headers that carry a secret are shown redacted, kept by a round trip, and cut out like the credential; others are left alone", async () => {
  const created = await g.admin("/accounts", {
    method: "POST",
    json: { name: "hdr-acct", provider: "openai-compatible", base_url: mock.url, auth: { api_key: MOCK_KEY }, headers: { "x-upstream-token": "hdr-secret-token-123456", "x-team": "engineering-team" }, models: [{ name: "m", types: ["chat"] }] },
  });
  expect(created.status).toBe(201);
  const shown = await (await g.admin("/accounts/hdr-acct")).json();
  // only a header whose name says it holds a secret
  expect(shown.headers).toEqual({ "x-upstream-token": "<redacted>", "x-team": "engineering-team" });
  expect(JSON.stringify(shown)).not.toContain("hdr-secret-token");
  // a round trip of what was shown keeps the value (the upstream still gets it)
  expect((await g.admin("/accounts/hdr-acct", { method: "PUT", json: { ...shown, models: [{ name: "m", types: ["chat"] }, { name: "m2", types: ["chat"] }] } })).status).toBe(200);
  const { scrubCredentials } = await import("../../src/core/credential-scrub.ts");
  expect(g.gw.registry.accounts.get("hdr-acct")!.settings.headers).toEqual({ "x-upstream-token": "hdr-secret-token-123456", "x-team": "engineering-team" });
  expect(scrubCredentials("hdr-acct", "token hdr-secret-token-123456 refused")).toBe("token <redacted> refused");
  // an ordinary header value is no secret: an answer that says it is left as it is
  expect(scrubCredentials("hdr-acct", "our engineering-team uses it")).toBe("our engineering-team uses it");
});
