/** Stop reasons, usage, errors, default max_tokens, reasoning budgets. */
import { describe, expect, test } from "bun:test";
import {
  anthropicErrorFields,
  anthropicErrorInAnswer,
  anthropicHttpError,
  anthropicStreamError,
  isAnthropicErrorBody,
} from "../../../src/providers/anthropic/anthropic-error.ts";
import { convertAnthropicUsage, mergeAnthropicUsage } from "../../../src/providers/anthropic/convert-anthropic-usage.ts";
import { mapAnthropicStopReason } from "../../../src/providers/anthropic/map-anthropic-stop-reason.ts";
import { maxOutputTokens } from "../../../src/providers/anthropic/max-output-tokens.ts";
import { thinkingForEffort } from "../../../src/providers/anthropic/reasoning-effort.ts";

describe("mapAnthropicStopReason", () => {
  test.each([
    ["end_turn", "stop"],
    ["stop_sequence", "stop"],
    ["pause_turn", "stop"],
    ["max_tokens", "length"],
    ["model_context_window_exceeded", "length"],
    ["tool_use", "tool_calls"],
    ["refusal", "content_filter"],
  ] as const)("%s → %s", (reason, expected) => {
    expect(mapAnthropicStopReason(reason)).toBe(expected);
  });

  test("tool_use of the JSON-output tool alone → stop; null and unknown → stop", () => {
    expect(mapAnthropicStopReason("tool_use", { onlyJsonTool: true })).toBe("stop");
    expect(mapAnthropicStopReason(null)).toBe("stop");
    expect(mapAnthropicStopReason("something_new" as any)).toBe("stop");
  });
});

