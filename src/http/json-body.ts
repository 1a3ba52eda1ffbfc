/**
 * Reading a JSON request body: the size check first (413 in the OpenAI envelope), then JSON (400 when invalid).
 * Used by the hot routes and, as a route-level parser, by the admin routes that take a body.
 */
import { checkBodySize, invalidJson } from "./errors.ts";

export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  checkBodySize(request.headers, limit);
  try {
    return await request.json();
  } catch {
    throw invalidJson();
  }
}

export function jsonParser(limit: number) {
  return ({ request }: { request: Request }) => readJsonBody(request, limit);
}
