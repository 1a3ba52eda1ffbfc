/**
 * Where the shared test material is: `../shared` beside the project (the workplace's), else the snapshot of it in
 * test/fixtures/shared, so that `npm test` passes on a fresh clone with nothing around it.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

const OUTSIDE = resolve(import.meta.dir, "../../../shared");
const SNAPSHOT = resolve(import.meta.dir, "../fixtures/shared");

/** `rel` (e.g. "specs/openai-openapi.yaml") under ../shared when that has it, else under the snapshot */
export function sharedPath(rel: string): string {
  const outside = resolve(OUTSIDE, rel);
  return existsSync(outside) ? outside : resolve(SNAPSHOT, rel);
}