describe("convertAnthropicUsage", () => {
  test("prompt = input + cache read + cache write; details carry both cache counts", () => {
    expect(
      convertAnthropicUsage({ input_tokens: 50, cache_read_input_tokens: 100000, cache_creation_input_tokens: 248, output_tokens: 503 }),
    ).toEqual({
      prompt_tokens: 100298,
      completion_tokens: 503,
      total_tokens: 100801,
      prompt_tokens_details: { cached_tokens: 100000, cache_creation_tokens: 248 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
  });

  test("missing and null counts are 0", () => {
    expect(convertAnthropicUsage({ input_tokens: 3, cache_read_input_tokens: null })).toMatchObject({ prompt_tokens: 3, completion_tokens: 0, total_tokens: 3 });
    expect(convertAnthropicUsage(undefined).total_tokens).toBe(0);
  });

  test("mergeAnthropicUsage: later numbers win, null and absent keep the earlier value", () => {
    const start = { input_tokens: 472, cache_read_input_tokens: 10, output_tokens: 2 };
    expect(mergeAnthropicUsage(start, { output_tokens: 89 })).toEqual({ input_tokens: 472, cache_read_input_tokens: 10, output_tokens: 89 });
    expect(mergeAnthropicUsage(start, { input_tokens: 500, cache_read_input_tokens: null, output_tokens: 90 })).toEqual({
      input_tokens: 500,
      cache_read_input_tokens: 10,
      output_tokens: 90,
    });
  });
});

describe("Anthropic errors", () => {
  const envelope = (type: string, message: string) => JSON.stringify({ type: "error", error: { type, message }, request_id: "req_011CSHoEeqs5C35K2UUqR7Fy" });

  test.each([
    [400, "invalid_request_error", "messages: roles must alternate"],
    [401, "authentication_error", "invalid x-api-key"],
    [403, "permission_error", "Your API key does not have permission to use the specified resource."],
    [404, "not_found_error", "model: claude-nope"],
    [413, "request_too_large", "Request exceeds the maximum allowed number of bytes."],
    [429, "rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"],
    [500, "api_error", "Internal server error"],
    [529, "overloaded_error", "Overloaded"],
  ])("HTTP %d %s keeps status and type, names the account", (status, type, message) => {
    const err = anthropicHttpError("anthropic-main", status, envelope(type, message));
    expect(err.status).toBe(status);
    expect(err.type).toBe(type);
    expect(err.account).toBe("anthropic-main");
    expect(err.message).toBe(`Upstream error from account 'anthropic-main': ${message}`);
    expect(err.toBody().error.type).toBe(type);
  });

  test("retry-after is forwarded; a body that is not JSON still gives a message", () => {
    const err = anthropicHttpError("acc", 429, envelope("rate_limit_error", "slow down"), new Headers({ "retry-after": "17" }));
    expect(err.headers).toEqual({ "retry-after": "17" });
    expect(err.type).toBe("rate_limit_error");
    const html = anthropicHttpError("acc", 502, "<html>Bad gateway</html>");
    expect(html.status).toBe(502);
    expect(html.message).toContain("an HTML page: Bad gateway");
    const bare529 = anthropicHttpError("acc", 529, "");
    expect(bare529.type).toBe("overloaded_error");
  });

  test("stream error events get the status Anthropic uses for their type", () => {
    expect(anthropicStreamError("acc", { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }).status).toBe(529);
    expect(anthropicStreamError("acc", { type: "error", error: { type: "rate_limit_error", message: "x" } }).status).toBe(429);
    expect(anthropicStreamError("acc", { type: "error", error: { type: "invalid_request_error", message: "x" } }).status).toBe(400);
    const unknown = anthropicStreamError("acc", { type: "error", error: { type: "brand_new_error", message: "x" } });
    expect(unknown.status).toBe(500);
    expect(unknown.type).toBe("brand_new_error");
    expect(anthropicStreamError("acc", { type: "error" }).type).toBe("api_error");
  });

  test("an error envelope answered with a 200: recognised, mapped with the status of its type, message and account kept", () => {
    const body = { type: "error", error: { type: "overloaded_error", message: "Overloaded" }, request_id: "req_1" };
    expect(isAnthropicErrorBody(body)).toBe(true);
    expect(isAnthropicErrorBody({ error: { message: "m" } })).toBe(true);
    expect(isAnthropicErrorBody({ type: "message", content: [] })).toBe(false);
    expect(isAnthropicErrorBody({ type: "message", content: [], error: null })).toBe(false);
    expect(isAnthropicErrorBody(null)).toBe(false);
    const err = anthropicErrorInAnswer("acc", JSON.stringify(body), body, new Headers({ "retry-after": "3" }));
    expect([err.status, err.type, err.account, err.message]).toEqual([529, "overloaded_error", "acc", "Upstream error from account 'acc': Overloaded"]);
    expect(err.headers).toEqual({ "retry-after": "3" });
    const unknown = { type: "error", error: { type: "brand_new_error", message: "x" } };
    expect(anthropicErrorInAnswer("acc", JSON.stringify(unknown), unknown).status).toBe(502);
  });

  test("anthropicErrorFields tolerates other shapes", () => {
    expect(anthropicErrorFields({ error: { message: "m" } })).toEqual({ message: "m", type: undefined });
    expect(anthropicErrorFields({ message: "m", type: "error" })).toEqual({ message: "m", type: undefined });
    expect(anthropicErrorFields({ error: "plain" })).toEqual({ message: "plain" });
    expect(anthropicErrorFields(null)).toBeUndefined();
  });
});

describe("maxOutputTokens", () => {
  test.each([
    ["claude-opus-4-6", 128000],
    ["claude-sonnet-4-6", 128000],
    ["claude-sonnet-4-5-20250929", 64000],
    ["claude-haiku-4-5-20251001", 64000],
    ["claude-opus-4-5-20251101", 64000],
    ["claude-opus-4-1-20250805", 32000],
    ["claude-opus-4-20250514", 32000],
    ["claude-sonnet-4-20250514", 64000],
    ["claude-3-7-sonnet-20250219", 64000],
    ["claude-3-5-haiku-20241022", 8192],
    ["claude-3-5-sonnet-20241022", 8192],
    ["claude-3-opus-20240229", 4096],
    ["claude-3-haiku-20240307", 4096],
    ["anthropic.claude-sonnet-4-5-20250929-v1:0", 64000],
    ["claude-opus-4-1@20250805", 32000],
    ["some-other-model", 4096],
  ])("%s → %d", (modelId, tokens) => {
    expect(maxOutputTokens({ modelId })).toBe(tokens);
  });

  test("the model config wins", () => {
    expect(maxOutputTokens({ modelId: "claude-sonnet-4-5", maxOutputTokens: 1000 })).toBe(1000);
  });
});

describe("thinkingForEffort", () => {
  test("30/60/90 % of max_tokens, min 1024, raised max_tokens when needed", () => {
    expect(thinkingForEffort("low", 10000)).toEqual({ thinking: { type: "enabled", budget_tokens: 3000 }, maxTokens: 10000 });
    expect(thinkingForEffort("medium", 10000)).toEqual({ thinking: { type: "enabled", budget_tokens: 6000 }, maxTokens: 10000 });
    expect(thinkingForEffort("high", 10000)).toEqual({ thinking: { type: "enabled", budget_tokens: 9000 }, maxTokens: 10000 });
    expect(thinkingForEffort("high", 1024)).toEqual({ thinking: { type: "enabled", budget_tokens: 1024 }, maxTokens: 2048, raisedFrom: 1024 });
    expect(thinkingForEffort(undefined, 10000)).toEqual({ maxTokens: 10000 });
  });
});
