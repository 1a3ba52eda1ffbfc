/**
 * Shared setup for the end-to-end Anthropic tests (test/api/anthropic-*.test.ts): the Anthropic mock
 * on port 0, a gateway in front of it with an `anthropic` account, the OpenAI SDK as the client, and
 * helpers to read what the mock received and to assemble a stream the way a client does.
 */
import { afterAll, beforeAll, beforeEach, expect } from "bun:test";
import type OpenAI from "openai";
import type { ChatCompletionChunk, ChatCompletionFunctionTool } from "openai/resources/chat/completions";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";
import { sharedPath } from "../helpers/shared.ts";
import { parseChunksFile, startAnthropicMock, type AnthropicEvent, type AnthropicMock, type AnthropicMockOptions, type RecordedRequest } from "../mocks/anthropic.ts";

/** The account's Anthropic key: the only credential the mock may ever see. */
export const ACCOUNT_KEY = "sk-ant-api03-account-key-for-tests";
/** A key the mock answers with 401 (a second account uses it). */
export const REVOKED_KEY = "sk-ant-api03-revoked-key";
export const MODEL = "anthropic-main/claude-sonnet-4";
export const MODEL_ID = "claude-sonnet-4-20250514";
/** Claude Sonnet 4's maximum output: the `max_tokens` sent when the client sets none. */
export const DEFAULT_MAX_TOKENS = 64_000;

export const FIXTURES_DIR = sharedPath("fixtures/recorded/anthropic");
export const readJsonFixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES_DIR, name), "utf8"));
export const readChunksFixture = (name: string): AnthropicEvent[] => parseChunksFile(readFileSync(join(FIXTURES_DIR, name), "utf8"));

export interface AnthropicGateway {
  mock: AnthropicMock;
  g: TestGateway;
  /** the gateway key the client uses */
  key: string;
  client: OpenAI;
  /** the last request the mock received */
  last(): RecordedRequest;
  close(): Promise<void>;
}

export async function startAnthropicGateway(opts: AnthropicMockOptions = {}): Promise<AnthropicGateway> {
  const mock = startAnthropicMock({ badKeys: [REVOKED_KEY], ...opts });
  const g = await startGateway(`
accounts:
  - name: anthropic-main
    provider: anthropic
    base_url: ${mock.url}
    auth: { api_key: ${ACCOUNT_KEY} }
    models:
      - { name: claude-sonnet-4, model_id: ${MODEL_ID}, types: [chat] }
    access: { users: [team:everyone] }
  - name: anthropic-revoked
    provider: anthropic
    base_url: ${mock.url}
    auth: { api_key: ${REVOKED_KEY} }
    models:
      - { name: claude-sonnet-4, model_id: ${MODEL_ID}, types: [chat] }
    access: { users: [team:everyone] }
`);
  const key = g.key("user:alice@example.com");
  return {
    mock,
    g,
    key,
    client: g.client(key),
    last() {
      const r = mock.requests.at(-1);
      if (!r) throw new Error("the mock received no request");
      return r;
    },
    async close() {
      await g.close();
      await mock.close();
    },
  };
}

/** What every upstream call must carry: the account's key (never the client's), Anthropic's version header. */
export function expectAnthropicHeaders(req: RecordedRequest, clientKey: string, key = ACCOUNT_KEY) {
  expect(req.method).toBe("POST");
  expect(req.path).toBe("/v1/messages");
  expect(req.headers["x-api-key"]).toBe(key);
  expect(req.headers["anthropic-version"]).toBe("2023-06-01");
  expect(req.headers["content-type"]).toBe("application/json");
  expect(req.headers.authorization).toBeUndefined();
  expect(JSON.stringify(req.headers)).not.toContain(clientKey);
  expect(JSON.stringify(req.body)).not.toContain(clientKey);
}

export interface AssembledStream {
  chunks: ChatCompletionChunk[];
  /** performance.now() at each chunk's arrival */
  arrivals: number[];
  id?: string;
  role?: string;
  content: string;
  reasoning: string;
  refusal: string;
  thinkingBlocks: any[];
  toolCalls: Array<{ index: number; id: string; type: string; name: string; arguments: string }>;
  /** the first delta of each tool call, as received */
  firstToolDeltas: any[];
  finishReason: string | null;
  usage?: OpenAI.CompletionUsage | null;
}

/** Reads an SDK stream to the end, accumulating it the way an OpenAI client does. */
export async function assembleStream(stream: AsyncIterable<ChatCompletionChunk>, into?: AssembledStream): Promise<AssembledStream> {
  const a: AssembledStream = into ?? emptyAssembled();
  for await (const chunk of stream) {
    a.arrivals.push(performance.now());
    a.chunks.push(chunk);
    a.id ??= chunk.id;
    if (chunk.usage) a.usage = chunk.usage;
    for (const choice of chunk.choices) {
      const d: any = choice.delta ?? {};
      if (d.role) a.role ??= d.role;
      if (d.content) a.content += d.content;
      if (d.reasoning_content) a.reasoning += d.reasoning_content;
      if (d.refusal) a.refusal += d.refusal;
      if (d.thinking_blocks) a.thinkingBlocks.push(...d.thinking_blocks);
      for (const tc of d.tool_calls ?? []) {
        let call = a.toolCalls.find((c) => c.index === tc.index);
        if (!call) {
          a.firstToolDeltas.push(tc);
          call = { index: tc.index, id: tc.id, type: tc.type, name: tc.function?.name, arguments: "" };
          a.toolCalls.push(call);
        }
        call.arguments += tc.function?.arguments ?? "";
      }
      if (choice.finish_reason) a.finishReason = choice.finish_reason;
    }
  }
  return a;
}

export function emptyAssembled(): AssembledStream {
  return { chunks: [], arrivals: [], content: "", reasoning: "", refusal: "", thinkingBlocks: [], toolCalls: [], firstToolDeltas: [], finishReason: null };
}

/** Awaits a promise that must reject; returns the error. */
export async function rejection(p: Promise<unknown>): Promise<any> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}

/** Anthropic's usage block in full (what the recorded responses carry). */
export function usageOf(input: number, output: number, cacheRead = 0, cacheWrite = 0) {
  return { input_tokens: input, output_tokens: output, cache_read_input_tokens: cacheRead, cache_creation_input_tokens: cacheWrite };
}

/**
 * One gateway + mock for a test file: started before its tests, closed after, the mock's queued replies and recorded
 * requests reset before each test. The returned object is filled in by the beforeAll hook.
 */
export function useAnthropicGateway(opts: { resetEach?: boolean } = {}): AnthropicGateway {
  const t = {} as AnthropicGateway;
  beforeAll(async () => {
    Object.assign(t, await startAnthropicGateway());
  });
  afterAll(() => t.close());
  if (opts.resetEach !== false) beforeEach(() => t.mock.reset());
  return t;
}

/** A client tool the tool and thinking tests share. */
export const WEATHER: ChatCompletionFunctionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  },
};
