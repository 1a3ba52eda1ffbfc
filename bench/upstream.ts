/**
 * Bench upstream: a fixed OpenAI chat completion as fast as Bun can answer; with STREAM=1, every answer is an SSE
 * stream of STREAM_EVENTS content chunks, a usage chunk and [DONE], each event written and flushed on its own as a
 * real upstream sends them.
 */
import { COMPLETION } from "./completion.ts";

export const STREAM_EVENTS = 100;

const body = JSON.stringify(COMPLETION);
const enc = new TextEncoder();
const base = { id: "chatcmpl-bench", object: "chat.completion.chunk", created: COMPLETION.created, model: COMPLETION.model };
const event = (o: unknown) => enc.encode(`data: ${JSON.stringify(o)}\n\n`);
const events = [
  event({ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] }),
  ...Array.from({ length: STREAM_EVENTS }, (_, i) => event({ ...base, choices: [{ index: 0, delta: { content: `tok${i} ` }, finish_reason: null }] })),
  event({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }),
  event({ ...base, choices: [], usage: { prompt_tokens: 12, completion_tokens: STREAM_EVENTS, total_tokens: 12 + STREAM_EVENTS } }),
  enc.encode("data: [DONE]\n\n"),
];

if (import.meta.main) {
  const server = Bun.serve({
    port: Number(process.env.PORT ?? 0),
    hostname: "127.0.0.1",
    fetch() {
      if (process.env.STREAM !== "1") return new Response(body, { headers: { "content-type": "application/json" } });
      return new Response(
        // Bun's direct stream: each event written and flushed as it is (types in bun-types lag behind)
        new ReadableStream({
          type: "direct",
          async pull(c: any) {
            for (const e of events) {
              c.write(e);
              await c.flush();
            }
            c.close();
          },
        } as any),
        { headers: { "content-type": "text/event-stream" } },
      );
    },
  });
  console.log(server.port);
}
