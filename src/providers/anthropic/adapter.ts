/**
 * The Anthropic provider: OpenAI chat completions in, Anthropic Messages API upstream, OpenAI out.
 * All translation lives in the pure modules next to this file (shared later by Claude on Vertex AI
 * and Bedrock); this file only does the HTTP call.
 *
 * @see https://docs.anthropic.com/en/api/messages
 */
import { GatewayError } from "../../http/errors.ts";
import type { AccountRecord, CallContext, ChatResult, ProviderAdapter } from "../types.ts";
import { joinUrl, upstreamFetch } from "../upstream.ts";
import { anthropicErrorInAnswer, anthropicHttpError, isAnthropicErrorBody } from "./anthropic-error.ts";
import { anthropicItemSource } from "./anthropic-stream.ts";
import type { AnthropicMessage } from "./anthropic-types.ts";
import { fromAnthropicResponse } from "./from-anthropic-response.ts";
import { maxOutputTokens } from "./max-output-tokens.ts";
import { toAnthropicRequest } from "./to-anthropic-request.ts";

export const ANTHROPIC_BASE_URL = "https://api.anthropic.com";
export const ANTHROPIC_VERSION = "2023-06-01";

export const anthropicAdapter: ProviderAdapter = {
  async chat(ctx: CallContext, body: Record<string, any>): Promise<ChatResult> {
    const { account, model } = ctx.target;
    const request = toAnthropicRequest(body, {
      model: model.modelId,
      defaultMaxTokens: maxOutputTokens(model),
      dropUnsupported: account.settings.drop_unsupported_params === true,
    });
    ctx.notes.push(...request.notes);

    const url = joinUrl(account.baseUrl ?? ANTHROPIC_BASE_URL, "/v1/messages");
    const res = await upstreamFetch(ctx, url, {
      method: "POST",
      headers: anthropicHeaders(account, request.betas),
      body: JSON.stringify(request.body),
    });
    if (!res.ok) throw anthropicHttpError(account.name, res.status, await res.text(), res.headers);

    if (request.stream) {
      if (!res.body) throw malformed(account.name, "a stream without a body");
      // a JSON answer to a stream request: an error envelope sent with a 200 (else not a stream at all)
      if (res.headers.get("content-type")?.toLowerCase().includes("application/json")) {
        const text = await res.text();
        const body = parseJson(text);
        if (isAnthropicErrorBody(body)) throw anthropicErrorInAnswer(account.name, text, body, res.headers);
        throw malformed(account.name, "JSON where a stream was asked for");
      }
      return { stream: true, items: anthropicItemSource(res.body, { account: account.name, jsonTool: request.jsonTool }) };
    }
    const text = res.bufferedText?.() ?? (await res.text());
    const message = parseJson(text) as AnthropicMessage | undefined;
    if (message === undefined) throw malformed(account.name, "a body that is not JSON");
    if (isAnthropicErrorBody(message)) throw anthropicErrorInAnswer(account.name, text, message, res.headers);
    if (!message || typeof message !== "object" || !Array.isArray(message.content)) {
      throw malformed(account.name, "a body that is not a message");
    }
    return { stream: false, body: fromAnthropicResponse(message, { jsonTool: request.jsonTool }) };
  },
};

/**
 * Anthropic's headers, then the account's extra headers (which may override them). `anthropic-beta`
 * values from the account and from the request's features are combined, comma-separated.
 */
export function anthropicHeaders(account: AccountRecord, betas: string[]): Headers {
  const headers = new Headers({
    "content-type": "application/json",
    "x-api-key": account.auth.api_key ?? "",
    "anthropic-version": ANTHROPIC_VERSION,
  });
  for (const [name, value] of Object.entries(account.settings.headers ?? {})) headers.set(name, value);
  const all = new Set([
    ...(headers.get("anthropic-beta") ?? "").split(",").map((b) => b.trim()).filter(Boolean),
    ...betas,
  ]);
  if (all.size > 0) headers.set("anthropic-beta", [...all].join(","));
  return headers;
}

/** The parsed text, or undefined when it is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function malformed(account: string, what: string) {
  return new GatewayError(502, `Upstream error from account '${account}': Anthropic answered with ${what}`, {
    type: "upstream_error",
    code: "upstream_malformed_response",
    account,
  });
}
