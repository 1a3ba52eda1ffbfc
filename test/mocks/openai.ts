/**
 * A mock of OpenAI's published API on 127.0.0.1:0: chat completions (JSON and SSE, event by event), embeddings,
 * OpenAI-shaped errors, and an echo for any other path (to check pass-through). Records every request.
 */
export interface Recorded {
  method: string;
  path: string;
  search: string;
  headers: Record<string, string>;
  body: any;
  rawBody: string;
}

export type Reply =
  | { status: number; json: unknown; delayMs?: number; raw?: boolean; headers?: Record<string, string> }
  | { stream: unknown[]; delayMs?: number; raw?: string[]; stall?: { after: number; ms: number } }
  | { hang: true };

export interface OpenAIMock {
  url: string;
  requests: Recorded[];
  /** queue a reply for the next request (else a default built from the request) */
  reply(r: Reply): void;
  close(): void;
}

export const MOCK_KEY = "sk-upstream-test-key";

export function completion(text: string, model: string, usage = { prompt_tokens: 11, completion_tokens: 7 }) {
  return {
    id: "chatcmpl-mock123",
    object: "chat.completion",
    created: 1_770_000_000,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: text, refusal: null }, logprobs: null, finish_reason: "stop" }],
    usage: {
      ...usage,
      total_tokens: usage.prompt_tokens + usage.completion_tokens,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
    },
    system_fingerprint: "fp_mock",
  };
}

export function chunks(words: string[], model: string, includeUsage: boolean) {
  const base = { id: "chatcmpl-mockstream", object: "chat.completion.chunk", created: 1_770_000_000, model, system_fingerprint: "fp_mock" };
  const u = includeUsage ? { usage: null } : {};
  const out: any[] = [{ ...base, choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }], ...u }];
  for (const w of words) out.push({ ...base, choices: [{ index: 0, delta: { content: w }, finish_reason: null }], ...u });
  out.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }], ...u });
  if (includeUsage) {
    out.push({
      ...base,
      choices: [],
      usage: {
        prompt_tokens: 13,
        completion_tokens: words.length,
        total_tokens: 13 + words.length,
        prompt_tokens_details: { cached_tokens: 4 },
        completion_tokens_details: { reasoning_tokens: 0 },
      },
    });
  }
  return out;
}

const enc = new TextEncoder();

export function startOpenAIMock(opts: { key?: string } = {}): OpenAIMock {
  const key = opts.key ?? MOCK_KEY;
  const requests: Recorded[] = [];
  const queue: Reply[] = [];
  const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
    new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json", ...headers } });

  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 60,
    async fetch(req) {
      const url = new URL(req.url);
      const rawBody = req.method === "GET" || req.method === "HEAD" ? "" : await req.text();
      let body: any = undefined;
      try {
        body = rawBody ? JSON.parse(rawBody) : undefined;
      } catch {}
      requests.push({ method: req.method, path: url.pathname, search: url.search, headers: Object.fromEntries(req.headers as any), body, rawBody });

      if (req.headers.get("authorization") !== `Bearer ${key}`) {
        return json(401, { error: { message: "Incorrect API key provided: sk-up***.", type: "invalid_request_error", param: null, code: "invalid_api_key" } });
      }
      const r = queue.shift();
      if (r && "hang" in r) return new Promise<Response>(() => {});
      if (r && "status" in r) {
        if (r.delayMs) await Bun.sleep(r.delayMs);
        if (r.raw) return new Response(String(r.json), { status: r.status, headers: { "content-type": "text/html" } });
        return json(r.status, r.json, r.headers);
      }

      if (url.pathname === "/v1/chat/completions" && req.method === "POST") {
        if (!body?.model || !Array.isArray(body.messages)) {
          return json(400, { error: { message: "you must provide a model parameter", type: "invalid_request_error", param: "model", code: null } });
        }
        if (body.stream) {
          const events = r && "stream" in r ? r.stream : chunks(["Hello", " from", " the", " mock"], body.model, !!body.stream_options?.include_usage);
          const delay = r && "stream" in r ? (r.delayMs ?? 0) : 5;
          const raw = r && "stream" in r ? r.raw : undefined;
          const stall = r && "stream" in r ? r.stall : undefined;
          let i = 0;
          const lines = raw ?? [...events.map((e) => `data: ${JSON.stringify(e)}\n\n`), "data: [DONE]\n\n"];
          return new Response(
            new ReadableStream({
              async pull(c) {
                if (i >= lines.length) return c.close();
                if (delay) await Bun.sleep(delay);
                if (stall && i === stall.after) await Bun.sleep(stall.ms);
                c.enqueue(enc.encode(lines[i++]!));
              },
            }),
            { headers: { "content-type": "text/event-stream" } },
          );
        }
        const last = body.messages.at(-1)?.content;
        return json(200, completion(`echo: ${typeof last === "string" ? last : JSON.stringify(last)}`, body.model));
      }
      if (url.pathname === "/v1/embeddings" && req.method === "POST") {
        const inputs = Array.isArray(body.input) ? body.input : [body.input];
        return json(200, {
          object: "list",
          data: inputs.map((_: unknown, index: number) => {
            const vec = [0.1 * (index + 1), 0.2, -0.3];
            // the SDK asks for base64 by default: little-endian float32, as OpenAI sends it
            const embedding = body.encoding_format === "base64" ? Buffer.from(new Float32Array(vec).buffer).toString("base64") : vec;
            return { object: "embedding", index, embedding };
          }),
          model: body.model,
          usage: { prompt_tokens: inputs.length * 2, total_tokens: inputs.length * 2 },
        });
      }
      // anything else: echo, so pass-through can be checked
      return json(200, { echo: { method: req.method, path: url.pathname, search: url.search, body: body ?? null } });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}/v1`,
    requests,
    reply: (r) => queue.push(r),
    close: () => server.stop(true),
  };
}
