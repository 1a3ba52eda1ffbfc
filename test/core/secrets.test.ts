import { expect, test } from "bun:test";
import { randomId } from "../../src/core/secrets.ts";

test("ids: prefix + 24 hex digits, time-ordered across milliseconds, unique", async () => {
  const a = randomId("req_");
  await Bun.sleep(2);
  const b = randomId("req_");
  expect(a).toMatch(/^req_[0-9a-f]{24}$/);
  expect(b).toMatch(/^req_[0-9a-f]{24}$/);
  expect(a < b).toBe(true);
  expect(new Set(Array.from({ length: 1000 }, () => randomId("key_"))).size).toBe(1000);
});
