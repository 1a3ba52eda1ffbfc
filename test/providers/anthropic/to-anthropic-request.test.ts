/**
 * OpenAI request → Anthropic Messages body. Expected bodies follow the request examples of
 * Anthropic's documentation (Messages API, vision, PDF support, tool use, extended thinking, prompt
 * caching); the OpenAI side is what the OpenAI SDK sends for the same conversation.
 */
import { describe, expect, test } from "bun:test";
import { MODEL, translate, WEATHER_TOOL, ANTHROPIC_WEATHER_TOOL } from "./helpers.ts";

describe("basic messages (Messages API examples)", () => {
  test("a single user message, max_tokens given", () => {
    const r = translate({ model: "anthropic-main/claude", max_tokens: 1024, messages: [{ role: "user", content: "Hello, Claude" }] });
    expect(r.body).toEqual({ model: MODEL, max_tokens: 1024, messages: [{ role: "user", content: "Hello, Claude" }] });
    expect(r.betas).toEqual([]);
    expect(r.notes).toEqual([]);
    expect(r.stream).toBe(false);
  });

  test("multiple conversational turns pass through in order", () => {
    const messages = [
      { role: "user", content: "Hello there." },
      { role: "assistant", content: "Hi, I'm Claude. How can I help you?" },
      { role: "user", content: "Can you describe LLMs to me?" },
    ] as const;
    expect(translate({ messages, max_tokens: 1024 }).body.messages).toEqual([...messages]);
  });

  test("max_completion_tokens wins over max_tokens; absent → the model default", () => {
    expect(translate({ messages: [{ role: "user", content: "Hi" }], max_tokens: 10, max_completion_tokens: 20 }).body.max_tokens).toBe(20);
    expect(translate({ messages: [{ role: "user", content: "Hi" }] }, { defaultMaxTokens: 8192 }).body.max_tokens).toBe(8192);
  });

  test("system and developer messages become the top-level system string", () => {
    const r = translate({
      messages: [
        { role: "system", content: "You are a seasoned data scientist." },
        { role: "developer", content: [{ type: "text", text: "Answer briefly." }] },
        { role: "user", content: "Analyze this dataset." },
      ],
    });
    expect(r.body.system).toBe("You are a seasoned data scientist.\nAnswer briefly.");
    expect(r.body.messages).toEqual([{ role: "user", content: "Analyze this dataset." }]);
  });

  test("consecutive messages of the same role are merged into one turn", () => {
    const r = translate({
      messages: [
        { role: "user", content: "First." },
        { role: "user", content: [{ type: "text", text: "Second." }] },
        { role: "assistant", content: "Reply." },
        { role: "assistant", content: "More." },
        { role: "user", content: "Third." },
      ],
    });
    expect(r.body.messages).toEqual([
      { role: "user", content: [{ type: "text", text: "First." }, { type: "text", text: "Second." }] },
      { role: "assistant", content: [{ type: "text", text: "Reply." }, { type: "text", text: "More." }] },
      { role: "user", content: "Third." },
    ]);
  });

  test("a system message in the middle is hoisted and the turns around it merge", () => {
    const r = translate({
      messages: [
        { role: "user", content: "A" },
        { role: "system", content: "Be terse." },
        { role: "user", content: "B" },
      ],
    });
    expect(r.body.system).toBe("Be terse.");
    expect(r.body.messages).toEqual([{ role: "user", content: [{ type: "text", text: "A" }, { type: "text", text: "B" }] }]);
  });

  test("a conversation opening with the assistant gets a user turn first, noted", () => {
    const r = translate({
      messages: [
        { role: "system", content: "Be nice." },
        { role: "assistant", content: "Hi! How can I help?" },
        { role: "user", content: "Tell me a joke." },
      ],
    });
    expect(r.body.messages[0]).toEqual({ role: "user", content: "." });
    expect(r.body.messages[1]).toEqual({ role: "assistant", content: "Hi! How can I help?" });
    expect(r.notes.some((n) => n.includes("opened with an assistant message"))).toBe(true);
  });

  test("only system messages → sent as the user turn", () => {
    const r = translate({ messages: [{ role: "system", content: "Write a haiku about gateways." }] });
    expect(r.body.system).toBeUndefined();
    expect(r.body.messages).toEqual([{ role: "user", content: "Write a haiku about gateways." }]);
    expect(r.notes).toHaveLength(1);
  });

  test("a final assistant message (prefill) is trimmed of trailing whitespace", () => {
    const r = translate({
      messages: [
        { role: "user", content: "What is latin for Ant? (A) Apoidea, (B) Rhopalocera, (C) Formicidae" },
        { role: "assistant", content: "The answer is (  \n" },
      ],
    });
    expect(r.body.messages[1]).toEqual({ role: "assistant", content: "The answer is (" });
  });

  test("empty text parts are left out", () => {
    const r = translate({ messages: [{ role: "user", content: [{ type: "text", text: "" }, { type: "text", text: "Hi" }] }] });
    expect(r.body.messages).toEqual([{ role: "user", content: "Hi" }]);
  });

  test("stop, temperature, top_p, top_k, user, stream", () => {
    const r = translate({
      messages: [{ role: "user", content: "Hi" }],
      stop: ["\n\nHuman:", "END"],
      temperature: 0.7,
      top_p: 0.9,
      top_k: 40,
      user: "user-123",
      stream: true,
      stream_options: { include_usage: true },
    });
    expect(r.body).toMatchObject({
      stop_sequences: ["\n\nHuman:", "END"],
      temperature: 0.7,
      top_p: 0.9,
      top_k: 40,
      metadata: { user_id: "user-123" },
      stream: true,
    });
    expect(r.stream).toBe(true);
    expect((r.body as any).stream_options).toBeUndefined();
    expect(translate({ messages: [{ role: "user", content: "Hi" }], stop: "END" }).body.stop_sequences).toEqual(["END"]);
  });

  test("OpenAI-only parameters at neutral values are dropped silently", () => {
    const r = translate({
      messages: [{ role: "user", content: "Hi" }],
      n: 1,
      logprobs: false,
      frequency_penalty: 0,
      presence_penalty: 0,
      logit_bias: {},
      top_logprobs: 0,
      modalities: ["text"],
      store: false,
      metadata: { tag: "x" },
      prompt_cache_key: "conversation-42",
      service_tier: "auto",
      seed: null,
    });
    expect(r.body).toEqual({ model: MODEL, max_tokens: 64000, messages: [{ role: "user", content: "Hi" }] });
    expect(r.notes).toEqual([]);
  });

  test("non-neutral OpenAI-only parameters are dropped with a note when the account allows", () => {
    const r = translate(
      { messages: [{ role: "user", content: "Hi" }], seed: 42, n: 2, presence_penalty: 0.5, logprobs: true },
      { dropUnsupported: true },
    );
    expect(r.body).toEqual({ model: MODEL, max_tokens: 64000, messages: [{ role: "user", content: "Hi" }] });
    expect(r.notes).toEqual([
      "dropped unsupported parameter 'n' (Anthropic has no equivalent)",
      "dropped unsupported parameter 'logprobs' (Anthropic has no equivalent)",
      "dropped unsupported parameter 'presence_penalty' (Anthropic has no equivalent)",
      "dropped unsupported parameter 'seed' (Anthropic has no equivalent)",
    ]);
  });
});

