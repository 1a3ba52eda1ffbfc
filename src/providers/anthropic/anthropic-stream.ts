/**
 * Anthropic's streaming events → OpenAI `chat.completion.chunk`s, one event at a time.
 *
 * - The first chunk carries `role: "assistant"` together with the first content (not on
 *   `message_start`, so that an `error` event arriving before any content — an overload — reaches the
 *   core as the stream's first item and can become an HTTP error and a fallback).
 * - `text_delta` → `delta.content`; `thinking_delta` → `delta.reasoning_content`.
 * - A thinking block's `signature_delta` → `delta.thinking_blocks: [{type:"thinking", thinking, signature}]`,
 *   the whole block once (its text repeated), so a client can copy it into the next request's assistant
 *   message as is. `redacted_thinking` blocks arrive whole and go out the same way. Only the current
 *   thinking block's text is held for that, never the stream.
 * - `tool_use` → a tool call with a stable `index` (counted from 0 in order of appearance), its `id`,
 *   `type` and name in its first delta; `input_json_delta` fragments → `function.arguments` fragments.
 *   A call without any argument fragment gets `"{}"` (as OpenAI sends), never an empty string.
 * - The structured-output tool's fragments → `delta.content` (the JSON text), finish_reason `stop`.
 *   When that tool is not forced (with thinking, or next to client tools) the model may write text first
 *   ("I'll call a tool."); the non-streaming translator leaves such text out so the content parses as
 *   JSON, and the stream gives the same content: in JSON mode text is held back, not sent, until it is
 *   known which it is — dropped when the JSON tool's block starts (with any text after it), sent whole
 *   before the finish chunk when the message ends without one (an answer that never calls the tool
 *   still arrives, as in the non-streaming answer). Only that text is held; everything else streams.
 * - `message_stop` → a chunk with `finish_reason` then a usage chunk (`choices: []`), always: the core
 *   hides it unless the client asked for `include_usage`. Usage combines `message_start` (input and cache
 *   counts) with `message_delta` (cumulative output count).
 * - A `refusal` without content → `delta.refusal` with Anthropic's explanation, finish `content_filter`.
 * - `error` → an `{error}` item and the end of the stream; upstream ending before `message_stop`
 *   (and without a stop reason) → a 502 `{error}` item.
 * - `ping` and unknown events are ignored.
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
import type { EventSourceMessage } from "eventsource-parser/stream";
import { GatewayError } from "../../http/errors.ts";
import type { StreamItem } from "../types.ts";
import { itemStream, sseItemSource, type ItemSink, type ItemSource } from "../upstream.ts";
import { anthropicStreamError } from "./anthropic-error.ts";
import type { AnthropicStopReason, AnthropicStreamEvent, AnthropicUsage } from "./anthropic-types.ts";
import { convertAnthropicUsage, mergeAnthropicUsage } from "./convert-anthropic-usage.ts";
import { mapAnthropicStopReason } from "./map-anthropic-stop-reason.ts";

export interface AnthropicStreamOptions {
  /** account name, for error messages */
  account: string;
  /** name of the structured-output tool the request added, if any */
  jsonTool?: string;
  /** unix seconds; defaults to now */
  created?: number;
}

type Block =
  | { kind: "text" }
  | { kind: "thinking"; parts: string[] }
  | { kind: "tool"; index: number; sent: boolean; input: unknown }
  | { kind: "json"; sent: boolean; input: unknown }
  | { kind: "other" };

type Controller = ItemSink;

/** Upstream SSE bytes → StreamItems, parsed and translated in one step per upstream read (nothing is buffered beyond one event). */
export function anthropicItemSource(body: ReadableStream<Uint8Array>, opts: AnthropicStreamOptions): ItemSource {
  const t = new Translation(opts);
  return sseItemSource(
    body,
    (message, sink) => {
      const event = parseAnthropicEvent(message);
      if (event) t.onEvent(event, sink);
    },
    (sink) => t.onEnd(sink),
  );
}

