/** OpenAI-shaped usage (as every adapter returns it) → the gateway's Usage. */
import type { Usage } from "../providers/types.ts";

/**
 * Reads `prompt_tokens` (which in OpenAI's sense already includes cached tokens), `completion_tokens`,
 * `prompt_tokens_details.cached_tokens`, `prompt_tokens_details.cache_creation_tokens` (set by the Anthropic
 * translator) and `completion_tokens_details.reasoning_tokens`. Embeddings report only prompt/total tokens.
 */
export function normalizeUsage(u: any): Usage | null {
  if (!u || typeof u !== "object") return null;
  const n = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : 0);
  return {
    promptTokens: n(u.prompt_tokens ?? u.input_tokens),
    completionTokens: n(u.completion_tokens ?? u.output_tokens),
    cachedTokens: n(u.prompt_tokens_details?.cached_tokens ?? u.input_tokens_details?.cached_tokens),
    cacheWriteTokens: n(u.prompt_tokens_details?.cache_creation_tokens),
    cacheWrite1hTokens: n(u.prompt_tokens_details?.cache_creation_1h_tokens),
    reasoningTokens: n(u.completion_tokens_details?.reasoning_tokens ?? u.output_tokens_details?.reasoning_tokens),
  };
}

/**
 * The `usage` object of an OpenAI JSON response, read without parsing the whole body: the last `"usage":{` key
 * (not inside a string, where its quotes would be escaped) up to its matching brace. Usage holds only numbers and
 * nested objects, so counting braces is exact. Falls back to a full parse.
 */
export function usageFromJsonText(text: string): unknown {
  const at = text.lastIndexOf('"usage":');
  if (at > 0 && text[at - 1] !== "\\") {
    let i = at + 8;
    while (text[i] === " ") i++;
    if (text[i] === "{") {
      let depth = 0;
      for (let j = i; j < text.length; j++) {
        const c = text.charCodeAt(j);
        if (c === 123) depth++;
        else if (c === 125 && --depth === 0) {
          try {
            return JSON.parse(text.slice(i, j + 1));
          } catch {
            break;
          }
        } else if (c === 34) break; // a string inside usage: not the plain shape, parse it all
      }
    }
  }
  try {
    return JSON.parse(text)?.usage;
  } catch {
    return undefined;
  }
}

/** `{"provider":"<account>", …rest of an upstream JSON object}` without re-serialising it. */
export function withProvider(text: string, account: string): string {
  const open = text.indexOf("{");
  if (open < 0) return text;
  const rest = text.slice(open + 1).trimStart();
  return `{"provider":${JSON.stringify(account)}${rest.startsWith("}") ? "" : ","}${rest}`;
}
