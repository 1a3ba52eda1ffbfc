/**
 * An OpenAI-compatible stream through the gateway's two stream stages, in-process: upstream SSE bytes →
 * openAIItemSource (events parsed until the first content chunk, plain chunks kept as text after it) →
 * encodeChatStream (the client's SSE bytes). The end-to-end tests send the same through the SDK.
 */
import { describe, expect, test } from "bun:test";
import { encodeChatStream, type StreamHooks } from "../../src/http/sse.ts";
import { isPlainChunkText, openAIItemSource } from "../../src/providers/openai/adapter.ts";
import { itemStream } from "../../src/providers/upstream.ts";
import { sharedPath } from "../helpers/shared.ts";
import { sseData } from "../helpers/sse.ts";

const enc = new TextEncoder();
const base = { id: "chatcmpl-1", object: "chat.completion.chunk", created: 1, model: "gpt-4o-mini" };
const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}, finish: string | null = null) =>
  JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }], ...extra });

/** an upstream body sending each event in its own read, as a real upstream flushes them (a data that holds line
 *  breaks goes as several `data:` lines, as SSE has it) */
function upstream(events: string[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(c) {
      if (i < events.length) c.enqueue(enc.encode(`${events[i++]!.split("\n").map((l) => `data: ${l}`).join("\n")}\n\n`));
      else c.close();
    },
  });
}

/** a stream as OpenAI sends it once include_usage is on: "usage":null in every chunk, then the usage chunk */
const OPENAI_WITH_USAGE = [
  chunk({ role: "assistant", content: "" }, { usage: null }),
  chunk({ content: "Hel" }, { usage: null }),
  chunk({ content: 'lo "usage": {x} \\"error\\"' }, { usage: null }),
  chunk({}, { usage: null }, "stop"),
  JSON.stringify({ ...base, choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } }),
  "[DONE]",
];

async function client(events: string[], hooks: Partial<StreamHooks> = {}) {
  let firstToken = 0;
  let ended: { usage: unknown; error: unknown } | null = null;
  const out = encodeChatStream(openAIItemSource(upstream(events), "openai-main"), [], {
    includeUsage: false,
    provider: "openai-main",
    heartbeatMs: 60_000,
    onFirstToken: () => void firstToken++,
    onEnd: (usage, error) => void (ended = { usage, error }),
    ...hooks,
  });
  const text = await new Response(out).text();
  const data = sseData(text);
  return { text, data, firstToken, ended: ended as { usage: any; error: any } | null };
}

describe("isPlainChunkText", () => {
  test("a content chunk, with or without usage:null, is plain; one the gateway must read is not", () => {
    expect(isPlainChunkText(chunk({ content: "hi" }))).toBe(true);
    expect(isPlainChunkText(chunk({ content: "hi" }, { usage: null }))).toBe(true);
    // names inside string values are escaped and do not count
    expect(isPlainChunkText(chunk({ content: 'say "usage": 1, "error": 2, "provider": 3' }))).toBe(true);
    expect(isPlainChunkText(chunk({ content: "hi" }, { usage: { prompt_tokens: 1 } }))).toBe(false);
    expect(isPlainChunkText(JSON.stringify({ error: { message: "overloaded" } }))).toBe(false);
    expect(isPlainChunkText(chunk({ content: "hi" }, { provider: "other" }))).toBe(false);
    expect(isPlainChunkText(chunk({ content: "hi" }, { x_groq: { id: "x" } }))).toBe(false);
    expect(isPlainChunkText("not json")).toBe(false);
    expect(isPlainChunkText('{"truncated": ')).toBe(false);
    expect(isPlainChunkText('{"id":"x",\n"choices":[]}')).toBe(false);
  });
});

describe("openAIItemSource", () => {
  test("parses events until the first content chunk, keeps plain chunks as text after it", async () => {
    const items: any[] = [];
    const reader = itemStream(openAIItemSource(upstream(OPENAI_WITH_USAGE), "openai-main")).getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) break;
      items.push(r.value);
    }
    // role announcement and first content parsed; the rest plain text; the usage chunk parsed
    expect(items.map((i) => ("text" in i ? "text" : "chunk" in i ? "chunk" : "other"))).toEqual(["chunk", "chunk", "text", "text", "chunk"]);
    expect(items[1].chunk.choices[0].delta.content).toBe("Hel");
    expect(items[2].text).toBe(OPENAI_WITH_USAGE[2]);
    expect(items[4].chunk.usage.completion_tokens).toBe(2);
  });
});

