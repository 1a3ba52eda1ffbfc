/**
 * What the gateway core and the provider adapters share. Inside the gateway everything is in
 * OpenAI's shape; an adapter translates to its provider's wire format and back.
 */
import type { GatewayError } from "../http/errors.ts";
import type { CallSignal, UpstreamFetch, UpstreamReply } from "./http1.ts";
import type { ItemSource } from "./upstream.ts";

export const PROVIDER_KINDS = [
  "openai",
  "openai-compatible",
  "groq",
  "azure-openai",
  "anthropic",
  "google-gemini",
  "google-vertex",
  "aws-bedrock",
] as const;
export type ProviderKind = (typeof PROVIDER_KINDS)[number];

export const MODEL_TYPES = [
  "chat",
  "embedding",
  "responses",
  "image",
  "text_to_speech",
  "audio_transcription",
  "audio_translation",
  "moderation",
  "realtime",
  "fine_tuning",
  "batch",
] as const;
export type ModelType = (typeof MODEL_TYPES)[number];

/** USD per 1M tokens. */
export interface ModelCost {
  input?: number;
  output?: number;
  cache_read?: number;
  cache_write?: number;
  /** 1-hour cache writes (Anthropic); defaults to cache_write */
  cache_write_1h?: number;
}

export interface ModelRecord {
  account: string;
  /** the name callers use after the account: `<account>/<name>` */
  name: string;
  /** the id sent upstream */
  modelId: string;
  types: ModelType[];
  cost?: ModelCost;
  authorizedSubjects?: string[];
  /** maximum output tokens, when configured (Anthropic needs a max_tokens) */
  maxOutputTokens?: number;
}

export interface AccountSettings {
  /** drop parameters the provider does not support instead of answering 400 */
  drop_unsupported_params?: boolean;
  /** ask the upstream for usage in streams (default true; some self-hosted servers reject stream_options) */
  stream_usage?: boolean;
  /** extra headers sent upstream with every request */
  headers?: Record<string, string>;
}

export interface AccountRecord {
  name: string;
  provider: ProviderKind;
  baseUrl?: string;
  /** decrypted credentials, e.g. { api_key } — never logged, never returned by the API */
  auth: Record<string, string>;
  settings: AccountSettings;
  access: { managers: string[]; users: string[] };
  models: Map<string, ModelRecord>;
}

export interface Target {
  account: AccountRecord;
  model: ModelRecord;
  /** `<account>/<model>` */
  id: string;
}

/** Token counts in OpenAI's sense: promptTokens includes cached and cache-write tokens. */
export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** prompt tokens read from the provider's cache */
  cachedTokens: number;
  /** prompt tokens written to the provider's cache (Anthropic cache_creation_input_tokens) */
  cacheWriteTokens: number;
  /** the part of cacheWriteTokens written with a 1-hour TTL (priced higher than 5-minute writes) */
  cacheWrite1hTokens: number;
  /** completion tokens spent on reasoning (already included in completionTokens) */
  reasoningTokens: number;
}

export interface CallContext {
  target: Target;
  /** aborts on client disconnect and when the upstream makes no progress for the request timeout */
  signal: AbortSignal | CallSignal;
  /** tells the timeout the upstream made progress (a stream event arrived) */
  touch?(): void;
  /** the gateway's upstream client (providers/http1.ts, falls back to global fetch); injectable for tests */
  fetch: UpstreamFetch;
  /** things the log should say about this request (e.g. parameters dropped) */
  notes: string[];
  requestId: string;
  /** set by the adapter when the upstream answers: its headers the client gets too (`passedOnHeaders`) */
  replyHeaders?: [string, string][];
}

/**
 * An item of a translated stream: an OpenAI chat.completion.chunk; an error that ends the stream; or usage known so
 * far (OpenAI-shaped, not sent to the client) so that a stream the client cancels is still logged with its tokens.
 */
export type StreamItem =
  /** `raw`: the upstream's own JSON text of `chunk`, when `chunk` is exactly that (sent on with `provider` spliced
   *  in instead of re-serialised) */
  | { chunk: Record<string, any>; raw?: string }
  /** an OpenAI-shaped chunk's JSON text, unparsed: after the first content chunk, when its text shows that it holds
   *  nothing the gateway reads or changes but `provider` and a `"usage":null` (no usage, no error, no provider) */
  | { text: string }
  | { error: GatewayError }
  | { usage: Record<string, any> };

export type ChatResult =
  | { stream: false; body: Record<string, any> }
  /** an OpenAI-shaped JSON body sent on as the upstream wrote it (no re-serialisation); usage read from it, normalised */
  | { stream: false; text: string; usage: Usage | null }
  | {
      stream: true;
      /** OpenAI chat.completion.chunk objects. A final usage chunk (choices: []) is always included when the
       *  provider reports usage; the core hides it from clients that did not ask for include_usage. */
      items: ItemSource;
    };

export interface JsonResult {
  status: number;
  body: Record<string, any>;
}

/** `body` is the request's own parsed copy: an adapter may change it (e.g. set the upstream model id on it). */
export interface ProviderAdapter {
  chat(ctx: CallContext, body: Record<string, any>): Promise<ChatResult>;
  embeddings?(ctx: CallContext, body: Record<string, any>): Promise<JsonResult>;
  /** POST of a JSON body to an OpenAI path of the account (/moderations, /images/generations, /audio/speech). */
  postJson?(ctx: CallContext, path: string, body: Record<string, any>): Promise<UpstreamReply>;
  /** POST of a multipart form to an OpenAI path of the account (/audio/transcriptions, /images/edits, …). */
  postForm?(ctx: CallContext, path: string, form: FormData): Promise<UpstreamReply>;
  /** Raw pass-through of any other OpenAI path (OpenAI-compatible kinds only). */
  /** `body`, when given, is sent in place of the request's own (read whole by the gateway; a form: its own content type) */
  proxy?(ctx: CallContext, req: Request, path: string, body?: string | Uint8Array | FormData, search?: string): Promise<Response>;
}
