/**
 * The JSON body parser of the routes that take one: the size check first (413 in the OpenAI envelope), then JSON.
 * A route-level parser rather than a global onRequest hook, which measurably slows every request through Elysia.
 */
import { checkBodySize, GatewayError } from "./errors.ts";

export function jsonParser(limit: number) {
  return async ({ request }: { request: Request }) => {
    checkBodySize(request.headers, limit);
    try {
      return await request.json();
    } catch {
      throw new GatewayError(400, "We could not parse the JSON body of your request. The request body must be valid JSON.", {
        code: "invalid_json",
      });
    }
  };
}
