/**
 * Test Credentials: one small real call per model of an account, nothing saved, nothing logged. A model no test
 * call fits (audio, images …) is skipped, and says so: it is not reported as working. When no model could be tried,
 * one read-only call checks the credential instead (the provider's model listing), so that `ok` never stands for
 * "nothing was tried".
 */
import { adapterFor } from "../providers/registry.ts";
import { readUntilContent } from "../http/sse.ts";
import type { AccountRecord, CallContext, ModelRecord } from "../providers/types.ts";
import { GatewayError } from "../http/errors.ts";
import { rememberCredentials } from "./credential-scrub.ts";
import type { UpstreamFetch } from "../providers/http1.ts";
import { baseUrlOf, OPENAI_PROFILES, upstreamHeaders } from "../providers/openai/profiles.ts";
import { ANTHROPIC_BASE_URL, ANTHROPIC_VERSION } from "../providers/anthropic/adapter.ts";
import { joinUrl, openAIErrorFields, upstreamError, upstreamFetch } from "../providers/upstream.ts";

export interface ModelTestResult {
  model: string;
  /** null when the model was skipped: not tried, so neither working nor failing */
  ok: boolean | null;
  skipped?: boolean;
  status?: number;
  error?: string;
  /** why a model was skipped */
  detail?: string;
  latency_ms: number;
}

/** The credential check made when no model could be tried. */
export interface CredentialCheck {
  /** what was called, e.g. `GET /models` */
  call: string;
  ok: boolean;
  status?: number;
  error?: string;
  latency_ms: number;
}

export interface AccountTestReport {
  /** true only when something was tried and everything tried worked */
  ok: boolean;
  /** how many models were tried */
  tested: number;
  results: ModelTestResult[];
  credential_check?: CredentialCheck;
  /** what `ok` rests on, when it is not the models' own results */
  message?: string;
}

export async function testAccount(account: AccountRecord, fetchImpl: UpstreamFetch = fetch, timeoutMs = 30_000): Promise<AccountTestReport> {
  // its errors are reported to the caller: an upstream that echoes the credential must not show it
  rememberCredentials(account.name, account.auth);
  const results = await Promise.all([...account.models.values()].map((m) => testModel(account, m, fetchImpl, timeoutMs)));
  const tried = results.filter((r) => !r.skipped);
  if (tried.length > 0) return { ok: tried.every((r) => r.ok), tested: tried.length, results };

  const why = results.length === 0 ? "the account has no models" : "none of its models is a chat or embedding model";
  const check = await checkCredential(account, fetchImpl, timeoutMs);
  if (!check) {
    return { ok: false, tested: 0, results, message: `Nothing was tested: ${why}, and provider '${account.provider}' has no credential check` };
  }
  return {
    ok: check.ok,
    tested: 0,
    results,
    credential_check: check,
    message: `No model was tested (${why}); the credential was checked with ${check.call}${check.ok ? "" : `, which failed`}`,
  };
}

function context(account: AccountRecord, m: ModelRecord, fetchImpl: UpstreamFetch, timeoutMs: number): CallContext {
  return {
    target: { account, model: m, id: `${account.name}/${m.name}` },
    signal: AbortSignal.timeout(timeoutMs),
    fetch: fetchImpl,
    notes: [],
    requestId: "test",
  };
}

async function testModel(account: AccountRecord, m: ModelRecord, fetchImpl: UpstreamFetch, timeoutMs: number): Promise<ModelTestResult> {
  const started = performance.now();
  const ctx = context(account, m, fetchImpl, timeoutMs);
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
      return { model: m.name, ok: null, skipped: true, latency_ms: 0, detail: `no test for types ${m.types.join(", ")}` };
    }
    return { model: m.name, ok: true, status: 200, latency_ms: ms() };
  } catch (e) {
    const err = toError(e, account.name);
    return { model: m.name, ok: false, status: err.status, error: err.message, latency_ms: ms() };
  }
}

/**
 * A call that reads nothing but whether the credential is taken: the model listing of OpenAI-compatible kinds
 * (`GET <base_url>/models`) and Anthropic (`GET /v1/models`). Undefined for kinds without one.
 */
async function checkCredential(account: AccountRecord, fetchImpl: UpstreamFetch, timeoutMs: number): Promise<CredentialCheck | undefined> {
  let url: string;
  let headers: Record<string, string>;
  const profile = OPENAI_PROFILES[account.provider];
  if (profile) {
    url = joinUrl(baseUrlOf(account, profile), "/models");
    headers = { ...upstreamHeaders(account, profile) };
  } else if (account.provider === "anthropic") {
    url = joinUrl(account.baseUrl ?? ANTHROPIC_BASE_URL, "/v1/models");
    headers = { ...account.settings.headers, "anthropic-version": ANTHROPIC_VERSION, ...(account.auth.api_key ? { "x-api-key": account.auth.api_key } : {}) };
  } else return undefined;
  const call = `GET ${new URL(url).pathname}`;
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  const ctx = context(account, { account: account.name, name: "", modelId: "", types: [] } as unknown as ModelRecord, fetchImpl, timeoutMs);
  try {
    const res = await upstreamFetch(ctx, url, { method: "GET", headers });
    const text = await res.text();
    if (!res.ok) throw upstreamError(account.name, res.status, text, openAIErrorFields, res.headers);
    return { call, ok: true, status: res.status, latency_ms: ms() };
  } catch (e) {
    const err = toError(e, account.name);
    return { call, ok: false, status: err.status, error: err.message, latency_ms: ms() };
  }
}

const toError = (e: unknown, account: string) =>
  e instanceof GatewayError ? e : new GatewayError(500, String((e as Error)?.message ?? e), { account });
