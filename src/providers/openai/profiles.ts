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

/** What the adapter needs of an account on every call, worked out once per account record. */
interface Prepared {
  /** base URL without trailing slashes; null when the account has none and its kind no default */
  baseUrl: string | null;
  /** the account's extra headers and credential headers */
  headers: Record<string, string>;
  /** the same plus `content-type: application/json` */
  jsonHeaders: Record<string, string>;
}

/** Per account record (a new record replaces the old one on every registry reload, so this never goes stale). */
const prepared = new WeakMap<AccountRecord, Prepared>();

function prepare(account: AccountRecord, profile: OpenAIProfile): Prepared {
  let p = prepared.get(account);
  if (p === undefined) {
    const base = account.baseUrl ?? profile.defaultBaseUrl;
    const headers = { ...account.settings.headers, ...profile.authHeaders(account.auth) };
    // frozen: the upstream client then renders the request head for this account once (providers/http1.ts)
    p = {
      baseUrl: base ? base.replace(/\/+$/, "") : null,
      headers: Object.freeze(headers),
      jsonHeaders: Object.freeze({ ...headers, "content-type": "application/json" }),
    };
    prepared.set(account, p);
  }
  return p;
}

export function baseUrlOf(account: AccountRecord, profile: OpenAIProfile): string {
  const url = prepare(account, profile).baseUrl;
  if (url === null) throw new GatewayError(500, `Account '${account.name}' has no base_url`, { code: "account_misconfigured" });
  return url;
}

export function upstreamHeaders(account: AccountRecord, profile: OpenAIProfile): Record<string, string> {
  return prepare(account, profile).headers;
}

export function jsonUpstreamHeaders(account: AccountRecord, profile: OpenAIProfile): Record<string, string> {
  return prepare(account, profile).jsonHeaders;
}
