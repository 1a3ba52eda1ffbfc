/** Bench upstream: a fixed OpenAI chat completion (JSON or a short SSE stream), as fast as Bun can answer. */
import { COMPLETION } from "./completion.ts";

const body = JSON.stringify(COMPLETION);
const server = Bun.serve({
  port: Number(process.env.PORT ?? 0),
  hostname: "127.0.0.1",
  fetch: () => new Response(body, { headers: { "content-type": "application/json" } }),
});
console.log(server.port);
export {};
