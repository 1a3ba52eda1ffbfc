import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { embeddedMigrations } from "../../src/db/migrations.gen.ts";
import { outputUntil } from "../helpers/process.ts";
import { startOpenAIMock, MOCK_KEY, type OpenAIMock } from "../mocks/openai.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
let mock: OpenAIMock;
let dir: string;

function cli(args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args], { env: { ...process.env, SWITCHBOARD_DATA_DIR: join(dir, "data"), ...env } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** For commands that call the mock in this process: spawnSync would block the mock's event loop. */
async function cliAsync(args: string[]) {
  const p = Bun.spawn([process.execPath, MAIN, ...args], { env: { ...process.env, SWITCHBOARD_DATA_DIR: join(dir, "data") }, stdout: "pipe" });
  const out = await new Response(p.stdout).text();
  return { code: await p.exited, out };
}

const yaml = (extra = "") => `
accounts:
  - name: openai-main
    provider: openai
    base_url: ${"${MOCK_URL}"}
    auth: { api_key: ${"${OPENAI_API_KEY}"} }
    models:
      - name: gpt-4o-mini
        types: [chat]
      - name: text-embedding-3-small
        types: [embedding]
    access:
      users: [team:everyone]
${extra}`;

beforeAll(() => {
  mock = startOpenAIMock();
  dir = mkdtempSync(join(tmpdir(), "sb-cli-"));
  writeFileSync(join(dir, "gateway.yaml"), yaml());
});
afterAll(() => {
  mock.close();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({ MOCK_URL: mock.url, OPENAI_API_KEY: MOCK_KEY });

describe("switchboard CLI", () => {
  test("help and version", () => {
    expect(cli(["--help"]).out).toContain("Commands:");
    for (const c of ["serve", "apply", "accounts", "keys", "logs", "usage", "migrate", "version"]) {
      const r = cli([c, "--help"]);
      expect(r.code).toBe(0);
      expect(r.out).toContain("Usage: switchboard");
    }
    expect(cli(["version"]).out.trim()).toMatch(/^\d+\.\d+\.\d+/);
    expect(cli(["nonsense"]).code).toBe(2);
  });

  test("apply: missing env var is a clear error; apply is idempotent; dry-run writes nothing", () => {
    const missing = cli(["apply", "-f", join(dir, "gateway.yaml")], { MOCK_URL: mock.url });
    expect(missing.code).toBe(2);
    expect(missing.err).toContain("environment variable OPENAI_API_KEY is not set");
    const dry = cli(["apply", "-f", join(dir, "gateway.yaml"), "--dry-run"], env());
    expect(dry.out).toContain("+ account openai-main created");
    expect(dry.out).toContain("dry run");
    expect(cli(["accounts", "list"]).out).toBe("(none)\n");
    const first = cli(["apply", "-f", join(dir, "gateway.yaml")], env());
    expect(first.code).toBe(0);
    expect(first.out).toContain("+ account openai-main created");
    const again = cli(["apply", "-f", join(dir, "gateway.yaml")], env());
    expect(again.out).toContain("= account openai-main unchanged");
    expect(again.out).toContain("no changes");
    expect(statSync(join(dir, "data", "master.key")).mode & 0o777).toBe(0o600);
  });

  test("accounts show never prints the credential; accounts test calls each model", async () => {
    const show = cli(["accounts", "show", "openai-main"]);
    expect(show.out).toContain("api_key: <redacted>");
    expect(show.out).not.toContain(MOCK_KEY);
    const t = await cliAsync(["accounts", "test", "openai-main"]);
    expect(t.code).toBe(0);
    expect(t.out).toMatch(/gpt-4o-mini\s+ok/);
    expect(t.out).toMatch(/text-embedding-3-small\s+ok/);
  });

  test("keys create / list / revoke", () => {
    const c = cli(["keys", "create", "--name", "ci", "--subject", "virtualaccount:ci-bot"]);
    expect(c.code).toBe(0);
    const key = /key \(shown once\): (sk-sb-\S+)/.exec(c.out)![1]!;
    const id = /created key (key_\S+)/.exec(c.out)![1]!;
    const list = cli(["keys", "list"]).out;
    expect(list).toContain(id);
    expect(list).not.toContain(key);
    expect(cli(["keys", "create", "--name", "x", "--subject", "bob"]).code).toBe(2);
    expect(cli(["keys", "revoke", id]).out).toContain("revoked");
  });

  test("keys create refuses subjects, teams and expiries that would make a key other than asked for", () => {
    const create = (...args: string[]) => cli(["keys", "create", "--name", "x", ...args], { SWITCHBOARD_DATA_DIR: join(dir, "data-keys") });
    for (const subject of ["user:bob", "user:a b@x.com", "team:Bad Name!", "user: "]) {
      const r = create("--subject", subject);
      expect(r.code).toBe(2);
      expect(r.err).toContain(`got '${subject}'`);
    }
    expect(create("--subject", "user:bob@example.com", "--teams", "eng,Bad Team").err).toContain("'Bad Team' is not a team name");
    for (const expires of ["30", "0", "2020-01-01", "0d", "99999999d"]) {
      const r = create("--subject", "user:bob@example.com", "--expires", expires);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/is not in the future|more than 100 years from now/);
    }
    expect(create("--subject", "user:bob@example.com", "--expires", "30d").code).toBe(0);
  });

  test("apply --dry-run on a data dir that does not exist plans against an empty one and leaves nothing on disk", () => {
    const data = join(dir, "data-never-made");
    const r = cli(["apply", "-f", join(dir, "gateway.yaml"), "--dry-run"], { ...env(), SWITCHBOARD_DATA_DIR: data });
    expect(r.code).toBe(0);
    expect(r.out).toContain("+ account openai-main created");
    expect(r.out).toContain("(dry run: nothing was written)");
    expect(existsSync(data)).toBe(false);
  });

  test("the last working admin key cannot be revoked", () => {
    const data = join(dir, "data-last-admin");
    const made = cli(["keys", "create", "--name", "root", "--subject", "user:root@example.com", "--role", "admin"], { SWITCHBOARD_DATA_DIR: data });
    const id = /created key (key_\S+)/.exec(made.out)![1]!;
    const r = cli(["keys", "revoke", id], { SWITCHBOARD_DATA_DIR: data });
    expect(r.code).toBe(2);
    expect(r.err).toContain("is the last admin key that works");
    // with a second one, the first can go
    cli(["keys", "create", "--name", "root2", "--subject", "user:root2@example.com", "--role", "admin"], { SWITCHBOARD_DATA_DIR: data });
    expect(cli(["keys", "revoke", id], { SWITCHBOARD_DATA_DIR: data }).code).toBe(0);
  });

  test("a missing NAME or ID is a usage error (exit 2), not an unknown ''", () => {
    for (const [args, what] of [
      [["accounts", "test"], "accounts test needs an account name (usage: switchboard accounts test NAME)"],
      [["accounts", "show"], "accounts show needs an account name (usage: switchboard accounts show NAME)"],
      [["accounts", "delete"], "accounts delete needs an account name (usage: switchboard accounts delete NAME)"],
      [["keys", "revoke"], "keys revoke needs a key id (usage: switchboard keys revoke ID)"],
    ] as const) {
      const r = cli([...args]);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`error: ${what}\n`);
    }
    const unknown = cli(["accounts", "show", "nope"]);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toBe("error: unknown account 'nope'\n");
  });

  test("migrate says it created the database on a new data dir, and that it is up to date after", () => {
    const data = join(dir, "data-migrate");
    const n = embeddedMigrations.length;
    const plural = n === 1 ? "" : "s";
    const first = cli(["migrate"], { SWITCHBOARD_DATA_DIR: data });
    expect(first.code).toBe(0);
    expect(first.out).toBe(`created the database at ${data}/switchboard.db: applied ${n} migration${plural}\n`);
    const again = cli(["migrate"], { SWITCHBOARD_DATA_DIR: data });
    expect(again.out).toBe(`database at ${data}/switchboard.db is up to date (${n} migration${plural} applied)\n`);
  });

  test("apply: models out of order are no change; an update says what changed; bad files are clear errors that quote no line", () => {
    const data = join(dir, "data-apply");
    const file = join(dir, "unordered.yaml");
    const write = (models: string, extra = "") =>
      writeFileSync(file, `accounts:\n  - name: openai-main\n    provider: openai\n    auth: { api_key: sk-literal-key-0042 }\n${extra}    models:\n${models}`);
    const run = (...flags: string[]) => cli(["apply", "-f", file, ...flags], { SWITCHBOARD_DATA_DIR: data });
    write("      - { name: zeta, types: [chat] }\n      - { name: alpha, types: [embedding, chat] }\n");
    expect(run().out).toBe("+ account openai-main created\napplied\n");
    expect(run().out).toBe("= account openai-main unchanged\nno changes\n");

    write("      - { name: zeta, types: [chat], max_output_tokens: 100 }\n      - { name: beta, types: [chat] }\n", "    access: { users: [team:everyone] }\n");
    expect(run("--dry-run").out).toBe("~ account openai-main: models (+ beta, ~ zeta, - alpha), access\n(dry run: nothing was written)\n");
    expect(run().out).toBe("~ account openai-main: models (+ beta, ~ zeta, - alpha), access\napplied\n");

    write("      - { name: zeta, types: [chat] }\n      - { name: zeta, types: [embedding] }\n");
    const dup = run("--dry-run");
    expect(dup.code).toBe(2);
    expect(dup.err).toBe(`error: ${file}: Invalid value for 'accounts[0].models[1].name': model 'zeta' is listed twice in account 'openai-main' (also at models[0])\n`);

    writeFileSync(file, "accounts:\n  - name: openai-main\n    provider: openai\n    auth: { api_key: sk-literal-key-0042\n    models: []\n");
    const bad = run();
    expect(bad.code).toBe(2);
    expect(bad.err).toBe(`error: ${file}: invalid YAML at line 5, column 5: Flow map in block collection must be sufficiently indented and end with a }\n`);
    expect(bad.err + bad.out).not.toContain("sk-literal-key");
  });

  test("serve: first start prints an admin key; a key made by the CLI works within a second; SIGHUP re-applies; SIGTERM drains a stream", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const proc = Bun.spawn([process.execPath, MAIN, "serve", "--port", String(port), "--host", "127.0.0.1", "--config", join(dir, "gateway.yaml")], {
      env: { ...process.env, ...env(), SWITCHBOARD_DATA_DIR: join(dir, "data2"), SWITCHBOARD_SHUTDOWN_GRACE_MS: "5000" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = await outputUntil(proc, "listening on");
    expect(out).toContain("config");
    // serve re-executed itself without JSC's FTL tier (src/jit-tiers.ts): the same process, so signals reach it
    if (process.platform === "linux") expect(readFileSync(`/proc/${proc.pid}/environ`, "utf8").split("\0")).toContain("BUN_JSC_useFTLJIT=0");
    const admin = /Admin API key \(shown once, keep it safe\):\s+(sk-sb-\S+)/.exec(out)![1]!;
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(base + "/admin/v1/keys", { headers: { authorization: `Bearer ${admin}` } })).status).toBe(200);

    // a key created by another process on the same data dir
    const made = cli(["keys", "create", "--name", "u", "--subject", "user:zoe@example.com"], { SWITCHBOARD_DATA_DIR: join(dir, "data2") });
    const key = /key \(shown once\): (sk-sb-\S+)/.exec(made.out)![1]!;
    await Bun.sleep(600);
    const client = new OpenAI({ apiKey: key, baseURL: base + "/v1", maxRetries: 0 });
    const r = await client.chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: [{ role: "user", content: "yo" }] });
    expect(r.choices[0]!.message.content).toBe("echo: yo");

    // SIGHUP: the file gains a model
    writeFileSync(join(dir, "gateway.yaml"), yaml().replace("      - name: text-embedding-3-small", "      - name: gpt-4.1\n        types: [chat]\n      - name: text-embedding-3-small"));
    proc.kill("SIGHUP");
    const hup = await outputUntil(proc, "applied\n");
    expect(hup).toContain(`config ${join(dir, "gateway.yaml")}: ~ account openai-main: models (+ gpt-4.1)\n`);
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toContain("openai-main/gpt-4.1");
    // the models are not in alphabetical order in the file: applying it again is still no change
    proc.kill("SIGHUP");
    const hup2 = await outputUntil(proc, "no changes\n");
    expect(hup2).toContain("= account openai-main unchanged\n");
    writeFileSync(join(dir, "gateway.yaml"), yaml());

    // SIGTERM while a slow stream is in flight: the stream still completes
    mock.reply({ stream: (await import("../mocks/openai.ts")).chunks(["a", "b", "c", "d"], "gpt-4o-mini", false), delayMs: 150 });
    const stream = await client.chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: [{ role: "user", content: "x" }], stream: true });
    proc.kill("SIGTERM");
    let text = "";
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? "";
    expect(text).toBe("abcd");
    expect(await proc.exited).toBe(0);

    // the data persists: logs written before exit are read by the CLI
    const logs = cli(["logs", "--since", "1h"], { SWITCHBOARD_DATA_DIR: join(dir, "data2") });
    expect(logs.out).toContain("openai-main/gpt-4o-mini");
    const usage = cli(["usage", "--by", "subject"], { SWITCHBOARD_DATA_DIR: join(dir, "data2") });
    expect(usage.out).toContain("user:zoe@example.com");
  }, 20000);

  test("serve: when the grace period runs out, the calls still in flight are ended as 503s, answered and logged", async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const data = join(dir, "data-grace");
    const proc = Bun.spawn([process.execPath, MAIN, "serve", "--port", String(port), "--host", "127.0.0.1", "--config", join(dir, "gateway.yaml")], {
      env: { ...process.env, ...env(), SWITCHBOARD_DATA_DIR: data, SWITCHBOARD_SHUTDOWN_GRACE_MS: "300" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const out = await outputUntil(proc, "listening on");
    const admin = /Admin API key \(shown once, keep it safe\):\s+(sk-sb-\S+)/.exec(out)![1]!;
    const client = new OpenAI({ apiKey: admin, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
    // an upstream that answers after 3 s, far past the grace period
    mock.reply({ status: 200, json: { id: "late", object: "chat.completion", created: 1, model: "gpt-4o-mini", choices: [] }, delayMs: 3000 });
    const slow = client.chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: [{ role: "user", content: "slow" }] }).catch((e) => e);
    await Bun.sleep(200);
    proc.kill("SIGTERM");
    const e = await slow;
    expect(e.status).toBe(503);
    expect(e.error).toMatchObject({ code: "gateway_shutting_down", message: "The gateway shut down (SIGTERM) before the request finished" });
    expect(await proc.exited).toBe(0);
    const logs = cli(["logs", "--since", "1h"], { SWITCHBOARD_DATA_DIR: data });
    expect(logs.out).toContain("503");
    expect(logs.out).toContain("gateway shut down");
  }, 20000);
});
