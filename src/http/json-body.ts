/**
 * Reading a JSON request body: the size check first (413 in the OpenAI envelope), then JSON (400 when invalid).
 * Used by the hot routes and, as a route-level parser, by the admin routes that take a body.
 */
import { checkBodySize, invalidJson } from "./errors.ts";

/** Not async itself (the caller's frame does the waiting: one frame less per request on the hot routes). */
export function readJsonBody(request: Request, limit: number): Promise<unknown> {
  checkBodySize(request.headers, limit);
  return request.json().catch(rejectInvalidJson);
}

const rejectInvalidJson = () => Promise.reject(invalidJson());

export function jsonParser(limit: number) {
  return ({ request }: { request: Request }) => readJsonBody(request, limit);
}