describe("a stream through both stages", () => {
  test("the client gets every chunk with provider and without the usage it did not ask for; usage is logged", async () => {
    const { data, firstToken, ended } = await client(OPENAI_WITH_USAGE);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    // the usage-only chunk is hidden, every other chunk is there in order
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? null)).toEqual(["", "Hel", 'lo "usage": {x} \\"error\\"', null]);
    for (const c of chunks) {
      expect(c.provider).toBe("openai-main");
      expect("usage" in c).toBe(false);
    }
    expect(chunks[3].choices[0].finish_reason).toBe("stop");
    expect(firstToken).toBe(1);
    expect(ended!.error).toBeNull();
    expect(ended!.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 2 });
  });

  test("a client that asked for usage gets usage:null in each chunk and the usage chunk", async () => {
    const { data } = await client(OPENAI_WITH_USAGE, { includeUsage: true });
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks).toHaveLength(5);
    expect(chunks.slice(0, 4).every((c) => c.usage === null)).toBe(true);
    expect(chunks[4].usage.total_tokens).toBe(7);
  });

  test("strict mode: plain chunks are parsed after all and sent without provider", async () => {
    const { data } = await client(OPENAI_WITH_USAGE, { strict: true });
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks).toHaveLength(4);
    expect(chunks.every((c) => !("provider" in c) && !("usage" in c))).toBe(true);
    expect(chunks[2].choices[0].delta.content).toBe('lo "usage": {x} \\"error\\"');
  });

  test("an event whose data spans several lines reaches the client as one valid event", async () => {
    const pretty = (delta: Record<string, unknown>) => JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: null }] }, null, 1);
    const { text, data } = await client([pretty({ role: "assistant", content: "A" }), chunk({ content: "B" }), pretty({ content: "C" }), "[DONE]"]);
    // one line per event: a line without `data:` would be lost to the client's SSE parser
    const events = text.split("\n\n").filter(Boolean);
    expect(events.every((e) => e.startsWith("data: ") && !e.includes("\n"))).toBe(true);
    expect(data.at(-1)).toBe("[DONE]");
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d));
    expect(chunks.map((c) => c.choices[0].delta.content)).toEqual(["A", "B", "C"]);
    expect(chunks.every((c) => c.provider === "openai-main")).toBe(true);
  });

  test("an event that is not JSON after the content ends the stream with an error naming the account", async () => {
    const { data, ended } = await client([chunk({ content: "Hi" }), "<html>502 Bad Gateway</html>", chunk({ content: "never" })]);
    expect(JSON.parse(data[0]!).choices[0].delta.content).toBe("Hi");
    const err = JSON.parse(data[1]!);
    expect(err.error.message).toContain("'openai-main' sent an unreadable stream event");
    expect(data).toHaveLength(2);
    expect(ended!.error.status).toBe(502);
  });

  test("an error event after the content reaches the client as an error and is logged", async () => {
    const { data, ended } = await client([chunk({ content: "Hi" }), JSON.stringify({ error: { message: "overloaded", type: "server_error" } })]);
    expect(JSON.parse(data[1]!).error.message).toContain("overloaded");
    expect(ended!.error.message).toContain("overloaded");
  });
});

describe("Groq's x_groq.usage (older API versions)", () => {
  // the recorded Groq stream, as an older API version sends it: the usage only under x_groq
  const recorded = Bun.file(sharedPath("fixtures/recorded/groq/groq-text.chunks.txt"));
  const events = async () =>
    (await recorded.text())
      .trim()
      .split("\n")
      .map((line) => {
        const o = JSON.parse(line);
        delete o.usage;
        return JSON.stringify(o);
      })
      .concat("[DONE]");

  test("becomes a usage chunk of its own with no choices, as OpenAI sends it, when the client asked", async () => {
    const { data, ended } = await client(await events(), { includeUsage: true });
    const chunks = data.filter((d) => d !== "[DONE]").map((d) => JSON.parse(d));
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage).toEqual({ prompt_tokens: 45, completion_tokens: 662, total_tokens: 707 });
    // the finish chunk before it carries no usage
    expect(chunks.at(-2)!.choices[0].finish_reason).toBe("stop");
    expect(chunks.at(-2)!.usage ?? null).toBeNull();
    expect(ended!.usage).toMatchObject({ prompt_tokens: 45, completion_tokens: 662 });
  });

  test("is hidden from a client that did not ask, and still logged", async () => {
    const { data, ended } = await client(await events());
    expect(data.filter((d) => d !== "[DONE]").every((d) => !JSON.parse(d).usage)).toBe(true);
    expect(ended!.usage).toMatchObject({ prompt_tokens: 45, completion_tokens: 662 });
  });
});