describe("images and documents (vision and PDF support examples)", () => {
  test("image by URL", () => {
    const url = "https://upload.wikimedia.org/wikipedia/commons/a/a7/Camponotus_flavomarginatus_ant.jpg";
    const r = translate({
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url, detail: "auto" } }, { type: "text", text: "Describe this image." }] }],
    });
    expect(r.body.messages[0]!.content).toEqual([
      { type: "image", source: { type: "url", url } },
      { type: "text", text: "Describe this image." },
    ]);
  });

  test("image as a base64 data URI", () => {
    const r = translate({
      messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/jpeg;base64,/9j/4AAQSkZJRg==" } }, { type: "text", text: "What is in this image?" }] }],
    });
    expect(r.body.messages[0]!.content).toEqual([
      { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "/9j/4AAQSkZJRg==" } },
      { type: "text", text: "What is in this image?" },
    ]);
  });

  test("PDF as a file part with base64 file_data", () => {
    const r = translate({
      messages: [
        {
          role: "user",
          content: [
            { type: "file", file: { filename: "report.pdf", file_data: "data:application/pdf;base64,JVBERi0xLjQK" } },
            { type: "text", text: "What are the key findings in this document?" },
          ],
        },
      ],
    });
    expect(r.body.messages[0]!.content).toEqual([
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0xLjQK" } },
      { type: "text", text: "What are the key findings in this document?" },
    ]);
  });

  test("PDF by URL (image_url declared application/pdf) and as a data URI in image_url", () => {
    const url = "https://assets.anthropic.com/m/1cd9d098ac3e6467/original/Claude-3-Model-Card-October-Addendum.pdf";
    const r = translate({
      messages: [
        {
          role: "user",
          content: [
            { type: "image_url", image_url: { url, mime_type: "application/pdf" } },
            { type: "image_url", image_url: { url: "data:application/pdf;base64,JVBERi0x" } },
          ],
        },
      ],
    });
    expect(r.body.messages[0]!.content).toEqual([
      { type: "document", source: { type: "url", url } },
      { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBERi0x" } },
    ]);
  });

  test("file_id uses the Files API source and beta", () => {
    const r = translate({ messages: [{ role: "user", content: [{ type: "file", file: { file_id: "file_011CNha8iCJcU1wXNR6q4V8w" } }] }] });
    expect(r.body.messages[0]!.content).toEqual([{ type: "document", source: { type: "file", file_id: "file_011CNha8iCJcU1wXNR6q4V8w" } }]);
    expect(r.betas).toEqual(["files-api-2025-04-14"]);
  });

  test("a text/plain data URI becomes a plain-text document", () => {
    const data = Buffer.from("The grass is green.").toString("base64");
    const r = translate({ messages: [{ role: "user", content: [{ type: "file", file: { file_data: `data:text/plain;base64,${data}` } }] }] });
    expect(r.body.messages[0]!.content).toEqual([
      { type: "document", source: { type: "text", media_type: "text/plain", data: "The grass is green." } },
    ]);
  });
});

