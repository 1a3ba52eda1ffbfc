/** Invalid or untranslatable requests → 400 before any upstream call, with the right `param`. */
import { describe, expect, test } from "bun:test";
import { GatewayError } from "../../../src/http/errors.ts";
import { toAnthropicRequest } from "../../../src/providers/anthropic/to-anthropic-request.ts";
import { expectBadRequest } from "./helpers.ts";

const translate = (body: Record<string, any>, dropUnsupported = false) =>
  toAnthropicRequest(body, { model: "claude-sonnet-4-5-20250929", defaultMaxTokens: 64000, dropUnsupported });

const rejects = (body: Record<string, any>, param: string, message?: RegExp | string) => expectBadRequest(() => translate(body), param, message);

const hi = [{ role: "user", content: "Hi" }];
const weatherTool = {
  type: "function",
  function: { name: "get_weather", parameters: { type: "object", properties: { location: { type: "string" } } } },
};

describe("request validation", () => {
  test("invalid tool-call arguments JSON names the message and call", () => {
    rejects(
      {
        messages: [
          { role: "user", content: "Weather?" },
          { role: "assistant", tool_calls: [{ id: "call_1", type: "function", function: { name: "get_weather", arguments: '{"location": "Paris"' } }] },
          { role: "tool", tool_call_id: "call_1", content: "20°C" },
        ],
      },
      "messages[1].tool_calls[0].function.arguments",
      /messages\[1\]\.tool_calls\[0\]\.function\.arguments is not valid JSON/,
    );
  });

  test("tool-call arguments that are JSON but not an object", () => {
    rejects(
      { messages: [{ role: "user", content: "Q" }, { role: "assistant", tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "[1,2]" } }] }] },
      "messages[1].tool_calls[0].function.arguments",
      /must be a JSON object/,
    );
  });

  test("temperature above Anthropic's maximum of 1", () => {
    rejects({ messages: hi, temperature: 1.5 }, "temperature", /above the maximum of 1/);
    rejects({ messages: hi, temperature: -0.1 }, "temperature");
  });

  test("top_p out of range, top_k and max_tokens not positive integers", () => {
    rejects({ messages: hi, top_p: 2 }, "top_p");
    rejects({ messages: hi, top_k: 0 }, "top_k");
    rejects({ messages: hi, max_tokens: 0 }, "max_tokens");
    rejects({ messages: hi, max_completion_tokens: 1.5 }, "max_completion_tokens");
  });

  test.each([
    ["n", 2],
    ["logprobs", true],
    ["top_logprobs", 3],
    ["frequency_penalty", 0.5],
    ["presence_penalty", -1],
    ["seed", 42],
    ["logit_bias", { "50256": -100 }],
    ["audio", { voice: "alloy", format: "mp3" }],
    ["modalities", ["text", "audio"]],
    ["prediction", { type: "content", content: "x" }],
    ["web_search_options", {}],
    ["functions", [{ name: "f" }]],
  ])("unsupported parameter %s → 400 with its name as param", (param, value) => {
    const err = rejects({ messages: hi, [param]: value }, param, /not supported by Anthropic/);
    expect(err.code).toBe("unsupported_parameter");
    // and dropped instead when the account allows it
    expect(translate({ messages: hi, [param]: value }, true).notes).toEqual([
      `dropped unsupported parameter '${param}' (Anthropic has no equivalent)`,
    ]);
  });

  test("strict json_schema with a property missing from required", () => {
    rejects(
      {
        messages: hi,
        response_format: {
          type: "json_schema",
          json_schema: {
            name: "weather",
            strict: true,
            schema: {
              type: "object",
              properties: { location: { type: "string" }, unit: { type: "string" } },
              required: ["location"],
              additionalProperties: false,
            },
          },
        },
      },
      "response_format",
      "Invalid schema for response_format 'weather': In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'unit'.",
    );
  });

  test("strict json_schema: nested objects are checked too, additionalProperties must be false", () => {
    rejects(
      {
        messages: hi,
        response_format: {
          type: "json_schema",
          json_schema: {
            name: "person",
            strict: true,
            schema: {
              type: "object",
              properties: { address: { type: "object", properties: { city: { type: "string" } }, required: ["city"] } },
              required: ["address"],
              additionalProperties: false,
            },
          },
        },
      },
      "response_format",
      "Invalid schema for response_format 'person': In context=('properties', 'address'), 'additionalProperties' is required to be supplied and to be false.",
    );
  });

  test("the same schema without strict is accepted", () => {
    const r = translate({
      messages: hi,
      response_format: {
        type: "json_schema",
        json_schema: { name: "weather", schema: { type: "object", properties: { location: { type: "string" }, unit: { type: "string" } }, required: ["location"] } },
      },
    });
    expect(r.jsonTool).toBe("json_output");
  });

  test("response_format errors: non-object root, missing name, unknown type", () => {
    rejects({ messages: hi, response_format: { type: "json_schema", json_schema: { name: "list", schema: { type: "array" } } } }, "response_format");
    rejects({ messages: hi, response_format: { type: "json_schema", json_schema: { schema: {} } } }, "response_format");
    rejects({ messages: hi, response_format: { type: "xml" } }, "response_format");
  });

  test("forced tool_choice with reasoning", () => {
    rejects({ messages: hi, tools: [weatherTool], tool_choice: "required", reasoning_effort: "high" }, "tool_choice", /forced tool use/);
    rejects(
      { messages: hi, tools: [weatherTool], tool_choice: { type: "function", function: { name: "get_weather" } }, thinking: { type: "enabled", budget_tokens: 2048 } },
      "tool_choice",
    );
  });

  test("reasoning_effort outside the known values", () => {
    rejects({ messages: hi, reasoning_effort: "extreme" }, "reasoning_effort");
  });

  test("tool_choice naming an unknown function, or malformed", () => {
    rejects({ messages: hi, tools: [weatherTool], tool_choice: { type: "function", function: { name: "nope" } } }, "tool_choice");
    rejects({ messages: hi, tools: [weatherTool], tool_choice: "sometimes" }, "tool_choice");
  });

  test("tools that are not functions, or without a name", () => {
    rejects({ messages: hi, tools: [{ type: "custom", custom: { name: "x" } }] }, "tools[0].type");
    rejects({ messages: hi, tools: [{ type: "function", function: {} }] }, "tools[0].function.name");
    rejects({ messages: hi, tools: [{ type: "function", function: { name: "json_output" } }], response_format: { type: "json_object" } }, "tools");
  });

  test("content parts Anthropic cannot take", () => {
    rejects(
      { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/bmp;base64,Qk0=" } }] }] },
      "messages[0].content[0].image_url.url",
      /image\/bmp/,
    );
    rejects(
      { messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "ftp://example.com/a.png" } }] }] },
      "messages[0].content[0].image_url.url",
    );
    rejects({ messages: [{ role: "user", content: [{ type: "input_audio", input_audio: { data: "x", format: "wav" } }] }] }, "messages[0].content[0].type");
    rejects({ messages: [{ role: "user", content: [{ type: "video", video: {} }] }] }, "messages[0].content[0].type");
    rejects({ messages: [{ role: "user", content: "Q" }, { role: "assistant", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }] }, "messages[1].content[0].type");
    rejects({ messages: [{ role: "user", content: [{ type: "file", file: {} }] }] }, "messages[0].content[0].file");
    rejects({ messages: [{ role: "user", content: [{ type: "text" }] }] }, "messages[0].content[0].text");
  });

  test("malformed messages", () => {
    rejects({ messages: [] }, "messages");
    rejects({ messages: [{ role: "system", content: "only empty" }, { role: "user", content: "" }].slice(1) }, "messages");
    rejects({ messages: [{ role: "wizard", content: "Hi" }] }, "messages[0].role");
    rejects({ messages: [{ role: "function", name: "f", content: "x" }] }, "messages[0].role");
    rejects({ messages: [{ role: "user", content: "Q" }, { role: "tool", content: "result" }] }, "messages[1].tool_call_id");
    rejects({ messages: [{ role: "user", content: "Q" }, { role: "assistant", tool_calls: [{ type: "function", function: { name: "f" } }] }] }, "messages[1].tool_calls[0].id");
    rejects({ messages: [{ role: "user", content: "Q" }, { role: "assistant", content: "A", thinking_blocks: [{ type: "thinking", thinking: "x" }] }] }, "messages[1].thinking_blocks[0]");
    rejects({ messages: [{ role: "user", content: 42 }] }, "messages[0].content");
    rejects({ messages: hi, stop: [1, 2] }, "stop");
  });
});
