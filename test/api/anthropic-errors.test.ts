/**
 * End to end through the gateway with the OpenAI SDK, against the Anthropic mock: Anthropic's errors
 * (HTTP statuses kept, account named, OpenAI's envelope), errors before the first token of a stream
 * (an HTTP error status) and after it (an error event the SDK raises after the earlier content).
 */
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { anthropicErrorBody, anthropicMessage, messageToStreamEvents, type AnthropicEvent } from "../mocks/anthropic.ts";
import {
  assembleStream,
  emptyAssembled,
  expectAnthropicHeaders,
  MODEL,
  MODEL_ID,
  rejection,
  REVOKED_KEY,
  useAnthropicGateway,
} from "./anthropic-setup.ts";

const t = useAnthropicGateway();

const messages = [{ role: "user" as const, content: "hi" }];
const OVERLOADED = anthropicErrorBody("overloaded_error", "Overloaded");

/** The gateway's error envelope, exactly OpenAI's. */
function expectEnvelope(err: any, status: number, type: string, message: string) {
  expect(err).toBeInstanceOf(OpenAI.APIError);
  expect(err.status).toBe(status);
  expect(Object.keys(err.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(err.error.type).toBe(type);
  expect(err.error.message).toBe(message);
}

describe("Anthropic HTTP errors", () => {
  test("400 invalid_request_error: status, type and Anthropic's message kept, account named", async () => {
    t.mock.reply({ status: 400, json: anthropicErrorBody("invalid_request_error", "prompt is too long: 210000 tokens > 200000 maximum") });
    const err = await rejection(t.client.chat.completions.create({ model: MODEL, messages }));
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expectEnvelope(err, 400, "invalid_request_error", "Upstream error from account 'anthropic-main': prompt is too long: 210000 tokens > 200000 maximum");
    expectAnthropicHeaders(t.last(), t.key);
    const log = t.g.logs()[0];
    expect(log.status).toBe(400);
    expect(log.account).toBe("anthropic-main");
    expect(log.error).toContain("prompt is too long");
  });

  test("401: an account whose Anthropic key is revoked; the mock saw that account's key", async () => {
    const err = await rejection(t.client.chat.completions.create({ model: "anthropic-revoked/claude-sonnet-4", messages }));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expectEnvelope(err, 401, "authentication_error", "Upstream error from account 'anthropic-revoked': invalid x-api-key");
    expectAnthropicHeaders(t.last(), t.key, REVOKED_KEY);
    expect(t.g.logs()[0].status).toBe(401);
  });

  test("401: a bad gateway key never reaches Anthropic", async () => {
    const err = await rejection(t.g.client("sk-not-a-gateway-key").chat.completions.create({ model: MODEL, messages }));
    expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(err.status).toBe(401);
    expect(t.mock.requests).toHaveLength(0);
  });

  test("429 rate_limit_error: status kept, retry-after forwarded", async () => {
    t.mock.reply({
      status: 429,
      json: anthropicErrorBody("rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit"),
      headers: { "retry-after": "17" },
    });
    const err = await rejection(t.client.chat.completions.create({ model: MODEL, messages }));
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    expectEnvelope(
      err,
      429,
      "rate_limit_error",
      "Upstream error from account 'anthropic-main': Number of request tokens has exceeded your per-minute rate limit",
    );
    expect(err.headers.get("retry-after")).toBe("17");
    expect(t.mock.requests).toHaveLength(1);
    expect(t.g.logs()[0].status).toBe(429);
  });

  test("529 overloaded, non-stream: status 529, overloaded_error", async () => {
    t.mock.reply({ status: 529, json: OVERLOADED });
    const err = await rejection(t.client.chat.completions.create({ model: MODEL, messages }));
    expectEnvelope(err, 529, "overloaded_error", "Upstream error from account 'anthropic-main': Overloaded");
  });
});

describe("errors in streams", () => {
  test("529 as the HTTP answer to a stream request → HTTP 529, not a 200 stream", async () => {
    t.mock.reply({ status: 529, json: OVERLOADED });
    const err = await rejection(t.client.chat.completions.create({ model: MODEL, messages, stream: true }));
    expectEnvelope(err, 529, "overloaded_error", "Upstream error from account 'anthropic-main': Overloaded");
    expect(t.last().body.stream).toBe(true);
    const log = t.g.logs()[0];
    expect(log.status).toBe(529);
  });

  test("an overloaded error event before the first token → HTTP 529 with overloaded_error naming the account", async () => {
    const start = messageToStreamEvents(anthropicMessage({ id: "msg_01Overload", model: MODEL_ID }))[0]!;
    t.mock.reply({ stream: [start, { type: "ping" }, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }] });
    const res = await fetch(`${t.g.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages, stream: true }),
    });
    expect(res.status).toBe(529);
    expect(res.headers.get("content-type")).toContain("application/json");
    expect(await res.json()).toEqual({
      error: { message: "Upstream error from account 'anthropic-main': Overloaded", type: "overloaded_error", param: null, code: null },
    });

    // the same through the SDK
    t.mock.reply({ stream: [start, { type: "error", error: { type: "overloaded_error", message: "Overloaded" } }] });
    const err = await rejection(t.client.chat.completions.create({ model: MODEL, messages, stream: true }));
    expectEnvelope(err, 529, "overloaded_error", "Upstream error from account 'anthropic-main': Overloaded");
    const log = t.g.logs()[0];
    expect(log.status).toBe(529);
    expect(log.error).toContain("anthropic-main");
  });

  test("an error event mid-stream: the SDK gets the earlier content, then raises APIError", async () => {
    const all = messageToStreamEvents(
      anthropicMessage({ id: "msg_01MidStream", model: MODEL_ID, content: [{ type: "text", text: "The first part arrives fine" }] }),
      { chunkSize: 9 },
    );
    const cut = all.findIndex((e) => e.type === "content_block_stop");
    const events: AnthropicEvent[] = [...all.slice(0, cut), { type: "error", error: { type: "api_error", message: "Internal server error" } }];
    t.mock.reply({ stream: events, delayMs: 2 });

    const stream = await t.client.chat.completions.create({ model: MODEL, messages, stream: true, stream_options: { include_usage: true } });
    const a = emptyAssembled();
    const err = await rejection(assembleStream(stream, a));
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.error).toEqual({ message: "Upstream error from account 'anthropic-main': Internal server error", type: "api_error", param: null, code: null });
    expect(err.message).toContain("Internal server error");
    expect(a.content).toBe("The first part arrives fine");
    expect(a.chunks).toHaveLength(3);
    expect(a.finishReason).toBeNull();
    expect(a.usage).toBeUndefined();
    const log = t.g.logs()[0];
    expect(log.status).toBe(500);
    expect(log.error).toContain("Internal server error");
  });

  test("a stream that ends before message_stop: content, then a 502 error the SDK raises", async () => {
    const all = messageToStreamEvents(anthropicMessage({ id: "msg_01Cut", model: MODEL_ID, content: [{ type: "text", text: "Half an answer" }] }));
    t.mock.reply({ stream: all.slice(0, 3) });
    const a = emptyAssembled();
    const err = await rejection(assembleStream(await t.client.chat.completions.create({ model: MODEL, messages, stream: true }), a));
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect(err.error.type).toBe("upstream_error");
    expect(err.error.code).toBe("upstream_stream_truncated");
    expect(err.error.message).toContain("anthropic-main");
    expect(a.content).toBe("Half an ");
    expect(t.g.logs()[0].status).toBe(502);
  });
});