/** The same as a ReadableStream of items. */
export function anthropicStreamItems(body: ReadableStream<Uint8Array>, opts: AnthropicStreamOptions): ReadableStream<StreamItem> {
  return itemStream(anthropicItemSource(body, opts));
}

/** An SSE message → its event object; a `data:` that is not JSON becomes an `error` event. */
export function parseAnthropicEvent(message: EventSourceMessage): AnthropicStreamEvent | null {
  let event: any;
  try {
    event = JSON.parse(message.data);
  } catch {
    return { type: "error", error: { type: "api_error", message: "invalid JSON in a stream event" } } as AnthropicStreamEvent;
  }
  if (!event || typeof event !== "object") return null;
  if (typeof event.type !== "string" && message.event) event.type = message.event;
  return event;
}

export function anthropicStreamTranslator(opts: AnthropicStreamOptions): TransformStream<AnthropicStreamEvent, StreamItem> {
  const t = new Translation(opts);
  return new TransformStream<AnthropicStreamEvent, StreamItem>({
    transform: (event, controller) => t.onEvent(event, controller),
    flush: (controller) => t.onEnd(controller),
  });
}

class Translation {
  private id = "";
  private model = "";
  private readonly created: number;
  private usage: AnthropicUsage = {};
  private blocks: Array<Block | undefined> = [];
  private nextToolIndex = 0;
  private started = false;
  private done = false;
  private stopReason: AnthropicStopReason | null = null;
  private refusal: string | undefined;
  private usedJson = false;
  /** in JSON mode, text not sent yet: it is content only if the JSON tool is never called */
  private heldText: string[] | undefined;

  constructor(private readonly opts: AnthropicStreamOptions) {
    this.created = opts.created ?? Math.floor(Date.now() / 1000);
  }

  onEvent(event: AnthropicStreamEvent, c: Controller) {
    if (this.done) return;
    switch (event.type) {
      case "message_start": {
        const m = event.message ?? {};
        this.id = m.id ?? this.id;
        this.model = m.model ?? this.model;
        this.usage = mergeAnthropicUsage(this.usage, m.usage);
        // input and cache counts are known now: if the client cancels, the log still bills them
        c.enqueue({ usage: convertAnthropicUsage(this.usage) });
        return;
      }
      case "content_block_start":
        return this.onBlockStart(event.index, event.content_block ?? {}, c);
      case "content_block_delta":
        return this.onBlockDelta(event.index, event.delta ?? {}, c);
      case "content_block_stop":
        return this.onBlockStop(event.index, c);
      case "message_delta":
        if (event.delta?.stop_reason != null) this.stopReason = event.delta.stop_reason;
        if (typeof event.delta?.stop_details?.explanation === "string") this.refusal = event.delta.stop_details.explanation;
        this.usage = mergeAnthropicUsage(this.usage, event.usage);
        return;
      case "message_stop":
        return this.finish(c);
      case "error":
        this.done = true;
        c.enqueue({ error: anthropicStreamError(this.opts.account, event) });
        c.terminate();
        return;
      // "ping" and event types added later carry nothing to translate
    }
  }

  onEnd(c: Controller) {
    if (this.done) return;
    if (this.stopReason != null) return this.finish(c);
    this.done = true;
    const account = this.opts.account;
    c.enqueue({
      error: new GatewayError(502, `The stream from account '${account}' ended before the message was complete`, {
        type: "upstream_error",
        code: "upstream_stream_truncated",
        account,
      }),
    });
  }

