/** OpenAI-shaped usage (as every adapter returns it) → the gateway's Usage. */
import type { Usage } from "../providers/types.ts";

/**
 * Reads `prompt_tokens` (which in OpenAI's sense already includes cached tokens), `completion_tokens`,
 * `prompt_tokens_details.cached_tokens`, `prompt_tokens_details.cache_creation_tokens` (set by the Anthropic
 * translator) and `completion_tokens_details.reasoning_tokens`. Embeddings report only prompt/total tokens.
 */
const n = (x: unknown) => (typeof x === "number" && Number.isFinite(x) ? x : 0);

export function normalizeUsage(u: any): Usage | null {
  if (!u || typeof u !== "object") return null;
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
 * Usage as it can be: no negative count, cached and cache-write tokens within the prompt, reasoning within the
 * completion, whole numbers. An upstream that reports otherwise (a mock generating random numbers, a broken server)
 * must not make a negative cost or a bill larger than the tokens were; the same object when nothing was wrong,
 * else a corrected copy.
 */
export function saneUsage(u: Usage): Usage {
  const ok = (x: number) => x >= 0 && Number.isInteger(x);
  if (
    ok(u.promptTokens) &&
    ok(u.completionTokens) &&
    ok(u.cachedTokens) &&
    ok(u.cacheWriteTokens) &&
    ok(u.cacheWrite1hTokens) &&
    ok(u.reasoningTokens) &&
    u.cachedTokens + u.cacheWriteTokens <= u.promptTokens &&
    u.cacheWrite1hTokens <= u.cacheWriteTokens &&
    u.reasoningTokens <= u.completionTokens
  ) {
    return u;
  }
  const whole = (x: number) => (x > 0 ? Math.round(x) : 0);
  const promptTokens = whole(u.promptTokens);
  const completionTokens = whole(u.completionTokens);
  const cachedTokens = Math.min(whole(u.cachedTokens), promptTokens);
  const cacheWriteTokens = Math.min(whole(u.cacheWriteTokens), promptTokens - cachedTokens);
  return {
    promptTokens,
    completionTokens,
    cachedTokens,
    cacheWriteTokens,
    cacheWrite1hTokens: Math.min(whole(u.cacheWrite1hTokens), cacheWriteTokens),
    reasoningTokens: Math.min(whole(u.reasoningTokens), completionTokens),
  };
}

/** Which object of OpenAI's usage a key sits in: the top level, or one of its details objects. */
const enum In {
  Top,
  PromptDetails,
  InputDetails,
  CompletionDetails,
  OutputDetails,
  Other,
}

/**
 * The usage of an OpenAI JSON response, normalised (as `normalizeUsage` would), read from the text without parsing
 * the whole body or making any object but the result: the last `"usage":` key (message content cannot hold one:
 * its quotes would be escaped), then its keys and numbers up to the matching brace. Anything but the plain shape
 * (numbers and nested objects of numbers) falls back to a full parse.
 */
export function usageFromJsonText(text: string): Usage | null {
  // the answer's own usage, not one nested after it (Groq's `x_groq.usage`, a per-model breakdown)
  let at = text.lastIndexOf('"usage":');
  while (at > 0 && depthAfter(text, at + 8) !== 1) at = text.lastIndexOf('"usage":', at - 1);
  if (at > 0) {
    let i = skipWs(text, at + 8);
    if (text.startsWith("null", i)) return null;
    if (text.charCodeAt(i) === 123) {
      const u = scanUsage(text, i);
      if (u !== undefined) return u;
    }
  }
  try {
    return normalizeUsage(JSON.parse(text)?.usage);
  } catch {
    return null;
  }
}

/**
 * How deep in the JSON text position `from` is (1: among the top-level object's keys), counted back from the end of
 * the text over what follows it, strings skipped; -1 when it cannot be told.
 */
function depthAfter(t: string, from: number): number {
  let depth = 0;
  for (let i = t.length - 1; i >= from; i--) {
    const c = t.charCodeAt(i);
    if (c === 125 || c === 93) depth++;
    else if (c === 123 || c === 91) depth--;
    else if (c === 34) {
      // back to the quote that opens this string (one not escaped: an even run of backslashes before it)
      let j = i;
      for (;;) {
        j = t.lastIndexOf('"', j - 1);
        if (j < from) return -1;
        let slashes = 0;
        while (t.charCodeAt(j - 1 - slashes) === 92) slashes++;
        if ((slashes & 1) === 0) break;
      }
      i = j;
    }
  }
  return depth;
}

function skipWs(t: string, i: number): number {
  for (;;) {
    const c = t.charCodeAt(i);
    if (c === 32 || c === 10 || c === 13 || c === 9) i++;
    else return i;
  }
}

/** The usage object starting at `open` (a `{`); undefined when it is not the plain shape. */
function scanUsage(t: string, open: number): Usage | undefined {
  // NaN: absent or null, as `??` in normalizeUsage sees it
  let prompt = NaN, input = NaN, completion = NaN, output = NaN;
  let cachedP = NaN, cachedI = NaN, creation = NaN, creation1h = NaN, reasoningC = NaN, reasoningO = NaN;
  let where = In.Top;
  let depth = 0;
  let i = open;
  while (i < t.length) {
    const c = t.charCodeAt(i);
    if (c === 123) {
      depth++;
      i++;
    } else if (c === 125) {
      i++;
      if (--depth === 0) break;
      where = In.Top;
    } else if (c === 44 || c === 32 || c === 10 || c === 13 || c === 9) i++;
    else if (c === 34) {
      // a key, ':', its value
      const start = i + 1;
      const end = t.indexOf('"', start);
      if (end < 0 || t.charCodeAt(end - 1) === 92) return undefined;
      i = skipWs(t, end + 1);
      if (t.charCodeAt(i) !== 58) return undefined;
      i = skipWs(t, i + 1);
      const v = t.charCodeAt(i);
      if (v === 123) {
        // only the details objects, directly under usage, hold keys that are read
        if (depth !== 1) return undefined;
        where = keyIs(t, start, end, "prompt_tokens_details")
          ? In.PromptDetails
          : keyIs(t, start, end, "input_tokens_details")
            ? In.InputDetails
            : keyIs(t, start, end, "completion_tokens_details")
              ? In.CompletionDetails
              : keyIs(t, start, end, "output_tokens_details")
                ? In.OutputDetails
                : In.Other;
        continue;
      }
      if (t.startsWith("null", i)) {
        i += 4;
        continue;
      }
      // a string, a boolean, an array: not the plain shape
      if (!((v >= 48 && v <= 57) || v === 45)) return undefined;
      // an integer is read digit by digit; anything else (sign, fraction, exponent) by Number()
      let num = v - 48;
      let j = i + 1;
      for (let d = t.charCodeAt(j); d >= 48 && d <= 57; d = t.charCodeAt(++j)) num = num * 10 + (d - 48);
      const d = t.charCodeAt(j);
      if (v === 45 || d === 46 || d === 101 || d === 69) {
        for (let e = d; (e >= 48 && e <= 57) || e === 46 || e === 101 || e === 69 || e === 43 || e === 45; e = t.charCodeAt(++j));
        num = Number(t.slice(i, j));
        if (!Number.isFinite(num)) return undefined;
      }
      i = j;
      switch (where) {
        case In.Top:
          if (keyIs(t, start, end, "prompt_tokens")) prompt = num;
          else if (keyIs(t, start, end, "completion_tokens")) completion = num;
          else if (keyIs(t, start, end, "input_tokens")) input = num;
          else if (keyIs(t, start, end, "output_tokens")) output = num;
          break;
        case In.PromptDetails:
          if (keyIs(t, start, end, "cached_tokens")) cachedP = num;
          else if (keyIs(t, start, end, "cache_creation_tokens")) creation = num;
          else if (keyIs(t, start, end, "cache_creation_1h_tokens")) creation1h = num;
          break;
        case In.InputDetails:
          if (keyIs(t, start, end, "cached_tokens")) cachedI = num;
          break;
        case In.CompletionDetails:
          if (keyIs(t, start, end, "reasoning_tokens")) reasoningC = num;
          break;
        case In.OutputDetails:
          if (keyIs(t, start, end, "reasoning_tokens")) reasoningO = num;
          break;
      }
    } else return undefined;
  }
  if (depth !== 0) return undefined;
  return {
    promptTokens: either(prompt, input),
    completionTokens: either(completion, output),
    cachedTokens: either(cachedP, cachedI),
    cacheWriteTokens: orZero(creation),
    cacheWrite1hTokens: orZero(creation1h),
    reasoningTokens: either(reasoningC, reasoningO),
  };
}

/** a, else b, else 0 (NaN: absent) */
const either = (a: number, b: number) => (a === a ? a : orZero(b));
const orZero = (a: number) => (a === a ? a : 0);
const keyIs = (t: string, start: number, end: number, name: string) => end - start === name.length && t.startsWith(name, start);

/** A `"provider"` key (a name in a string value would have its quotes escaped). */
const PROVIDER_KEY = /"provider"\s*:/;

/**
 * A whole upstream answer with `provider` set to the account: spliced in front without re-serialising it, unless
 * the upstream named a provider of its own (OpenRouter does), which is replaced (a second key would win in most
 * JSON parsers).
 */
export function answerWithProvider(text: string, account: string): string {
  if (!PROVIDER_KEY.test(text)) return withProvider(text, account);
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return withProvider(text, account); // not JSON after all: sent on as it came, as any other answer
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return withProvider(text, account);
  delete body.provider;
  return JSON.stringify({ provider: account, ...body });
}

/** `{"provider":"<account>", …rest of an upstream JSON object}` without re-serialising it. */
export function withProvider(text: string, account: string): string {
  const open = text.indexOf("{");
  if (open < 0) return text;
  const rest = text.slice(open + 1).trimStart();
  return `{"provider":${JSON.stringify(account)}${rest.startsWith("}") ? "" : ","}${rest}`;
}
