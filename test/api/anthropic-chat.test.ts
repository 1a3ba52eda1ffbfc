/**
 * End to end through the gateway with the OpenAI SDK, against the Anthropic mock: plain chat, system
 * and multi-turn, images, PDFs, parameters Anthropic lacks, streaming (usage chunk, incremental delivery).
 */
import { describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { anthropicMessage, messageToStreamEvents } from "../mocks/anthropic.ts";
import { schemaErrors } from "../helpers/openapi.ts";
import {
  assembleStream,
  DEFAULT_MAX_TOKENS,
  expectAnthropicHeaders,
  MODEL,
  MODEL_ID,
  rejection,
  useAnthropicGateway,
} from "./anthropic-setup.ts";

const t = useAnthropicGateway();

/** Claude Sonnet 4 in the catalogue: USD per 1M tokens. */
const cost = (input: number, output: number) => (input * 3 + output * 15) / 1e6;

const PNG_1PX =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const PDF_B64 = Buffer.from("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n").toString("base64");

describe("Anthropic through the gateway: chat", () => {
  test("plain chat: content, ids, usage, cost; the mock got the account key and a translated body", async () => {
    t.mock.reply({
      json: anthropicMessage({
        id: "msg_01PlainChat",
        model: MODEL_ID,
        content: [{ type: "text", text: "Hello! How can I help?" }],
        usage: { input_tokens: 12, output_tokens: 7 },
      }),
    });
    const { data: res, response } = await t.client.chat.completions
      .create({ model: MODEL, messages: [{ role: "user", content: "Hello" }] })
      .withResponse();

    expect(res.id).toBe("msg_01PlainChat");
    expect(res.object).toBe("chat.completion");
    expect(res.model).toBe(MODEL_ID);
    expect((res as any).provider).toBe("anthropic-main");
    expect(res.choices).toHaveLength(1);
    expect(res.choices[0]!.message.role).toBe("assistant");
    expect(res.choices[0]!.message.content).toBe("Hello! How can I help?");
    expect(res.choices[0]!.message.tool_calls).toBeUndefined();
    expect(res.choices[0]!.finish_reason).toBe("stop");
    expect(res.usage).toMatchObject({ prompt_tokens: 12, completion_tokens: 7, total_tokens: 19, prompt_tokens_details: { cached_tokens: 0 } });
    expect(response.headers.get("x-tfy-resolved-model")).toBe(MODEL);
    expect(schemaErrors("CreateChatCompletionResponse", res)).toEqual([]);

    expect(t.mock.requests).toHaveLength(1);
    const up = t.last();
    expectAnthropicHeaders(up, t.key);
    expect(up.headers["anthropic-beta"]).toBeUndefined();
    expect(up.body).toEqual({ model: MODEL_ID, max_tokens: DEFAULT_MAX_TOKENS, messages: [{ role: "user", content: "Hello" }] });

    const log = t.g.logs()[0];
    expect(log.account).toBe("anthropic-main");
    expect(log.model).toBe("claude-sonnet-4");
    expect(log.status).toBe(200);
    expect(log.stream).toBe(0);
    expect(log.prompt_tokens).toBe(12);
    expect(log.completion_tokens).toBe(7);
    expect(log.cost_usd).toBeCloseTo(cost(12, 7), 12);
  });

  test("system + multi-turn: system lifted to the top level, turns alternate, parameters mapped", async () => {
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: [
        { role: "system", content: "You are terse." },
        { role: "developer", content: "Answer in English." },
        { role: "user", content: "My name is Ada." },
        { role: "assistant", content: "Nice to meet you, Ada." },
        { role: "user", content: "What is my name?" },
        { role: "user", content: "Be brief." },
      ],
      max_completion_tokens: 300,
      temperature: 0.4,
      top_p: 0.9,
      stop: ["\n\nHuman:"],
      user: "user-7f3a9c",
    });
    // the mock's default reply echoes the last user text
    expect(res.choices[0]!.message.content).toBe("echo: What is my name? Be brief.");
    expect(res.model).toBe(MODEL_ID);
    expect(res.id).toMatch(/^msg_mock_/);

    const up = t.last();
    expectAnthropicHeaders(up, t.key);
    expect(up.body).toEqual({
      model: MODEL_ID,
      max_tokens: 300,
      system: "You are terse.\nAnswer in English.",
      messages: [
        { role: "user", content: "My name is Ada." },
        { role: "assistant", content: "Nice to meet you, Ada." },
        {
          role: "user",
          content: [
            { type: "text", text: "What is my name?" },
            { type: "text", text: "Be brief." },
          ],
        },
      ],
      temperature: 0.4,
      top_p: 0.9,
      stop_sequences: ["\n\nHuman:"],
      metadata: { user_id: "user-7f3a9c" },
    });
  });

  test("images by URL and by base64 data URI become image blocks", async () => {
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: "Compare these images." },
            { type: "image_url", image_url: { url: "https://example.com/cat.jpg", detail: "high" } },
            { type: "image_url", image_url: { url: `data:image/png;base64,${PNG_1PX}` } },
          ],
        },
      ],
    });
    expect(res.choices[0]!.message.content).toBe("echo: Compare these images.");
    const up = t.last();
    expectAnthropicHeaders(up, t.key);
    expect(up.body.messages).toEqual([
      {
        role: "user",
        content: [
          { type: "text", text: "Compare these images." },
          { type: "image", source: { type: "url", url: "https://example.com/cat.jpg" } },
          { type: "image", source: { type: "base64", media_type: "image/png", data: PNG_1PX } },
        ],
      },
    ]);
  });

  test("PDF as a file part and as a data:application/pdf URI become document blocks", async () => {
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: [
        {
          role: "user",
          content: [
            { type: "file", file: { filename: "report.pdf", file_data: `data:application/pdf;base64,${PDF_B64}` } },
            { type: "image_url", image_url: { url: `data:application/pdf;base64,${PDF_B64}` } },
            { type: "text", text: "Summarise both documents." },
          ],
        },
      ],
    });
    expect(res.choices[0]!.message.content).toBe("echo: Summarise both documents.");
    const up = t.last();
    expectAnthropicHeaders(up, t.key);
    expect(up.headers["anthropic-beta"]).toBeUndefined();
    const doc = { type: "document", source: { type: "base64", media_type: "application/pdf", data: PDF_B64 } };
    expect(up.body.messages).toEqual([{ role: "user", content: [doc, doc, { type: "text", text: "Summarise both documents." }] }]);
  });
  test("a file_id → a Files API document, with the files-api beta header", async () => {
    await t.client.chat.completions.create({
      model: MODEL,
      messages: [
        {
          role: "user",
          content: [
            { type: "file", file: { file_id: "file_011CNha8iCJcU1wXNR6q4V8w" } },
            { type: "text", text: "What is in the file?" },
          ],
        },
      ],
    });
    const up = t.last();
    expectAnthropicHeaders(up, t.key);
    expect(up.headers["anthropic-beta"]).toBe("files-api-2025-04-14");
    expect(up.body.messages[0].content[0]).toEqual({ type: "document", source: { type: "file", file_id: "file_011CNha8iCJcU1wXNR6q4V8w" } });
  });

  test("an image type Anthropic cannot read → 400 naming the part, nothing sent", async () => {
    const err = await rejection(
      t.client.chat.completions.create({
        model: MODEL,
        messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/bmp;base64,Qk0=" } }] }],
      }),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error.param).toBe("messages[0].content[0].image_url.url");
    expect(err.error.message).toContain("'image/bmp' is not supported by Anthropic");
    expect(t.mock.requests).toHaveLength(0);
  });

  test("stop reasons: max_tokens → length, stop_sequence → stop", async () => {
    t.mock.reply({ json: anthropicMessage({ model: MODEL_ID, content: [{ type: "text", text: "Once upon a" }], stop_reason: "max_tokens" }) });
    const cut = await t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "story" }], max_tokens: 3 });
    expect(cut.choices[0]!.finish_reason).toBe("length");
    expect(cut.choices[0]!.message.content).toBe("Once upon a");
    expect(t.last().body.max_tokens).toBe(3);
    t.mock.reply({ json: anthropicMessage({ model: MODEL_ID, content: [{ type: "text", text: "1, 2, 3" }], stop_reason: "stop_sequence", stop_sequence: ", 4" }) });
    const stopped = await t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "count" }], stop: ", 4" });
    expect(stopped.choices[0]!.finish_reason).toBe("stop");
    expect(t.last().body.stop_sequences).toEqual([", 4"]);
  });
});

