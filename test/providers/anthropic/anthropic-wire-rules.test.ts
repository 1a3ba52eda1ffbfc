/**
 * Rules of Anthropic's Messages API that OpenAI does not have, and how a request is fitted to them before it is
 * sent: tool ids limited to `^[a-zA-Z0-9_-]+$`, no text that is only whitespace, no whitespace-only stop
 * sequences. Each translated body is also checked against the Anthropic mock's rules (the same ones the real
 * API enforces), so a translation that would be an upstream 400 fails here.
 */
import { describe, expect, test } from "bun:test";
import { GatewayError } from "../../../src/http/errors.ts";
import { TOOL_IDS_REWRITTEN_NOTE, ToolUseIds } from "../../../src/providers/anthropic/tool-use-ids.ts";
import { checkAnthropicRequest } from "../../mocks/anthropic.ts";
import { expectBadRequest, translate, WEATHER_TOOL } from "./helpers.ts";

const HEADERS = { "x-api-key": "k", "anthropic-version": "2023-06-01" };
/** The translation, which the mock (Anthropic's rules) must accept. */
function accepted(body: Record<string, any>) {
  const r = translate(body);
  expect(checkAnthropicRequest(HEADERS, r.body)).toBeNull();
  return r;
}

const rejects = (body: Record<string, any>, param: string) => expectBadRequest(() => translate(body), param);

const call = (id: string, city = "Oslo") => ({ id, type: "function", function: { name: "get_weather", arguments: JSON.stringify({ location: city }) } });

