/**
 * The multipart endpoints through the SDK — audio transcriptions and translations, image edits: the form reaches the account with its credential and the
 * upstream model id, the answer comes back as the account wrote it, usage is logged; a model without the endpoint's
 * type answers 400 naming it (the example: whisper-1 with audio_transcription only).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { toFile } from "openai";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";
import { fakeUpstream } from "../helpers/upstream.ts";

interface Seen {
  path: string;
  authorization: string | null;
  model: unknown;
  fileName: string | undefined;
  fileBytes: string;
  responseFormat: unknown;
}
const seen: Seen[] = [];
let upstream: ReturnType<typeof fakeUpstream>;
let g: TestGateway;

beforeAll(async () => {
  upstream = fakeUpstream(async (req) => {
    const form = await req.formData();
    if (new URL(req.url).pathname === "/v1/images/edits") {
      const image = (form.get("image") ?? form.get("image[]")) as File | null;
      seen.push({ path: "/v1/images/edits", authorization: req.headers.get("authorization"), model: form.get("model"), fileName: image?.name, fileBytes: image ? await image.text() : "", responseFormat: null });
      return Response.json({ created: 1700000000, data: [{ b64_json: "ZWRpdGVk" }], usage: { input_tokens: 300, output_tokens: 1056, total_tokens: 1356 } });
    }
    const file = form.get("file") as File | null;
    seen.push({
      path: new URL(req.url).pathname,
      authorization: req.headers.get("authorization"),
      model: form.get("model"),
      fileName: file?.name,
      fileBytes: file ? await file.text() : "",
      responseFormat: form.get("response_format"),
    });
    if (form.get("response_format") === "srt") {
      return new Response("1\n00:00:00,000 --> 00:00:01,000\nbonjour\n", { headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    if (form.get("stream") === "true") {
      // a streamed transcription: deltas, then the done event with the usage
      const events = [
        { type: "transcript.text.delta", delta: "bonjour" },
        { type: "transcript.text.delta", delta: " tout le monde" },
        { type: "transcript.text.done", text: "bonjour tout le monde", usage: { type: "tokens", input_tokens: 14, output_tokens: 5, total_tokens: 19 } },
      ];
      return new Response(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(""), { headers: { "content-type": "text/event-stream" } });
    }
    const text = new URL(req.url).pathname.endsWith("translations") ? "hello everyone" : "bonjour tout le monde";
    // token-billed models report usage; whisper-1 does not
    if (form.get("model") === "gpt-4o-transcribe") return Response.json({ text, usage: { type: "tokens", input_tokens: 42, output_tokens: 6, total_tokens: 48 } });
    return Response.json({ text });
  });
  g = await startGateway(`
accounts:
  - name: openai-main
    provider: openai
    base_url: http://127.0.0.1:${upstream.port}/v1
    auth: { api_key: sk-upstream-audio }
    models:
      - { name: whisper-1, types: [audio_transcription] }
      - { name: transcribe, model_id: gpt-4o-transcribe, types: [audio_transcription, audio_translation] }
      - { name: gpt-4o-mini, types: [chat] }
      - { name: gpt-image-1, types: [image] }
`);
});

afterAll(async () => {
  await g.close();
  upstream.stop(true);
});

const file = () => toFile(Buffer.from("RIFF fake wav bytes"), "hello.wav", { type: "audio/wav" });

test("a transcription: the form reaches the account with its credential and upstream model id, the text comes back", async () => {
  seen.length = 0;
  const client = g.client(g.adminKey);
  const r = await client.audio.transcriptions.create({ model: "openai-main/whisper-1", file: await file() });
  expect(r.text).toBe("bonjour tout le monde");
  expect((r as any).provider).toBe("openai-main");
  expect(seen[0]).toMatchObject({
    path: "/v1/audio/transcriptions",
    authorization: "Bearer sk-upstream-audio",
    model: "whisper-1",
    fileName: "hello.wav",
    fileBytes: "RIFF fake wav bytes",
  });
  await Bun.sleep(30);
  expect(g.logs()[0]).toMatchObject({ endpoint: "audio/transcriptions", model: "whisper-1", status: 200 });
});

test("a token-billed model: the upstream model id goes up, usage is logged", async () => {
  seen.length = 0;
  const client = g.client(g.adminKey);
  const r = await client.audio.translations.create({ model: "openai-main/transcribe", file: await file() });
  expect(r.text).toBe("hello everyone");
  expect(seen[0]).toMatchObject({ path: "/v1/audio/translations", model: "gpt-4o-transcribe" });
  await Bun.sleep(30);
  expect(g.logs()[0]).toMatchObject({ endpoint: "audio/translations", model: "transcribe", status: 200, prompt_tokens: 42, completion_tokens: 6 });
});

test("text formats (SRT) come back as the account wrote them", async () => {
  const res = await fetch(`${g.url}/v1/audio/transcriptions`, {
    method: "POST",
    headers: { authorization: `Bearer ${g.adminKey}` },
    body: (() => {
      const f = new FormData();
      f.set("model", "openai-main/whisper-1");
      f.set("response_format", "srt");
      f.set("file", new File(["RIFF"], "a.wav", { type: "audio/wav" }));
      return f;
    })(),
  });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  expect(await res.text()).toBe("1\n00:00:00,000 --> 00:00:01,000\nbonjour\n");
  expect(res.headers.get("x-tfy-resolved-model")).toBe("openai-main/whisper-1");
});

test("capability gating: a model without the endpoint's type answers 400 naming it; bad forms are 400 with param", async () => {
  const client = g.client(g.adminKey);
  const noTranslation: any = await client.audio.translations.create({ model: "openai-main/whisper-1", file: await file() }).catch((e) => e);
  expect(noTranslation.status).toBe(400);
  expect(noTranslation.message).toContain("audio_translation is not supported for the model openai-main/whisper-1");
  expect(noTranslation.param).toBe("model");
  const chatModel: any = await client.audio.transcriptions.create({ model: "openai-main/gpt-4o-mini", file: await file() }).catch((e) => e);
  expect(chatModel.status).toBe(400);
  expect(chatModel.message).toContain("audio_transcription is not supported for the model openai-main/gpt-4o-mini");

  const noModel = await fetch(`${g.url}/v1/audio/transcriptions`, {
    method: "POST",
    headers: { authorization: `Bearer ${g.adminKey}` },
    body: (() => {
      const f = new FormData();
      f.set("file", new File(["RIFF"], "a.wav"));
      return f;
    })(),
  });
  expect(noModel.status).toBe(400);
  expect((await noModel.json()).error.param).toBe("model");
  const notAForm = await fetch(`${g.url}/v1/audio/transcriptions`, {
    method: "POST",
    headers: { authorization: `Bearer ${g.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "openai-main/whisper-1" }),
  });
  expect(notAForm.status).toBe(400);
  expect((await notAForm.json()).error.param).toBe("file");
});

test("a key that may not use the account gets 403 naming the model, and nothing is sent", async () => {
  seen.length = 0;
  const key = g.key("user:outsider@example.com");
  const err: any = await g.client(key).audio.transcriptions.create({ model: "openai-main/whisper-1", file: await file() }).catch((e) => e);
  expect(err.status).toBe(403);
  expect(err.message).toContain("openai-main/whisper-1");
  expect(seen).toHaveLength(0);
});

test("an image edit: the image and the upstream model go up, the edited image comes back, usage is logged", async () => {
  seen.length = 0;
  const r = await g.client(g.adminKey).images.edit({
    model: "openai-main/gpt-image-1",
    image: await toFile(Buffer.from("PNG bytes"), "cat.png", { type: "image/png" }),
    prompt: "add a hat",
  });
  expect(r.data![0]!.b64_json).toBe("ZWRpdGVk");
  expect(seen[0]).toMatchObject({ path: "/v1/images/edits", authorization: "Bearer sk-upstream-audio", model: "gpt-image-1", fileName: "cat.png", fileBytes: "PNG bytes" });
  await Bun.sleep(30);
  expect(g.logs()[0]).toMatchObject({ endpoint: "images/edits", model: "gpt-image-1", status: 200, prompt_tokens: 300 });
  const onWhisper: any = await g
    .client(g.adminKey)
    .images.edit({ model: "openai-main/whisper-1", image: await toFile(Buffer.from("x"), "a.png"), prompt: "x" })
    .catch((e) => e);
  expect(onWhisper.status).toBe(400);
  expect(onWhisper.message).toContain("image is not supported for the model openai-main/whisper-1");
});

test("a streamed transcription: events pass through as they come, and the usage of the last one is logged", async () => {
  const stream = await g.client(g.adminKey).audio.transcriptions.create({ model: "openai-main/transcribe", file: await file(), stream: true });
  const types: string[] = [];
  let text = "";
  for await (const e of stream as any) {
    types.push(e.type);
    if (e.type === "transcript.text.delta") text += e.delta;
  }
  expect(types).toEqual(["transcript.text.delta", "transcript.text.delta", "transcript.text.done"]);
  expect(text).toBe("bonjour tout le monde");
  await Bun.sleep(30);
  expect(g.logs()[0]).toMatchObject({ endpoint: "audio/transcriptions", model: "transcribe", status: 200, stream: 1, prompt_tokens: 14, completion_tokens: 5 });
});
