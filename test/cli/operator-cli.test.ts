/**
 * The CLI and `serve` as an operator meets them (black-box QA round on the operator surface): a data dir whose
 * master key is missing or wrong, SWITCHBOARD_ADMIN_KEY revoked or rotated, two revokes at once, a start that
 * cannot bind, commands pointed at a data dir that is not there, options a command does not take.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureAdminKey, openGateway } from "../../src/boot.ts";
import { authenticate } from "../../src/http/auth.ts";
import { createKey, listKeys, revokeKey } from "../../src/db/keys-repo.ts";
import { startOpenAIMock, MOCK_KEY, type OpenAIMock } from "../mocks/openai.ts";

const MAIN = join(import.meta.dir, "../../src/main.ts");
let dir: string;
let mock: OpenAIMock;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-operator-"));
  mock = startOpenAIMock();
});
afterAll(() => {
  mock.close();
  rmSync(dir, { recursive: true, force: true });
});

function cli(data: string, args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawnSync([process.execPath, MAIN, ...args], { env: { ...process.env, SWITCHBOARD_DATA_DIR: data, ...env } });
  return { code: p.exitCode, out: p.stdout.toString(), err: p.stderr.toString() };
}

/** An account applied from a file with a literal credential (nothing to set in the environment). */
function withAccount(data: string, extra = "") {
  const file = join(dir, `acct-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, `accounts:\n  - name: main\n    provider: openai\n    base_url: ${mock.url}\n    auth: { api_key: ${MOCK_KEY} }\n${extra}`);
  const r = cli(data, ["apply", "-f", file]);
  expect(r.code).toBe(0);
  return file;
}

describe("master.key", () => {
  test("missing: never replaced by a new one; commands that read no credential still work, the others say to restore it", () => {
    const data = join(dir, "lost-key");
    withAccount(data, "    models: [{ name: m, types: [chat] }]\n");
    renameSync(join(data, "master.key"), join(dir, "lost-key.master.key"));

    const show = cli(data, ["accounts", "show", "main"]);
    expect(show.code).toBe(1);
    expect(show.err).toStartWith(`error: master.key is missing (${join(data, "master.key")}) and the database holds provider credentials encrypted with it: restore the master.key that belongs with this database`);
    expect(show.err).not.toContain("Unsupported state");
    expect(existsSync(join(data, "master.key"))).toBe(false);

    expect(cli(data, ["keys", "list"]).code).toBe(0);
    expect(cli(data, ["logs"]).code).toBe(0);
    expect(cli(data, ["usage"]).code).toBe(0);
    const list = cli(data, ["accounts", "list"]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/main\s+openai\s+m\s+config/);
    expect(cli(data, ["keys", "create", "--name", "k", "--subject", "user:k@example.com"]).code).toBe(0);
    expect(existsSync(join(data, "master.key"))).toBe(false);

    const serve = cli(data, ["serve", "--port", "0", "--host", "127.0.0.1"]);
    expect(serve.code).toBe(1);
    expect(serve.err).toContain("master.key is missing");
    expect(serve.out).not.toContain("Admin API key");
    expect(existsSync(join(data, "master.key"))).toBe(false);

    // restored, everything works again
    renameSync(join(dir, "lost-key.master.key"), join(data, "master.key"));
    expect(cli(data, ["accounts", "show", "main"]).out).toContain("api_key: <redacted>");
  });

  test("another data dir's key: 'does not match this database', and it is left as it is", () => {
    const data = join(dir, "wrong-key");
    withAccount(data);
    const wrong = Buffer.alloc(32, 7).toString("base64") + "\n";
    writeFileSync(join(data, "master.key"), wrong);
    const r = cli(data, ["apply", "-f", withAccountFile()]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("master.key does not match this database");
    expect(readFileSync(join(data, "master.key"), "utf8")).toBe(wrong);
  });

  test("a master.key left readable by others is made the owner's only when the data dir is opened", () => {
    const data = join(dir, "loose-key");
    withAccount(data);
    chmodSync(join(data, "master.key"), 0o644);
    expect(cli(data, ["keys", "list"]).code).toBe(0);
    expect(statSync(join(data, "master.key")).mode & 0o777).toBe(0o600);
  });
});

function withAccountFile() {
  const file = join(dir, "plain.yaml");
  writeFileSync(file, `accounts:\n  - name: main\n    provider: openai\n    auth: { api_key: sk-other-0001 }\n`);
  return file;
}

describe("SWITCHBOARD_ADMIN_KEY", () => {
  const ENV_A = "sk-chosen-admin-key-aaaa";
  const ENV_B = "sk-chosen-admin-key-bbbb";

  test("a new value is registered and works; keys earlier values made keep working and are listed to revoke by hand", () => {
    const data = join(dir, "env-rotate");
    const gw = openGateway({ dataDir: data });
    try {
      const said: string[] = [];
      ensureAdminKey(gw, ENV_A, (l) => said.push(l));
      ensureAdminKey(gw, ENV_A, (l) => said.push(l));
      expect(said).toEqual([]);
      const a = listKeys(gw.store).find((k) => k.name === "admin (SWITCHBOARD_ADMIN_KEY)")!;
      ensureAdminKey(gw, ENV_B, (l) => said.push(l));
      const auth = (k: string) => {
        try {
          return authenticate(gw.registry, new Headers({ authorization: `Bearer ${k}` })).role;
        } catch (e: any) {
          return e.code;
        }
      };
      expect(auth(ENV_B)).toBe("admin");
      // a start never revokes a key something may still use (going back to A, or an upgrade, must not lock anyone out)
      expect(auth(ENV_A)).toBe("admin");
      expect(said).toHaveLength(1);
      expect(said[0]).toMatch(/^SWITCHBOARD_ADMIN_KEY has a new value; keys earlier values made still work \(key_\w+\): revoke them with 'switchboard keys revoke ID' once nothing uses them$/);
      expect(said[0]).toContain(a.id);
      // back to A: nothing new is made, nothing is revoked, nothing said
      ensureAdminKey(gw, ENV_A, (l) => said.push(l));
      expect(said).toHaveLength(1);
      expect(auth(ENV_B)).toBe("admin");
    } finally {
      gw.store.close();
    }
  });

  test("a value that is a revoked key stays revoked, and the start goes on (no restart loop); with no admin key left, one is made", () => {
    const data = join(dir, "env-revoked");
    const gw = openGateway({ dataDir: data });
    const other = createKey(gw.store, { name: "other admin", subject: "user:o@example.com", role: "admin" });
    ensureAdminKey(gw, ENV_A);
    const envKey = listKeys(gw.store).find((k) => k.name === "admin (SWITCHBOARD_ADMIN_KEY)")!;
    revokeKey(gw.store, envKey.id);
    const said: string[] = [];
    // another admin key works: nothing is generated, the env key stays revoked, the start is told
    expect(ensureAdminKey(gw, ENV_A, (l) => said.push(l))).toBeUndefined();
    expect(said).toEqual([`SWITCHBOARD_ADMIN_KEY is the key ${envKey.id} ('admin (SWITCHBOARD_ADMIN_KEY)'), which has been revoked: it does not work; set SWITCHBOARD_ADMIN_KEY to a new value, or unset it`]);
    expect(listKeys(gw.store).find((k) => k.id === envKey.id)!.revokedAt).not.toBeNull();
    // the other admin key revoked as well: the start makes a working one and returns it to print
    // (as a CLI in another process could leave it; revokeKey itself refuses the last one)
    gw.store.sqlite.exec(`update api_keys set revoked_at = 1 where id = '${other.info.id}'`);
    const made = ensureAdminKey(gw, ENV_A, () => {});
    expect(made).toMatch(/^sk-sb-/);
    gw.store.close();
  });

  test("keys list shows the key's kind and 4 characters of it, however short the chosen key", () => {
    const data = join(dir, "env-prefix");
    const gw = openGateway({ dataDir: data });
    ensureAdminKey(gw, ENV_A);
    createKey(gw.store, { name: "team key", subject: "team:eng", teams: ["eng", "ops"] });
    gw.store.close();
    const list = cli(data, ["keys", "list"]).out;
    expect(list).toContain("sk-chos…");
    expect(list).not.toContain("sk-chose");
    expect(list).toMatch(/^id\s+name\s+subject\s+role\s+teams\s+prefix/);
    expect(list).toMatch(/team key\s+team:eng\s+user\s+eng,ops\s+sk-sb-\S{4}…/);
  });
});

test("two processes revoking the last two admin keys at once leave one working", async () => {
  const data = join(dir, "race");
  const gw = openGateway({ dataDir: data });
  const a = createKey(gw.store, { name: "a", subject: "user:a@example.com", role: "admin" }).info.id;
  const b = createKey(gw.store, { name: "b", subject: "user:b@example.com", role: "admin" }).info.id;
  gw.store.close();
  const db = join(data, "switchboard.db");
  const src = join(import.meta.dir, "../../src");
  // a third connection holds the write lock while both revokes start: each has read the keys by the time it gets
  // the lock, unless the read is inside the locked transaction
  const holder = join(dir, "hold.ts");
  writeFileSync(holder, `import { Database } from "bun:sqlite";\nconst d = new Database(${JSON.stringify(db)});\nd.exec("BEGIN IMMEDIATE");\nconsole.log("locked");\nawait Bun.sleep(1500);\nd.exec("COMMIT");\n`);
  const revoker = join(dir, "revoke.ts");
  writeFileSync(
    revoker,
    `import { openStore } from ${JSON.stringify(join(src, "db/client.ts"))};\nimport { revokeKey } from ${JSON.stringify(join(src, "db/keys-repo.ts"))};\n` +
      `const s = openStore(${JSON.stringify(db)});\ntry { revokeKey(s, process.argv[2]!); console.log("revoked"); } catch (e) { console.log("refused: " + (e as Error).message); }\n`,
  );
  const hold = Bun.spawn([process.execPath, holder], { stdout: "pipe" });
  const reader = hold.stdout.getReader();
  await reader.read();
  const runs = [a, b].map((id) => Bun.spawn([process.execPath, revoker, id], { stdout: "pipe" }));
  const outs = await Promise.all(runs.map((p) => new Response(p.stdout).text()));
  await hold.exited;
  expect(outs.map((o) => o.trim().split(":")[0]).sort()).toEqual(["refused", "revoked"]);
  const check = openGateway({ dataDir: data });
  expect(listKeys(check.store).filter((k) => !k.revokedAt)).toHaveLength(1);
  check.store.close();
}, 20000);

describe("serve that cannot start", () => {
  test("a port in use: an accurate error, and no 'shown once' key made and thrown away (the next start makes and prints it)", async () => {
    const busy = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response("") });
    const data = join(dir, "busy-port");
    try {
      const r = cli(data, ["serve", "--port", String(busy.port), "--host", "127.0.0.1"]);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`error: cannot listen on 127.0.0.1:${busy.port}: the port is in use (another switchboard, or another server)\n`);
      expect(r.out).not.toContain("Admin API key");
      expect(cli(data, ["keys", "list"]).out).toBe("(none)\n");
    } finally {
      busy.stop(true);
    }
  });

  test("an invalid --host says so, not 'Is port in use?'", () => {
    const r = cli(join(dir, "bad-host"), ["serve", "--port", "0", "--host", "999.1.1.1"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("cannot listen on '999.1.1.1': it is not a valid listen address");
    expect(existsSync(join(dir, "bad-host"))).toBe(false);
    expect(r.err).not.toContain("in use");
  });
});

describe("commands that read a data dir", () => {
  test("on one that is not there: a clear error, and nothing made", () => {
    const data = join(dir, "no-such-dir");
    for (const args of [["keys", "list"], ["logs"], ["usage"], ["accounts", "list"], ["accounts", "show", "x"], ["keys", "revoke", "key_1"]]) {
      const r = cli(data, args);
      expect(r.code).toBe(2);
      expect(r.err).toBe(`error: no data dir at ${data} (no switchboard.db there); pass --data-dir or set SWITCHBOARD_DATA_DIR to the gateway's (a service's: /var/lib/switchboard)\n`);
    }
    expect(existsSync(data)).toBe(false);
    // an empty dir is no data dir either
    mkdirSync(data);
    expect(cli(data, ["keys", "list"]).code).toBe(2);
    expect(existsSync(join(data, "master.key"))).toBe(false);
  });
});

test("an option or argument a command does not take is an error, not ignored", () => {
  const data = join(dir, "usage-errors");
  expect(cli(data, ["migrate"]).code).toBe(0);
  const by = cli(data, ["logs", "--by", "model"]);
  expect(by.code).toBe(2);
  expect(by.err).toBe("error: '--by' is not an option of 'logs' (see: switchboard logs --help)\n");
  const extra = cli(data, ["serve", "extra"]);
  expect(extra.code).toBe(2);
  expect(extra.err).toBe("error: unexpected argument 'extra' for 'serve' (see: switchboard serve --help)\n");
  expect(cli(data, ["keys", "list", "--name", "x"]).err).toContain("'--name' is not an option of 'keys list'");
  expect(cli(data, ["accounts", "show", "a", "b"]).err).toContain("unexpected argument 'b'");
  expect(cli(data, ["usage", "--by", "model", "--since", "1h"]).code).toBe(0);
});

test("accounts test exits non-zero when nothing could be tried and the credential check fails; says what it checked", async () => {
  const data = join(dir, "test-nothing");
  withAccount(data, "    models: [{ name: whisper-1, types: [audio_transcription] }]\n");
  const run = async () => {
    const p = Bun.spawn([process.execPath, MAIN, "accounts", "test", "main"], { env: { ...process.env, SWITCHBOARD_DATA_DIR: data }, stdout: "pipe" });
    return { out: await new Response(p.stdout).text(), code: await p.exited };
  };
  const good = await run();
  expect(good.code).toBe(0);
  expect(good.out).toMatch(/whisper-1\s+skipped\s+0\s+no test for types audio_transcription/);
  expect(good.out).toMatch(/\(credential: GET \/v1\/models\)\s+ok/);

  const file = join(dir, "bad-cred.yaml");
  writeFileSync(file, `accounts:\n  - name: main\n    provider: openai\n    base_url: ${mock.url}\n    auth: { api_key: sk-wrong-0000 }\n    models: [{ name: whisper-1, types: [audio_transcription] }]\n`);
  expect(cli(data, ["apply", "-f", file]).code).toBe(0);
  const bad = await run();
  expect(bad.code).toBe(1);
  expect(bad.out).toMatch(/\(credential: GET \/v1\/models\)\s+error/);
  expect(bad.out).toContain("No model was tested");
}, 20000);