describe("Anthropic through the gateway: parameters Anthropic lacks", () => {
  test("n: 2 → 400 naming param n, before any upstream call", async () => {
    const err = await rejection(
      t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }], n: 2 }),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.status).toBe(400);
    expect(err.error.type).toBe("invalid_request_error");
    expect(err.error.param).toBe("n");
    expect(err.error.code).toBe("unsupported_parameter");
    expect(err.error.message).toContain("'n' is not supported by Anthropic models");
    expect(t.mock.requests).toHaveLength(0);
    const log = t.g.logs()[0];
    expect(log.status).toBe(400);
    expect(log.account).toBe("anthropic-main");
  });

  test("n: 1, presence_penalty: 0, logprobs: false are accepted and not forwarded", async () => {
    const res = await t.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "neutral values" }],
      n: 1,
      presence_penalty: 0,
      frequency_penalty: 0,
      logprobs: false,
    });
    expect(res.choices[0]!.message.content).toBe("echo: neutral values");
    expect(t.mock.requests).toHaveLength(1);
    expect(t.last().body).toEqual({ model: MODEL_ID, max_tokens: DEFAULT_MAX_TOKENS, messages: [{ role: "user", content: "neutral values" }] });
  });

  test("temperature 1.5 → 400 naming param temperature, nothing sent; 1 is forwarded", async () => {
    const err = await rejection(
      t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }], temperature: 1.5 }),
    );
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(err.error.param).toBe("temperature");
    expect(err.error.message).toContain("above the maximum of 1");
    expect(t.mock.requests).toHaveLength(0);

    const ok = await t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }], temperature: 1 });
    expect(ok.choices[0]!.message.content).toBe("echo: hi");
    expect(t.last().body.temperature).toBe(1);
  });
});

