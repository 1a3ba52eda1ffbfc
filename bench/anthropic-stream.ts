/**
 * Chunks per second through the Anthropic stream translator, in one thread: a synthetic Anthropic SSE stream of
 * N text deltas (as bytes, in network-sized pieces) → SSE parse → translate → OpenAI chunk items → SSE bytes out.
 */
import { anthropicItemSource, anthropicStreamItems, anthropicStreamTranslator } from "../src/providers/anthropic/anthropic-stream.ts";
import { encodeChatStream } from "../src/http/sse.ts";

function events(n: number) {
  const out: any[] = [
    { type: "message_start", message: { id: "msg_bench", type: "message", role: "assistant", model: "claude-sonnet-4-20250514", content: [], stop_reason: null, usage: { input_tokens: 25, output_tokens: 1 } } },
    { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } },
  ];
  for (let i = 0; i < n; i++) out.push({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: `word${i % 100} ` } });
  out.push({ type: "content_block_stop", index: 0 }, { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: n } }, { type: "message_stop" });
  return out;
}

function sseBytes(evs: any[]): Uint8Array[] {
  const text = evs.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join("");
  const all = new TextEncoder().encode(text);
  const pieces: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += 16 * 1024) pieces.push(all.subarray(i, i + 16 * 1024));
  return pieces;
}

const fromArray = <T>(xs: T[]) =>
  new ReadableStream<T>({
    start(c) {
      for (const x of xs) c.enqueue(x);
      c.close();
    },
  });

async function drain(s: ReadableStream<unknown>): Promise<number> {
  let n = 0;
  const r = s.getReader();
  for (;;) {
    const { done } = await r.read();
    if (done) return n;
    n++;
  }
}

export async function benchAnthropicStream(n = 200_000): Promise<{ translate: number; bytesToItems: number; bytesToBytes: number }> {
  const evs = events(n);
  const bytes = sseBytes(evs);
  await drain(anthropicStreamItems(fromArray(sseBytes(events(5000))), { account: "bench" })); // warm-up

  let t = performance.now();
  await drain(fromArray(evs).pipeThrough(anthropicStreamTranslator({ account: "bench" })));
  const translate = n / ((performance.now() - t) / 1000);

  t = performance.now();
  await drain(anthropicStreamItems(fromArray(bytes), { account: "bench" }));
  const bytesToItems = n / ((performance.now() - t) / 1000);

  t = performance.now();
  const items = anthropicItemSource(fromArray(bytes), { account: "bench" });
  await drain(
    encodeChatStream(items, [], { includeUsage: true, provider: "bench", heartbeatMs: 15_000, onFirstToken() {}, onEnd() {} }),
  );
  const bytesToBytes = n / ((performance.now() - t) / 1000);
  return { translate, bytesToItems, bytesToBytes };
}

if (import.meta.main) {
  const r = await benchAnthropicStream();
  const f = (x: number) => Math.round(x).toLocaleString("en-US");
  console.log(`events → chunks (translator only): ${f(r.translate)} chunks/s`);
  console.log(`SSE bytes → chunks (parse + translate): ${f(r.bytesToItems)} chunks/s`);
  console.log(`SSE bytes → OpenAI SSE bytes (parse + translate + encode): ${f(r.bytesToBytes)} chunks/s`);
}
