/**
 * Moderations, image generation and speech through the SDK: the model picks the account and the upstream model,
 * the body goes up with it and the account's credential, the answer comes back as written (JSON with provider and
 * its usage logged; speech audio byte for byte); a model without the endpoint's type answers 400 naming it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startGateway, type TestGateway } from "../helpers/gateway.ts";
import { fakeUpstream } from "../helpers/upstream.ts";

const seen: { path: string; authorization: string | null; body: any }[] = [];
/** not UTF-8: speech comes back as these bytes only if nothing decodes it on the way */
const AUDIO = Buffer.from([0x49, 0x44, 0x33, 0x04, 0x00, 0xff, 0xfb, 0x90, 0x80, 0xc3, 0x28]);
let upstream: ReturnType<typeof fakeUpstream>;
let g: TestGateway;

beforeAll(async () => {
  upstream = fakeUpstream(async (req) => {
    const path = new URL(req.url).pathname;
    // a file's content (pass-through): binary, of known length
    if (path === "/v1/files/file-abc/content") return new Response(AUDIO, { headers: { "content-type": "application/octet-stream" } });
    const body = await req.json();
    seen.push({ path, authorization: req.headers.get("authorization"), body });
    if (path === "/v1/moderations") {
      return Response.json({ id: "modr-1", model: body.model, results: [{ flagged: true, categories: { violence: true }, category_scores: { violence: 0.97 } }] });
    }
    if (path === "/v1/images/generations") {
      return Response.json({
        created: 1700000000,
        data: [{ b64_json: "aW1hZ2U=" }],
        usage: { input_tokens: 50, output_tokens: 1056, total_tokens: 1106, input_tokens_details: { text_tokens: 50, image_tokens: 0 } },
      });
    }
    return new Response(AUDIO, { headers: { "content-type": "audio/mpeg" } });
  });
  g = await startGateway(`
accounts:
  - name: openai-main
    provider: openai
    base_url: http://127.0.0.1:${upstream.port}/v1
    auth: { api_key: sk-upstream-media }
    models:
      - { name: moderation, model_id: omni-moderation-latest, types: [moderation] }
      - { name: gpt-image-1, types: [image] }
      - { name: tts-1, types: [text_to_speech] }
      - { name: gpt-4o-mini, types: [chat] }
`);
});

afterAll(async () => {
  await g.close();
  upstream.stop(true);
});

test("moderations: the upstream model id goes up with the account's credential; the result comes back with provider", async () => {
  seen.length = 0;
  const r = await g.client(g.adminKey).moderations.create({ model: "openai-main/moderation", input: "a violent text" });
  expect(r.results[0]!.flagged).toBe(true);
  expect((r as any).provider).toBe("openai-main");
  expect(seen[0]).toMatchObject({ path: "/v1/moderations", authorization: "Bearer sk-upstream-media", body: { model: "omni-moderation-latest", input: "a violent text" } });
  await Bun.sleep(30);
  expect(g.logs()[0]).toMatchObject({ endpoint: "moderations", model: "moderation", status: 200 });
});

test("image generation: the image comes back, its token usage is logged", async () => {
  const r = await g.client(g.adminKey).images.generate({ model: "openai-main/gpt-image-1", prompt: "a lighthouse at dusk", size: "1024x1024" });
  expect(r.data![0]!.b64_json).toBe("aW1hZ2U=");
  expect(seen.at(-1)!.body).toMatchObject({ model: "gpt-image-1", prompt: "a lighthouse at dusk", size: "1024x1024" });
  await Bun.sleep(30);
  expect(g.logs()[0]).toMatchObject({ endpoint: "images/generations", status: 200, prompt_tokens: 50, completion_tokens: 1056 });
});

test("speech: the audio comes back byte for byte with its content type", async () => {
  const res = await g.client(g.adminKey).audio.speech.create({ model: "openai-main/tts-1", voice: "alloy", input: "Hello!" });
  expect(res.headers.get("content-type")).toBe("audio/mpeg");
  expect(Buffer.from(await res.arrayBuffer()).equals(AUDIO)).toBe(true);
  expect(seen.at(-1)!.body).toMatchObject({ model: "tts-1", voice: "alloy", input: "Hello!" });
  await Bun.sleep(30);
  expect(g.logs()[0]).toMatchObject({ endpoint: "audio/speech", model: "tts-1", status: 200 });
});

test("capability gating and bad bodies: 400 naming the model, or the parameter", async () => {
  const client = g.client(g.adminKey);
  const wrongType: any = await client.moderations.create({ model: "openai-main/gpt-4o-mini", input: "x" }).catch((e) => e);
  expect(wrongType.status).toBe(400);
  expect(wrongType.message).toContain("moderation is not supported for the model openai-main/gpt-4o-mini");
  const speechOnChat: any = await client.audio.speech.create({ model: "openai-main/gpt-4o-mini", voice: "alloy", input: "x" }).catch((e) => e);
  expect(speechOnChat.status).toBe(400);
  expect(speechOnChat.message).toContain("text_to_speech is not supported for the model openai-main/gpt-4o-mini");
  const noModel = await fetch(`${g.url}/v1/images/generations`, {
    method: "POST",
    headers: { authorization: `Bearer ${g.adminKey}`, "content-type": "application/json" },
    body: JSON.stringify({ prompt: "x" }),
  });
  expect(noModel.status).toBe(400);
  expect((await noModel.json()).error.param).toBe("model");
  const badJson = await fetch(`${g.url}/v1/moderations`, {
    method: "POST",
    headers: { authorization: `Bearer ${g.adminKey}`, "content-type": "application/json" },
    body: "{not json",
  });
  expect(badJson.status).toBe(400);
});

test("a binary file downloaded through pass-through arrives byte for byte", async () => {
  const res = await fetch(`${g.url}/v1/files/file-abc/content`, { headers: { authorization: `Bearer ${g.adminKey}`, "x-tfy-provider-name": "openai-main" } });
  expect(res.status).toBe(200);
  expect(Buffer.from(await res.arrayBuffer()).equals(AUDIO)).toBe(true);
  // and through the SDK
  const viaSdk = await g.client(g.adminKey).files.content("file-abc", { headers: { "x-tfy-provider-name": "openai-main" } });
  expect(Buffer.from(await viaSdk.arrayBuffer()).equals(AUDIO)).toBe(true);
});
