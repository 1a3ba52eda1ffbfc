/**
 * OpenAI tool-call ids → ids Anthropic accepts.
 *
 * Anthropic requires `tool_use.id` and `tool_result.tool_use_id` to match `^[a-zA-Z0-9_-]+$` (400 "String should
 * match pattern" otherwise); OpenAI accepts any string, and ids made by other providers or by clients carry dots,
 * colons, slashes… (`call.abc:1`). Each character outside that set becomes `_`. One map serves a whole request, for
 * the assistant's `tool_calls[].id` and the tool messages' `tool_call_id`, so calls and results still pair.
 *
 * Two different ids that become the same text (`call.1`, `call:1`, or a valid `call_1` after `call.1`) are told
 * apart by a suffix, `_2`, `_3`…, given in order of first appearance in the conversation: deterministic, and as a
 * conversation grows its earlier ids keep their mapping, so the request's prefix (and Anthropic's prompt cache)
 * stays the same from turn to turn. Valid ids map to themselves unless an earlier id took that text.
 *
 * Nothing is mapped back: the ids in Anthropic's answers are its own (`toolu_…`), valid as they are.
 *
 * @see https://docs.anthropic.com/en/api/messages
 */

const INVALID_ID_CHAR = /[^a-zA-Z0-9_-]/gu;

export class ToolUseIds {
  private byOriginal: Map<string, string> | undefined;
  private taken: Set<string> | undefined;
  /** whether any id was changed (for the request log's notes) */
  changed = false;

  map(id: string): string {
    const known = this.byOriginal?.get(id);
    if (known !== undefined) return known;
    const byOriginal = (this.byOriginal ??= new Map());
    const taken = (this.taken ??= new Set());
    const base = id.replace(INVALID_ID_CHAR, "_");
    let out = base;
    for (let n = 2; taken.has(out); n++) out = `${base}_${n}`;
    if (out !== id) this.changed = true;
    byOriginal.set(id, out);
    taken.add(out);
    return out;
  }
}

export const TOOL_IDS_REWRITTEN_NOTE =
  "tool-call ids rewritten for Anthropic (only letters, digits, '_' and '-' allowed): each other character became '_'";
