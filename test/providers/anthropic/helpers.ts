/** Shared helpers for the Anthropic translator tests (not a test file itself). */
import { toAnthropicRequest } from "../../../src/providers/anthropic/to-anthropic-request.ts";
import { readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { AccountRecord, CallContext, ModelRecord, StreamItem } from "../../../src/providers/types.ts";
import { parseChunksFile, type AnthropicEvent } from "../../mocks/anthropic.ts";
import { sharedPath } from "../../helpers/shared.ts";
import { expect } from "bun:test";
import { GatewayError } from "../../../src/http/errors.ts";

export const FIXTURES_DIR = sharedPath("fixtures/recorded/anthropic");

export const fixtureFiles = (suffix: string) =>
  readdirSync(FIXTURES_DIR)
    .filter((f) => f.endsWith(suffix))
    .sort();

export const readJsonFixture = (name: string) => JSON.parse(readFileSync(join(FIXTURES_DIR, name), "utf8"));
export const readChunksFixture = (name: string): AnthropicEvent[] => parseChunksFile(readFileSync(join(FIXTURES_DIR, name), "utf8"));

/** A readable stream of the given values, one per pull. */
export function streamOf<T>(values: T[]): ReadableStream<T> {
  let i = 0;
  return new ReadableStream<T>({
    pull(controller) {
      if (i < values.length) controller.enqueue(values[i++]!);
      else controller.close();
    },
  });
}

/** The items of a stream, without the usage-so-far items (those are checked on their own: collectAll). */
export async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  return (await collectAll(stream)).filter((x: any) => !("usage" in x && !("chunk" in x)));
}

export async function collectAll<T>(stream: ReadableStream<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of stream as any as AsyncIterable<T>) out.push(item);
  return out;
}

export interface Assembled {
  id?: string;
  model?: string;
  role?: string;
  content: string;
  reasoning: string;
  refusal: string;
  thinkingBlocks: any[];
  toolCalls: Array<{ index: number; id: string; type: string; name: string; arguments: string }>;
  finishReason: string | null;
  usage?: any;
  chunks: any[];
  errors: any[];
  /** the order in which kinds of delta arrived, deduplicated consecutively */
  order: string[];
}

/** Accumulates chunks the way an OpenAI client does. */
export function assemble(items: StreamItem[]): Assembled {
  const a: Assembled = {
    content: "",
    reasoning: "",
    refusal: "",
    thinkingBlocks: [],
    toolCalls: [],
    finishReason: null,
    chunks: [],
    errors: [],
    order: [],
  };
  const mark = (kind: string) => {
    if (a.order[a.order.length - 1] !== kind) a.order.push(kind);
  };
  for (const item of items) {
    if ("error" in item) {
      a.errors.push(item.error);
      continue;
    }
    if (!("chunk" in item)) continue;
    const chunk = item.chunk;
    a.chunks.push(chunk);
    a.id ??= chunk.id;
    a.model ??= chunk.model;
    if (chunk.usage) a.usage = chunk.usage;
    for (const choice of chunk.choices) {
      const d = choice.delta ?? {};
      if (d.role) a.role ??= d.role;
      if (d.reasoning_content) {
        a.reasoning += d.reasoning_content;
        mark("reasoning");
      }
      if (d.content) {
        a.content += d.content;
        mark("content");
      }
      if (d.refusal) a.refusal += d.refusal;
      if (d.thinking_blocks) a.thinkingBlocks.push(...d.thinking_blocks);
      for (const tc of d.tool_calls ?? []) {
        mark("tool_calls");
        let call = a.toolCalls.find((c) => c.index === tc.index);
        if (!call) {
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

export function testContext(
  baseUrl: string,
  opts: {
    apiKey?: string;
    modelId?: string;
    maxOutputTokens?: number;
    settings?: AccountRecord["settings"];
  } = {},
): CallContext {
  const model: ModelRecord = {
    account: "anthropic-main",
    name: "claude",
    modelId: opts.modelId ?? "claude-sonnet-4-5-20250929",
    types: ["chat"],
    maxOutputTokens: opts.maxOutputTokens,
  };
  const account: AccountRecord = {
    name: "anthropic-main",
    provider: "anthropic",
    baseUrl,
    auth: { api_key: opts.apiKey ?? "sk-ant-test" },
    settings: opts.settings ?? {},
    access: { managers: [], users: [] },
    models: new Map([["claude", model]]),
  };
  return {
    target: { account, model, id: "anthropic-main/claude" },
    signal: new AbortController().signal,
    fetch: globalThis.fetch,
    notes: [],
    requestId: "req_test",
  };
}

/** Request translation with the options the request tests share (model id as in Anthropic's examples). */
export const MODEL = "claude-sonnet-4-5-20250929";
export const translate = (body: Record<string, any>, opts: { dropUnsupported?: boolean; defaultMaxTokens?: number } = {}) =>
  toAnthropicRequest(body, { model: MODEL, defaultMaxTokens: opts.defaultMaxTokens ?? 64000, dropUnsupported: opts.dropUnsupported });

export const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather in a given location",
    parameters: {
      type: "object",
      properties: {
        location: { type: "string", description: "The city and state, e.g. San Francisco, CA" },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
      },
      required: ["location"],
    },
  },
};
export const ANTHROPIC_WEATHER_TOOL = {
  name: "get_weather",
  description: "Get the current weather in a given location",
  input_schema: WEATHER_TOOL.function.parameters,
};


/** Runs `run`, which must throw the gateway's 400 (invalid_request_error) naming `param` (and matching `message`). */
export function expectBadRequest(run: () => unknown, param: string, message?: RegExp | string): GatewayError {
  let caught: unknown;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GatewayError);
  const err = caught as GatewayError;
  expect(err.status).toBe(400);
  expect(err.type).toBe("invalid_request_error");
  expect(err.param).toBe(param);
  if (message !== undefined) expect(err.message).toMatch(message);
  return err;
}
