/** The OpenAI-compatible adapter's own failure mapping (the end-to-end tests go through the gateway and the SDK). */
import { describe, expect, test } from "bun:test";
import { GatewayError } from "../../src/http/errors.ts";
import type { UpstreamFetch } from "../../src/providers/http1.ts";
import { adapterFor } from "../../src/providers/registry.ts";
import type { AccountRecord, CallContext, ModelRecord } from "../../src/providers/types.ts";

function context(fetch: UpstreamFetch, baseUrl: string | null = "http://127.0.0.1:9/v1"): CallContext {
  const model: ModelRecord = { account: "local", name: "llama", modelId: "meta-llama/Llama-3.1-8B", types: ["chat"] };
  const account: AccountRecord = {
    name: "local",
    provider: "openai-compatible",
    baseUrl: baseUrl ?? undefined,
    auth: { api_key: "sk-local" },
    settings: {},
    access: { managers: [], users: [] },
    models: new Map([["llama", model]]),
  };
  return { target: { account, model, id: "local/llama" }, signal: new AbortController().signal, fetch, notes: [], requestId: "req_test" };
}

const chat = (ctx: CallContext) =>
  adapterFor("openai-compatible", "local")
    .chat(ctx, { model: "local/llama", messages: [{ role: "user", content: "hi" }] })
    .then(
      () => null,
      (e) => e,
    );

describe("OpenAI-compatible adapter: failures", () => {
  test("an account without a base URL is a 500 naming it, and nothing is sent", async () => {
    let sent = 0;
    const e = await chat(context((async () => (sent++, new Response("{}"))) as unknown as UpstreamFetch, null));
    expect(e).toBeInstanceOf(GatewayError);
    expect(e.status).toBe(500);
    expect(e.code).toBe("account_misconfigured");
    expect(e.message).toContain("'local'");
    expect(sent).toBe(0);
  });

  test("a client that throws at once or rejects later is a 502 naming the account", async () => {
    const refused = Object.assign(new TypeError("ECONNREFUSED: Unable to connect"), { code: "ECONNREFUSED" });
    for (const f of [
      (() => {
        throw refused;
      }) as unknown as UpstreamFetch,
      (async () => {
        throw refused;
      }) as unknown as UpstreamFetch,
    ]) {
      const e = await chat(context(f));
      expect(e).toBeInstanceOf(GatewayError);
      expect(e.status).toBe(502);
      expect(e.message).toBe("Could not reach account 'local': ECONNREFUSED");
    }
  });

  test("an upstream error status keeps its status and message; the body sent carries the upstream model id", async () => {
    let body: any;
    const f = (async (_url: string, init: RequestInit) => {
      body = JSON.parse(init.body as string);
      return new Response(JSON.stringify({ error: { message: "Rate limit reached", type: "requests", code: "rate_limit_exceeded" } }), { status: 429 });
    }) as unknown as UpstreamFetch;
    const e = await chat(context(f));
    expect(e).toBeInstanceOf(GatewayError);
    expect(e.status).toBe(429);
    expect(e.message).toContain("Rate limit reached");
    expect(e.message).toContain("'local'");
    expect(body.model).toBe("meta-llama/Llama-3.1-8B");
    expect(body.messages).toEqual([{ role: "user", content: "hi" }]);
  });
});