describe("tool-call ids", () => {
  test("ToolUseIds: invalid characters become '_'; valid ids kept; the same id maps the same way every time", () => {
    const ids = new ToolUseIds();
    expect(ids.map("toolu_01A-b")).toBe("toolu_01A-b");
    expect(ids.changed).toBe(false);
    expect(ids.map("call.abc:1")).toBe("call_abc_1");
    expect(ids.map("fc/é 😀")).toBe("fc____");
    expect(ids.map("call.abc:1")).toBe("call_abc_1");
    expect(ids.changed).toBe(true);
  });

  test("ToolUseIds: different ids that map to the same text get _2, _3… in order of first appearance", () => {
    const ids = new ToolUseIds();
    expect(ids.map("call.1")).toBe("call_1");
    expect(ids.map("call:1")).toBe("call_1_2");
    expect(ids.map("call_1")).toBe("call_1_3"); // a valid id an earlier one already took
    expect(ids.map("call_1_2")).toBe("call_1_2_2");
    expect([ids.map("call.1"), ids.map("call:1"), ids.map("call_1")]).toEqual(["call_1", "call_1_2", "call_1_3"]);
    // the same conversation maps the same way in a fresh request
    const again = new ToolUseIds();
    expect(["call.1", "call:1", "call_1"].map((id) => again.map(id))).toEqual(["call_1", "call_1_2", "call_1_3"]);
  });

  test("a call id from another provider: tool_use id and tool_result tool_use_id mapped alike, noted", () => {
    const r = accepted({
      tools: [WEATHER_TOOL],
      messages: [
        { role: "user", content: "Weather in Oslo and Lyon?" },
        { role: "assistant", content: null, tool_calls: [call("call.abc:1"), call("functions.get_weather:2", "Lyon")] },
        { role: "tool", tool_call_id: "call.abc:1", content: "4°C" },
        { role: "tool", tool_call_id: "functions.get_weather:2", content: "11°C" },
      ],
    });
    expect(r.body.messages[1]!.content).toEqual([
      { type: "tool_use", id: "call_abc_1", name: "get_weather", input: { location: "Oslo" } },
      { type: "tool_use", id: "functions_get_weather_2", name: "get_weather", input: { location: "Lyon" } },
    ]);
    expect(r.body.messages[2]!.content).toEqual([
      { type: "tool_result", tool_use_id: "call_abc_1", content: "4°C" },
      { type: "tool_result", tool_use_id: "functions_get_weather_2", content: "11°C" },
    ]);
    expect(r.notes).toEqual([TOOL_IDS_REWRITTEN_NOTE]);
  });

  test("two ids that collide once mapped stay two ids, each paired with its own result", () => {
    const r = accepted({
      messages: [
        { role: "user", content: "Two cities" },
        { role: "assistant", tool_calls: [call("call.1"), call("call:1", "Lyon")] },
        { role: "tool", tool_call_id: "call:1", content: "Lyon: 11°C" },
        { role: "tool", tool_call_id: "call.1", content: "Oslo: 4°C" },
      ],
    });
    const uses = (r.body.messages[1]!.content as any[]).map((b) => [b.id, b.input.location]);
    expect(uses).toEqual([["call_1", "Oslo"], ["call_1_2", "Lyon"]]);
    const results = (r.body.messages[2]!.content as any[]).map((b) => [b.tool_use_id, b.content]);
    expect(results).toEqual([["call_1_2", "Lyon: 11°C"], ["call_1", "Oslo: 4°C"]]);
  });

  test("valid ids are sent unchanged, with no note", () => {
    const r = accepted({
      messages: [
        { role: "user", content: "Q" },
        { role: "assistant", tool_calls: [call("toolu_01T1x1fJ34qAmk2tNTrN7Up6")] },
        { role: "tool", tool_call_id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6", content: "r" },
      ],
    });
    expect((r.body.messages[1]!.content as any[])[0].id).toBe("toolu_01T1x1fJ34qAmk2tNTrN7Up6");
    expect(r.notes).toEqual([]);
  });
});

describe("text that is only whitespace", () => {
  test("a whitespace-only assistant turn in the history is dropped and the user turns around it merge", () => {
    const r = accepted({
      messages: [
        { role: "user", content: "First" },
        { role: "assistant", content: "\n\n" },
        { role: "user", content: "Second" },
      ],
    });
    expect(r.body.messages).toEqual([{ role: "user", content: [{ type: "text", text: "First" }, { type: "text", text: "Second" }] }]);
  });

  test("the same as the empty assistant message (already dropped before): both give the same body", () => {
    const around = (content: string) => [
      { role: "user", content: "First" },
      { role: "assistant", content },
      { role: "user", content: "Second" },
    ];
    expect(translate({ messages: around("\n\n") }).body).toEqual(translate({ messages: around("") }).body);
  });

  test("a whitespace-only user message mid-conversation is dropped; the assistant turns around it merge", () => {
    const r = accepted({
      messages: [
        { role: "user", content: "Q1" },
        { role: "assistant", content: "A1" },
        { role: "user", content: "  " },
        { role: "assistant", content: "A2" },
        { role: "user", content: "Q3" },
      ],
    });
    expect(r.body.messages).toEqual([
      { role: "user", content: "Q1" },
      { role: "assistant", content: [{ type: "text", text: "A1" }, { type: "text", text: "A2" }] },
      { role: "user", content: "Q3" },
    ]);
  });

  test("whitespace-only parts are left out, other text kept exactly; '\\n\\n' before a tool call is left out", () => {
    const r = accepted({
      messages: [
        { role: "user", content: [{ type: "text", text: " \t" }, { type: "text", text: "  keep my spaces  " }] },
        { role: "assistant", content: "\n\n", tool_calls: [call("toolu_1")] },
        { role: "tool", tool_call_id: "toolu_1", content: "4°C" },
      ],
    });
    expect(r.body.messages[0]).toEqual({ role: "user", content: "  keep my spaces  " });
    expect(r.body.messages[1]!.content).toEqual([{ type: "tool_use", id: "toolu_1", name: "get_weather", input: { location: "Oslo" } }]);
  });

  test("a tool result that is only whitespace is kept (Anthropic accepts it, and it is the tool's output)", () => {
    const r = accepted({
      messages: [
        { role: "user", content: "Q" },
        { role: "assistant", tool_calls: [call("toolu_1")] },
        { role: "tool", tool_call_id: "toolu_1", content: "\n" },
      ],
    });
    expect(r.body.messages[2]!.content).toEqual([{ type: "tool_result", tool_use_id: "toolu_1", content: "\n" }]);
  });

  test("whitespace-only system messages are left out; a refusal part that is only whitespace too", () => {
    const r = accepted({
      messages: [
        { role: "system", content: "  \n" },
        { role: "developer", content: "Be brief." },
        { role: "user", content: "Q" },
        { role: "assistant", content: [{ type: "refusal", refusal: " " }, { type: "text", text: "A" }] },
        { role: "user", content: "Q2" },
      ],
    });
    expect(r.body.system).toBe("Be brief.");
    expect(r.body.messages[1]).toEqual({ role: "assistant", content: "A" });
    expect(accepted({ messages: [{ role: "system", content: " " }, { role: "user", content: "Q" }] }).body.system).toBeUndefined();
  });

  test("a final user message that is only whitespace → 400 naming its content, not a silent prefill", () => {
    const history = [
      { role: "user", content: "Q1" },
      { role: "assistant", content: "A1" },
    ];
    const err = rejects({ messages: [...history, { role: "user", content: "   " }] }, "messages[2].content");
    expect(err.message).toContain("messages[2].content is empty or only whitespace");
    rejects({ messages: [...history, { role: "user", content: [{ type: "text", text: "\n" }] }] }, "messages[2].content");
    rejects({ messages: [...history, { role: "user", content: "" }] }, "messages[2].content");
    // a system message after it changes nothing; a system-only conversation with a blank user message neither
    rejects({ messages: [...history, { role: "user", content: "\t" }, { role: "system", content: "S" }] }, "messages[2].content");
    rejects({ messages: [{ role: "system", content: "S" }, { role: "user", content: " " }] }, "messages[1].content");
    // nothing at all: the error that already said so
    rejects({ messages: [{ role: "user", content: " " }] }, "messages");
  });

  test("a blank final user message after tool results or after other user text is simply left out", () => {
    const afterTools = accepted({
      messages: [
        { role: "user", content: "Q" },
        { role: "assistant", tool_calls: [call("toolu_1")] },
        { role: "tool", tool_call_id: "toolu_1", content: "4°C" },
        { role: "user", content: " " },
      ],
    });
    expect(afterTools.body.messages[2]).toEqual({ role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "4°C" }] });
    const afterText = accepted({ messages: [{ role: "user", content: "Q" }, { role: "user", content: "\n" }] });
    expect(afterText.body.messages).toEqual([{ role: "user", content: "Q" }]);
  });
});

describe("stop sequences", () => {
  test("whitespace-only stop sequences are dropped with a note, the others sent", () => {
    const r = accepted({ messages: [{ role: "user", content: "Q" }], stop: ["\n", "END", " \t", "\n\nHuman:"] });
    expect(r.body.stop_sequences).toEqual(["END", "\n\nHuman:"]);
    expect(r.notes).toEqual([
      'dropped whitespace-only stop sequences "\\n", " \\t": Anthropic accepts only stop sequences with non-whitespace text',
    ]);
  });

  test("only whitespace: no stop_sequences at all; a string stop too; empty ones left out silently", () => {
    const r = accepted({ messages: [{ role: "user", content: "Q" }], stop: "\n" });
    expect(r.body.stop_sequences).toBeUndefined();
    expect(r.notes).toEqual(['dropped whitespace-only stop sequence "\\n": Anthropic accepts only stop sequences with non-whitespace text']);
    const empty = accepted({ messages: [{ role: "user", content: "Q" }], stop: ["", "STOP"] });
    expect(empty.body.stop_sequences).toEqual(["STOP"]);
    expect(empty.notes).toEqual([]);
  });
});
