/**
 * The single executable: built with `bun build --compile`, copied alone into an empty directory, it creates its data
 * dir, applies a config, serves the OpenAI SDK, and keeps its data across a restart.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, readFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { outputUntil } from "../helpers/process.ts";
import { MOCK_KEY, startOpenAIMock, type OpenAIMock } from "../mocks/openai.ts";

let dir: string;
let mock: OpenAIMock;
const root = join(import.meta.dir, "../..");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-bin-"));
  mock = startOpenAIMock();
});
afterAll(() => {
  mock.close();
  rmSync(dir, { recursive: true, force: true });
});

async function start(cwd: string, port: number, extra: string[] = []) {
  const proc = Bun.spawn(["./switchboard", "serve", "--port", String(port), "--host", "127.0.0.1", "--config", "gateway.yaml", ...extra], {
    cwd,
    env: { PATH: process.env.PATH ?? "", UPSTREAM_KEY: MOCK_KEY },
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = await outputUntil(proc, "listening on");
  return { proc, out };
}

test("dist binary runs from an empty directory and keeps its data across restarts", async () => {
  // as `npm run build` builds it: the checkpoint thread's module is a second entry point
  const build = Bun.spawnSync([process.execPath, "build", "src/main.ts", "src/db/checkpoint-worker.ts", "--compile", "--minify", "--bytecode", "--outfile", join(dir, "build", "switchboard")], { cwd: root });
  expect(build.exitCode).toBe(0);
  const run = join(dir, "run");
  await Bun.write(join(run, ".keep"), "");
  rmSync(join(run, ".keep"));
  copyFileSync(join(dir, "build", "switchboard"), join(run, "switchboard"));
  Bun.spawnSync(["chmod", "+x", join(run, "switchboard")]);
  writeFileSync(
    join(run, "gateway.yaml"),
    `accounts:\n  - name: openai-main\n    provider: openai\n    base_url: ${mock.url}\n    auth: { api_key: \${UPSTREAM_KEY} }\n    models:\n      - { name: gpt-4o-mini, types: [chat] }\n    access: { users: [team:everyone] }\n`,
  );
  const port = 21000 + Math.floor(Math.random() * 20000);
  const first = await start(run, port);
  const admin = /Admin API key \(shown once, keep it safe\):\s+(sk-sb-\S+)/.exec(first.out)![1]!;
  // the executable re-executed itself without JSC's FTL tier (src/jit-tiers.ts), as the same process and program
  if (process.platform === "linux") {
    expect(readFileSync(`/proc/${first.proc.pid}/environ`, "utf8").split("\0")).toContain("BUN_JSC_useFTLJIT=0");
    expect(readFileSync(`/proc/${first.proc.pid}/cmdline`, "utf8").split("\0").slice(1, 3)).toEqual(["serve", "--port"]);
  }
  expect(readdirSync(join(run, "data")).sort()).toContain("switchboard.db");
  expect(existsSync(join(run, "data", "master.key"))).toBe(true);
  const client = new OpenAI({ apiKey: admin, baseURL: `http://127.0.0.1:${port}/v1`, maxRetries: 0 });
  const r = await client.chat.completions.create({ model: "openai-main/gpt-4o-mini", messages: [{ role: "user", content: "from the binary" }] });
  expect(r.choices[0]!.message.content).toBe("echo: from the binary");
  first.proc.kill("SIGTERM");
  expect(await first.proc.exited).toBe(0);

  // restart: no new admin key, the old one still works, the log of the first run is there
  // (with the optional checkpoint thread: its Worker loads from inside the executable)
  const second = await start(run, port + 1, ["--checkpoint-thread"]);
  expect(second.out).not.toContain("Admin API key");
  const logs = await fetch(`http://127.0.0.1:${port + 1}/admin/v1/logs`, { headers: { authorization: `Bearer ${admin}` } }).then((x) => x.json());
  expect(logs.data.length).toBe(1);
  expect(logs.data[0]).toMatchObject({ account: "openai-main", model: "gpt-4o-mini", status: 200, promptTokens: 11 });
  // priced from the catalogue bundled in the binary: gpt-4o-mini at 0.15 / 0.6 USD per 1M
  expect(logs.data[0].costUsd).toBeCloseTo((11 * 0.15 + 7 * 0.6) / 1e6, 12);
  second.proc.kill("SIGTERM");
  expect(await second.proc.exited).toBe(0);
  expect(await new Response(second.proc.stderr).text()).not.toContain("checkpoint thread stopped");
}, 60_000);
