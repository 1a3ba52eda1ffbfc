/**
 * `apply` from the CLI while a server writes to the same database: each apply takes the write lock before it reads
 * (a deferred transaction that read first failed at once with "database is locked" when the server committed in
 * between, 3 times in 40 under load).
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openGateway } from "../../src/boot.ts";
import { applyConfig } from "../../src/config/apply.ts";
import { parseConfig } from "../../src/config/load-config.ts";

const dir = mkdtempSync(join(tmpdir(), "sb-apply-lock-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

test("applies succeed while another process commits log rows as fast as it can", async () => {
  const gw = openGateway({ dataDir: dir });
  // another process on the same database: a server's request log, committing a row at a time
  const writer = join(dir, "writer.ts");
  writeFileSync(
    writer,
    `import { Database } from "bun:sqlite";
const db = new Database(${JSON.stringify(join(dir, "switchboard.db"))});
db.exec("PRAGMA busy_timeout = 5000");
const ins = db.prepare("insert into request_logs (id, ts, endpoint, method, status, stream, latency_ms) values (?, ?, 'chat/completions', 'POST', 200, 0, 1)");
const end = Date.now() + 4000;
let i = 0;
console.log("ready");
while (Date.now() < end) ins.run("w" + i++, Date.now());
`,
  );
  const proc = Bun.spawn([process.execPath, writer], { stdout: "pipe", stderr: "inherit" });
  const reader = proc.stdout.getReader();
  await reader.read();
  const config = (cost: number) =>
    parseConfig(`accounts:
  - name: acct
    provider: openai
    auth: { api_key: sk-test-000000 }
    models:
      - { name: b, types: [chat], cost: { input: ${cost}, output: 1 } }
      - { name: a, types: [chat] }
`);
  let failures = 0;
  for (let i = 0; i < 40; i++) {
    try {
      const r = applyConfig(gw, config(i % 2 ? 0.1 : 0.2));
      expect(r.changed).toBe(true);
    } catch (e) {
      failures++;
      console.error((e as Error).message);
    }
    await Bun.sleep(5);
  }
  proc.kill();
  await proc.exited;
  gw.store.close();
  expect(failures).toBe(0);
}, 20000);
