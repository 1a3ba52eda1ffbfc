import { afterEach, expect, test } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openGateway } from "../../src/boot.ts";

const saved = process.env.SWITCHBOARD_UPSTREAM_CLIENT;
afterEach(() => {
  if (saved === undefined) delete process.env.SWITCHBOARD_UPSTREAM_CLIENT;
  else process.env.SWITCHBOARD_UPSTREAM_CLIENT = saved;
});

const dir = () => mkdtempSync(join(tmpdir(), "sb-client-"));

test("the pooled client by default; SWITCHBOARD_UPSTREAM_CLIENT=fetch switches to fetch; anything else is refused", () => {
  delete process.env.SWITCHBOARD_UPSTREAM_CLIENT;
  const pooled = openGateway({ dataDir: dir() });
  expect((pooled.fetch as { acceptsCallSignal?: boolean }).acceptsCallSignal).toBe(true);
  pooled.store.sqlite.close();

  process.env.SWITCHBOARD_UPSTREAM_CLIENT = "fetch";
  const plain = openGateway({ dataDir: dir() });
  expect(plain.fetch).toBe(globalThis.fetch);
  plain.store.sqlite.close();

  process.env.SWITCHBOARD_UPSTREAM_CLIENT = "curl";
  expect(() => openGateway({ dataDir: dir() })).toThrow(/must be 'pool' or 'fetch'/);
});
