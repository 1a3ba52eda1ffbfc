/**
 * The small differences between OpenAI-compatible providers: default base URL, how the credential is sent,
 * whether streams can report usage. Everything else is shared by the one adapter in ./adapter.ts.
 */
import { GatewayError } from "../../http/errors.ts";
import type { AccountRecord } from "../types.ts";

export interface OpenAIProfile {
  defaultBaseUrl?: string;
  authHeaders(auth: Record<string, string>): Record<string, string>;
  /** whether `stream_options.include_usage` is understood (default for the kind; an account may override) */
  streamUsage: boolean;
}

const bearer = (auth: Record<string, string>): Record<string, string> =>
  auth.api_key ? { authorization: `Bearer ${auth.api_key}` } : {};

export const OPENAI_PROFILES: Record<string, OpenAIProfile> = {
  openai: {
    defaultBaseUrl: "https://api.openai.com/v1",
    authHeaders: (a) => ({
      ...bearer(a),
      ...(a.organization ? { "openai-organization": a.organization } : {}),
      ...(a.project ? { "openai-project": a.project } : {}),
    }),
    streamUsage: true,
  },
  groq: { defaultBaseUrl: "https://api.groq.com/openai/v1", authHeaders: bearer, streamUsage: true },
  "openai-compatible": { authHeaders: bearer, streamUsage: true },
  /** Azure OpenAI's v1 API: https://<resource>.openai.azure.com/openai/v1, `api-key` header, model = deployment. */
  "azure-openai": { authHeaders: (a): Record<string, string> => (a.api_key ? { "api-key": a.api_key } : {}), streamUsage: true },
};

const baseUrls = new WeakMap<AccountRecord, string>();

export function baseUrlOf(account: AccountRecord, profile: OpenAIProfile): string {
  let url = baseUrls.get(account);
  if (url === undefined) {
    const base = account.baseUrl ?? profile.defaultBaseUrl;
    if (!base) throw new GatewayError(500, `Account '${account.name}' has no base_url`, { code: "account_misconfigured" });
    baseUrls.set(account, (url = base.replace(/\/+$/, "")));
  }
  return url;
}

/** Per account record (a new record replaces the old one on every registry reload, so this never goes stale). */
const headerCache = new WeakMap<AccountRecord, Record<string, string>>();

/** The account's extra headers and credential headers, plus content-type: built once per account record. */
/** upstreamHeaders plus `content-type: application/json`, made once per account record. */
const jsonHeaderCache = new WeakMap<AccountRecord, Record<string, string>>();
export function jsonUpstreamHeaders(account: AccountRecord, profile: OpenAIProfile): Record<string, string> {
  let h = jsonHeaderCache.get(account);
  if (!h) {
    h = { ...upstreamHeaders(account, profile), "content-type": "application/json" };
    jsonHeaderCache.set(account, h);
  }
  return h;
}

export function upstreamHeaders(account: AccountRecord, profile: OpenAIProfile): Record<string, string> {
  let h = headerCache.get(account);
  if (!h) {
    h = { ...account.settings.headers, ...profile.authHeaders(account.auth) };
    headerCache.set(account, h);
  }
  return h;
}