describe("tools (tool use examples)", () => {
  test("tools → input_schema; tool_choice of each kind", () => {
    const base = { messages: [{ role: "user", content: "What's the weather like in San Francisco?" }], tools: [WEATHER_TOOL] };
    expect(translate(base).body.tools).toEqual([ANTHROPIC_WEATHER_TOOL]);
    expect(translate(base).body.tool_choice).toBeUndefined();
    expect(translate({ ...base, tool_choice: "auto" }).body.tool_choice).toEqual({ type: "auto" });
    expect(translate({ ...base, tool_choice: "none" }).body.tool_choice).toEqual({ type: "none" });
    expect(translate({ ...base, tool_choice: "required" }).body.tool_choice).toEqual({ type: "any" });
    expect(translate({ ...base, tool_choice: { type: "function", function: { name: "get_weather" } } }).body.tool_choice).toEqual({
      type: "tool",
      name: "get_weather",
    });
  });

  test("parallel_tool_calls: false → disable_parallel_tool_use", () => {
    const base = { messages: [{ role: "user", content: "Weather?" }], tools: [WEATHER_TOOL], parallel_tool_calls: false };
    expect(translate(base).body.tool_choice).toEqual({ type: "auto", disable_parallel_tool_use: true });
    expect(translate({ ...base, tool_choice: "required" }).body.tool_choice).toEqual({ type: "any", disable_parallel_tool_use: true });
  });

  test("a tool without parameters gets an empty object schema", () => {
    const r = translate({ messages: [{ role: "user", content: "Update" }], tools: [{ type: "function", function: { name: "updateIssueList" } }] });
    expect(r.body.tools).toEqual([{ name: "updateIssueList", input_schema: { type: "object", properties: {} } }]);
  });

  test("a full tool round trip: tool_calls → tool_use, tool message → tool_result", () => {
    const r = translate({
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: "What's the weather like in San Francisco?" },
        {
          role: "assistant",
          content: "I'll check the current weather in San Francisco for you.",
          tool_calls: [
            {
              id: "toolu_01A09q90qw90lq917835lq9",
              type: "function",
              function: { name: "get_weather", arguments: '{"location": "San Francisco, CA", "unit": "celsius"}' },
            },
          ],
        },
        { role: "tool", tool_call_id: "toolu_01A09q90qw90lq917835lq9", content: "15 degrees" },
      ],
    });
    expect(r.body.messages).toEqual([
      { role: "user", content: "What's the weather like in San Francisco?" },
      {
        role: "assistant",
        content: [
          { type: "text", text: "I'll check the current weather in San Francisco for you." },
          { type: "tool_use", id: "toolu_01A09q90qw90lq917835lq9", name: "get_weather", input: { location: "San Francisco, CA", unit: "celsius" } },
        ],
      },
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01A09q90qw90lq917835lq9", content: "15 degrees" }] },
    ]);
  });

  test("parallel tool results are grouped into one user turn, before the user's text", () => {
    const r = translate({
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: "Weather in SF and NYC?" },
        {
          role: "assistant",
          content: null,
          tool_calls: [
            { id: "toolu_1", type: "function", function: { name: "get_weather", arguments: '{"location":"San Francisco, CA"}' } },
            { id: "toolu_2", type: "function", function: { name: "get_weather", arguments: '{"location":"New York, NY"}' } },
          ],
        },
        { role: "tool", tool_call_id: "toolu_1", content: "68°F, sunny" },
        { role: "tool", tool_call_id: "toolu_2", content: [{ type: "text", text: "45°F, cloudy" }] },
        { role: "user", content: "Which is warmer?" },
      ],
    });
    expect(r.body.messages).toHaveLength(3);
    expect(r.body.messages[1]!.content).toEqual([
      { type: "tool_use", id: "toolu_1", name: "get_weather", input: { location: "San Francisco, CA" } },
      { type: "tool_use", id: "toolu_2", name: "get_weather", input: { location: "New York, NY" } },
    ]);
    expect(r.body.messages[2]).toEqual({
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_1", content: "68°F, sunny" },
        { type: "tool_result", tool_use_id: "toolu_2", content: "45°F, cloudy" },
        { type: "text", text: "Which is warmer?" },
      ],
    });
  });

  test("empty arguments become an empty input object", () => {
    const r = translate({
      messages: [
        { role: "user", content: "Update" },
        { role: "assistant", tool_calls: [{ id: "toolu_x", type: "function", function: { name: "updateIssueList", arguments: "" } }] },
        { role: "tool", tool_call_id: "toolu_x", content: "" },
      ],
    });
    expect(r.body.messages[1]!.content).toEqual([{ type: "tool_use", id: "toolu_x", name: "updateIssueList", input: {} }]);
    expect(r.body.messages[2]!.content).toEqual([{ type: "tool_result", tool_use_id: "toolu_x" }]);
  });
});
