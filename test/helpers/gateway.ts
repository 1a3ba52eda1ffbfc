/** Test harness: a gateway on a temp data dir, port 0, with the given config applied and keys made. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import OpenAI from "openai";
import { openGateway, serve } from "../../src/boot.ts";
import { applyConfig } from "../../src/config/apply.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import type { GatewaySettings } from "../../src/core/gateway.ts";
import { createKey } from "../../src/db/keys-repo.ts";

export interface TestGateway {
  url: string;
  dataDir: string;
  gw: ReturnType<typeof openGateway>;
  adminKey: string;
  key(subject: string, opts?: { teams?: string[]; role?: "admin" | "user"; expiresAt?: number }): string;
  client(key: string, prefix?: string): OpenAI;
  /** an admin API call, with the admin key or the key given (an account manager's, a user's) */
  admin(path: string, init?: RequestInit & { json?: unknown }, key?: string): Promise<Response>;
  /** flush queued request logs and return them, newest first */
  logs(): any[];
  close(): Promise<void>;
}

export async function startGateway(yaml: string, settings: Partial<GatewaySettings> = {}): Promise<TestGateway> {
  const dataDir = mkdtempSync(join(tmpdir(), "sb-test-"));
  const gw = openGateway({ dataDir, settings, logFlushMs: 10 });
  applyConfig(gw, parseConfig(yaml, "test.yaml"));
  gw.registry.reload();
  const { server, url } = serve(gw, { port: 0, hostname: "127.0.0.1" });
  const adminKey = createKey(gw.store, { name: "admin", subject: "user:admin@example.com", role: "admin" }).key;
  gw.registry.reload();
  return {
    url,
    dataDir,
    gw,
    adminKey,
    key(subject, opts = {}) {
      const k = createKey(gw.store, { name: subject, subject, ...opts }).key;
      gw.registry.reload();
      return k;
    },
    client: (key, prefix = "/v1") => new OpenAI({ apiKey: key, baseURL: url + prefix, maxRetries: 0 }),
    admin: (path, init = {}, key = adminKey) =>
      fetch(url + "/admin/v1" + path, {
        ...init,
        headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...(init.headers as any) },
        body: init.json !== undefined ? JSON.stringify(init.json) : init.body,
      }),
    logs() {
      gw.logs.flush();
      return gw.store.sqlite.query("select * from request_logs order by ts desc, rowid desc").all();
    },
    async close() {
      await server.stop(true);
      gw.logs.flush();
      gw.store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A config with one OpenAI account (`openai-main`, model gpt-4o-mini) at `url`, open to every key. */
export function openAIAccountConfig(url: string, apiKey: string): string {
  return `accounts:
  - name: openai-main
    provider: openai
    base_url: ${url}
    auth: { api_key: ${apiKey} }
    models: [{ name: gpt-4o-mini, types: [chat] }]
    access: { users: [team:everyone] }
`;
}
