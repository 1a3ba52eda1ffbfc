/** Provider kind → adapter. Kinds without an adapter yet answer 501 naming the kind. */
import { GatewayError } from "../http/errors.ts";
import { anthropicAdapter } from "./anthropic/adapter.ts";
import { openAICompatibleAdapter } from "./openai/adapter.ts";
import type { ProviderAdapter, ProviderKind } from "./types.ts";

const adapters: Partial<Record<ProviderKind, ProviderAdapter>> = {
  openai: openAICompatibleAdapter("openai"),
  "openai-compatible": openAICompatibleAdapter("openai-compatible"),
  groq: openAICompatibleAdapter("groq"),
  "azure-openai": openAICompatibleAdapter("azure-openai"),
  anthropic: anthropicAdapter,
};

export function registerAdapter(kind: ProviderKind, adapter: ProviderAdapter): void {
  adapters[kind] = adapter;
}

export function adapterFor(kind: ProviderKind, account: string): ProviderAdapter {
  const a = adapters[kind];
  if (!a) throw new GatewayError(501, `Provider kind '${kind}' of account '${account}' is not supported by this build yet`, { code: "provider_not_supported" });
  return a;
}
