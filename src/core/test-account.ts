/** Test Credentials: one small real call per model of an account, nothing saved, nothing logged. */
import { adapterFor } from "../providers/registry.ts";
import { readUntilContent } from "../http/sse.ts";
import type { AccountRecord, CallContext, ModelRecord } from "../providers/types.ts";
import { GatewayError } from "../http/errors.ts";
import { rememberCredentials } from "./credential-scrub.ts";
import type { UpstreamFetch } from "../providers/http1.ts";

export interface ModelTestResult {
  model: string;
  ok: boolean;
  skipped?: boolean;
  status?: number;
  error?: string;
  latency_ms: number;
}

export async function testAccount(account: AccountRecord, fetchImpl: UpstreamFetch = fetch, timeoutMs = 30_000): Promise<ModelTestResult[]> {
  // its errors are reported to the caller: an upstream that echoes the credential must not show it
  rememberCredentials(account.name, account.auth);
  return Promise.all([...account.models.values()].map((m) => testModel(account, m, fetchImpl, timeoutMs)));
}

async function testModel(account: AccountRecord, m: ModelRecord, fetchImpl: UpstreamFetch, timeoutMs: number): Promise<ModelTestResult> {
  const started = performance.now();
  const ctx: CallContext = {
    target: { account, model: m, id: `${account.name}/${m.name}` },
    signal: AbortSignal.timeout(timeoutMs),
    fetch: fetchImpl,
    notes: [],
    requestId: "test",
  };
  const ms = () => Math.round(performance.now() - started);
  try {
    const adapter = adapterFor(account.provider, account.name);
    if (m.types.includes("chat")) {
      const r = await adapter.chat(ctx, { model: ctx.target.id, messages: [{ role: "user", content: "ping" }], max_tokens: 1 });
      if (r.stream) {
        await readUntilContent(r.items, account.name);
        r.items.cancel().catch(() => {});
      }
    } else if (m.types.includes("embedding") && adapter.embeddings) {
      await adapter.embeddings(ctx, { model: ctx.target.id, input: "ping" });
    } else {
      return { model: m.name, ok: true, skipped: true, latency_ms: 0, error: `no test for types ${m.types.join(", ")}` };
    }
    return { model: m.name, ok: true, status: 200, latency_ms: ms() };
  } catch (e) {
    const err = e instanceof GatewayError ? e : new GatewayError(500, String((e as Error)?.message ?? e), { account: account.name });
    return { model: m.name, ok: false, status: err.status, error: err.message, latency_ms: ms() };
  }
}
