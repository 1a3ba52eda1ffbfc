/** x-tfy-metadata: a JSON object of string values, each at most 128 characters. */
import { badRequest } from "./errors.ts";

export function parseMetadataHeader(value: string | null): Record<string, string> | null {
  if (value == null || value === "") return null;
  let obj: unknown;
  try {
    obj = JSON.parse(value);
  } catch {
    throw badRequest("x-tfy-metadata must be a JSON object of strings", "x-tfy-metadata");
  }
  if (!obj || typeof obj !== "object" || Array.isArray(obj)) {
    throw badRequest("x-tfy-metadata must be a JSON object of strings", "x-tfy-metadata");
  }
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v !== "string") throw badRequest(`x-tfy-metadata value for '${k}' must be a string`, "x-tfy-metadata");
    if (v.length > 128) throw badRequest(`x-tfy-metadata value for '${k}' is longer than 128 characters`, "x-tfy-metadata");
  }
  return obj as Record<string, string>;
}