  private onBlockStart(index: number, block: Record<string, any>, c: Controller) {
    switch (block.type) {
      case "text":
        this.blocks[index] = { kind: "text" };
        if (block.text) this.text(c, block.text);
        return;
      case "thinking":
        this.blocks[index] = { kind: "thinking", parts: block.thinking ? [block.thinking] : [] };
        if (block.thinking) this.emit(c, { reasoning_content: block.thinking });
        return;
      case "redacted_thinking":
        this.blocks[index] = { kind: "other" };
        this.emit(c, { thinking_blocks: [{ type: "redacted_thinking", data: block.data }] });
        return;
      case "tool_use":
        if (this.opts.jsonTool !== undefined && block.name === this.opts.jsonTool) {
          this.usedJson = true;
          this.heldText = undefined;
          this.blocks[index] = { kind: "json", sent: false, input: block.input };
          return;
        }
        this.blocks[index] = { kind: "tool", index: this.nextToolIndex, sent: false, input: block.input };
        this.emit(c, {
          tool_calls: [
            { index: this.nextToolIndex++, id: block.id, type: "function", function: { name: block.name, arguments: "" } },
          ],
        });
        return;
      default:
        this.blocks[index] = { kind: "other" };
    }
  }

  private onBlockDelta(index: number, delta: Record<string, any>, c: Controller) {
    const block = this.blocks[index];
    if (!block) return;
    switch (delta.type) {
      case "text_delta":
        if (block.kind === "text" && delta.text) this.text(c, delta.text);
        return;
      case "thinking_delta":
        if (block.kind === "thinking" && delta.thinking) {
          block.parts.push(delta.thinking);
          this.emit(c, { reasoning_content: delta.thinking });
        }
        return;
      case "signature_delta":
        if (block.kind === "thinking") {
          const thinking = block.parts.join("");
          block.parts = [];
          this.emit(c, { thinking_blocks: [{ type: "thinking", thinking, signature: delta.signature }] });
        }
        return;
      case "input_json_delta": {
        const fragment = delta.partial_json;
        if (!fragment) return;
        if (block.kind === "tool") {
          block.sent = true;
          this.emit(c, { tool_calls: [{ index: block.index, function: { arguments: fragment } }] });
        } else if (block.kind === "json") {
          block.sent = true;
          this.emit(c, { content: fragment });
        }
        return;
      }
    }
  }

  /** A tool block that streamed no argument fragment still owes its arguments (`{}` or the start input). */
  private onBlockStop(index: number, c: Controller) {
    const block = this.blocks[index];
    this.blocks[index] = undefined;
    if (!block || (block.kind !== "tool" && block.kind !== "json") || block.sent) return;
    const args = JSON.stringify(block.input ?? {});
    if (block.kind === "tool") this.emit(c, { tool_calls: [{ index: block.index, function: { arguments: args } }] });
    else this.emit(c, { content: args });
  }

  /** Text: sent, or in JSON mode held back until the message shows whether the JSON tool answers (then dropped). */
  private text(c: Controller, text: string) {
    if (this.opts.jsonTool === undefined) this.emit(c, { content: text });
    else if (!this.usedJson) (this.heldText ??= []).push(text);
  }

  private finish(c: Controller) {
    this.done = true;
    if (this.heldText !== undefined) this.emit(c, { content: this.heldText.join("") });
    if (this.refusal !== undefined && this.stopReason === "refusal") this.emit(c, { refusal: this.refusal });
    if (!this.started) this.emit(c, { content: "" });
    const onlyJsonTool = this.usedJson && this.nextToolIndex === 0;
    c.enqueue({ chunk: this.chunk({}, mapAnthropicStopReason(this.stopReason, { onlyJsonTool })) });
    c.enqueue({
      chunk: {
        id: this.id,
        object: "chat.completion.chunk",
        created: this.created,
        model: this.model,
        choices: [],
        usage: convertAnthropicUsage(this.usage),
      },
    });
  }

  private emit(c: Controller, delta: Record<string, unknown>) {
    if (!this.started) {
      this.started = true;
      delta = { role: "assistant", ...delta };
    }
    c.enqueue({ chunk: this.chunk(delta, null) });
  }

  private chunk(delta: Record<string, unknown>, finishReason: string | null) {
    return {
      id: this.id,
      object: "chat.completion.chunk",
      created: this.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
    };
  }
}
