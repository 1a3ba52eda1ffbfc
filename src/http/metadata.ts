/** x-tfy-metadata: a JSON object of string values, each at most 128 characters. */
import { badRequest } from "./errors.ts";

export function parseMetadataHeader(value: string | null): Record<string, string> | null {
  if (value == null || value === "") return null;
  let obj: unknown;
  try {
    obj = JSON.parse(utf8Header(value));
  } catch {
    throw badRequest("x-tfy-metadata must be a JSON object of strings", "x-tfy-metadata");
  }
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
    throw badRequest("x-tfy-metadata must be a JSON object of strings", "x-tfy-metadata");
  }
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== "string") throw badRequest(`x-tfy-metadata value for '${k}' must be a string`, "x-tfy-metadata");
    // characters, not UTF-16 units (an emoji is one)
    if (v.length > 128 && [...v].length > 128) throw badRequest(`x-tfy-metadata value for '${k}' is longer than 128 characters`, "x-tfy-metadata");
  }
  return obj as Record<string, string>;
}

/**
 * A header value as its sender wrote it. Bun hands header bytes over one character per byte (Latin-1), so UTF-8
 * text (what clients send, e.g. `{"team":"Zürich"}`) arrives mangled: decoded again as UTF-8, unless its bytes are
 * not UTF-8 (then it was Latin-1 after all).
 */
export function utf8Header(value: string): string {
  // ASCII needs nothing; a character past Latin-1 means the value was decoded already
  if (!NON_ASCII.test(value) || BEYOND_LATIN1.test(value)) return value;
  const text = Buffer.from(value, "latin1").toString("utf8");
  return text.includes("\uFFFD") ? value : text;
}

const NON_ASCII = /[^\x00-\x7f]/;
const BEYOND_LATIN1 = /[^\x00-\xff]/;