describe("Anthropic through the gateway: streaming", () => {
  const streamedMessage = () =>
    anthropicMessage({
      id: "msg_01Streamed",
      model: MODEL_ID,
      content: [{ type: "text", text: "Streaming works, one piece at a time." }],
      usage: { input_tokens: 21, output_tokens: 9 },
    });

  test("include_usage: the usage chunk comes last with empty choices, then the SDK ends", async () => {
    t.mock.reply({ stream: messageToStreamEvents(streamedMessage()) });
    const stream = await t.client.chat.completions.create({
      model: MODEL,
      messages: [{ role: "user", content: "stream please" }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const a = await assembleStream(stream);

    expect(a.content).toBe("Streaming works, one piece at a time.");
    expect(a.role).toBe("assistant");
    expect(a.finishReason).toBe("stop");
    expect(new Set(a.chunks.map((c) => c.id))).toEqual(new Set(["msg_01Streamed"]));
    for (const c of a.chunks) {
      expect(c.object).toBe("chat.completion.chunk");
      expect(c.model).toBe(MODEL_ID);
      expect((c as any).provider).toBe("anthropic-main");
      expect(schemaErrors("CreateChatCompletionStreamResponse", c)).toEqual([]);
    }
    const usageChunks = a.chunks.filter((c) => c.usage);
    expect(usageChunks).toHaveLength(1);
    const last = a.chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 9, total_tokens: 30 });
    // the finish chunk comes right before the usage chunk
    expect(a.chunks.at(-2)!.choices[0]!.finish_reason).toBe("stop");

    const up = t.last();
    expectAnthropicHeaders(up, t.key);
    expect(up.body.stream).toBe(true);
    expect(up.body.stream_options).toBeUndefined();

    const log = t.g.logs()[0];
    expect(log.stream).toBe(1);
    expect(log.status).toBe(200);
    expect(log.prompt_tokens).toBe(21);
    expect(log.completion_tokens).toBe(9);
    expect(log.cost_usd).toBeCloseTo(cost(21, 9), 12);
    expect(log.ttft_ms).toBeGreaterThan(0);
  });

  test("on the wire: the usage chunk, then data: [DONE], then the response ends", async () => {
    t.mock.reply({ stream: messageToStreamEvents(streamedMessage()) });
    const res = await fetch(`${t.g.url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${t.key}`, "content-type": "application/json" },
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "raw" }], stream: true, stream_options: { include_usage: true } }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toStartWith("text/event-stream");
    const events = (await res.text()).split("\n\n").filter((e) => e.trim() !== "" && !e.startsWith(":"));
    expect(events.at(-1)).toBe("data: [DONE]");
    const usageChunk = JSON.parse(events.at(-2)!.slice("data: ".length));
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toMatchObject({ prompt_tokens: 21, completion_tokens: 9 });
    const before = events.slice(0, -2).map((e) => JSON.parse(e.slice("data: ".length)));
    expect(before.every((c) => c.usage === undefined)).toBe(true);
    expect(before.at(-1).choices[0].finish_reason).toBe("stop");
  });

  test("without include_usage: no usage anywhere in the stream, usage still logged", async () => {
    t.mock.reply({ stream: messageToStreamEvents(streamedMessage()) });
    const stream = await t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "stream please" }], stream: true });
    const a = await assembleStream(stream);
    expect(a.content).toBe("Streaming works, one piece at a time.");
    expect(a.finishReason).toBe("stop");
    expect(a.chunks.at(-1)!.choices[0]!.finish_reason).toBe("stop");
    for (const c of a.chunks) {
      expect(c.usage ?? undefined).toBeUndefined();
      expect(c.choices).toHaveLength(1);
    }
    const log = t.g.logs()[0];
    expect(log.prompt_tokens).toBe(21);
    expect(log.completion_tokens).toBe(9);
  });

  test("chunks arrive as the upstream sends them, not all at once", async () => {
    const text = "one two three four five six seven eight nine ten eleven twelve";
    const events = messageToStreamEvents(anthropicMessage({ id: "msg_01Slow", model: MODEL_ID, content: [{ type: "text", text }] }), { chunkSize: 8 });
    const delayMs = 40;
    t.mock.reply({ stream: events, delayMs });
    const started = performance.now();
    const stream = await t.client.chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "slowly" }], stream: true });
    const a = await assembleStream(stream);
    expect(a.content).toBe(text);

    // 8 text deltas + the finish chunk: every text delta is its own chunk
    const textChunks = a.chunks.filter((c) => c.choices[0]?.delta?.content);
    expect(textChunks).toHaveLength(Math.ceil(text.length / 8));
    // the upstream takes (events − 1) × delay; a buffered gateway would deliver everything at the end
    const total = (events.length - 1) * delayMs;
    const spread = a.arrivals.at(-1)! - a.arrivals[0]!;
    expect(spread).toBeGreaterThan(total * 0.6);
    expect(a.arrivals[0]! - started).toBeLessThan(total * 0.5);
    const gaps = a.arrivals.slice(1).map((x, i) => x - a.arrivals[i]!);
    expect(gaps.filter((g) => g >= delayMs * 0.5).length).toBeGreaterThanOrEqual(textChunks.length - 2);
  });
});
