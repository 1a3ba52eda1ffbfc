/** The admin key a start makes: on the first start, and again when no admin key works any more (all expired). */
import { expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureAdminKey, openGateway } from "../../src/boot.ts";
import { createKey, hasAdminKey, listKeys } from "../../src/db/keys-repo.ts";

test("a start with only expired admin keys makes a new one, once", () => {
  const dir = mkdtempSync(join(tmpdir(), "sb-admin-key-"));
  const gw = openGateway({ dataDir: dir });
  try {
    createKey(gw.store, { name: "old", subject: "user:root@example.com", role: "admin", expiresAt: Date.now() - 1000 });
    expect(hasAdminKey(gw.store)).toBe(false);
    const key = ensureAdminKey(gw);
    expect(key).toMatch(/^sk-sb-/);
    expect(listKeys(gw.store).find((k) => k.prefix === key!.slice(0, 10))?.name).toBe("admin (no working admin key at start)");
    expect(hasAdminKey(gw.store)).toBe(true);
    expect(ensureAdminKey(gw)).toBeUndefined();
  } finally {
    gw.store.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
