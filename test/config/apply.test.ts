/** apply: what it prints for each account, that it is idempotent whatever the order of lists, and dry-run. */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openGateway } from "../../src/boot.ts";
import { applyConfig, formatApply } from "../../src/config/apply.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import { readAccount } from "../../src/db/accounts-repo.ts";

let dir: string;
let gw: ReturnType<typeof openGateway>;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-apply-"));
  gw = openGateway({ dataDir: dir });
});
afterEach(() => {
  gw.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const apply = (yaml: string, dryRun = false) => formatApply(applyConfig(gw, parseConfig(yaml, "gateway.yaml", {}), dryRun), dryRun);

// models, a model's types, authorized_subjects and access lists deliberately out of alphabetical order
const V1 = `
accounts:
  - name: openai-main
    provider: openai
    auth: { api_key: sk-first-secret-0001 }
    models:
      - name: zeta-model
        types: [embedding, chat]
      - name: support-bot
        model_id: ft:gpt-4o-mini:acme::abc123
        types: [chat]
        authorized_subjects: [team:support, team:billing]
      - name: old-model
        types: [chat]
      - name: alpha
        types: [chat]
    access:
      managers: [user:zed@example.com, user:alice@example.com]
      users: [team:ops, team:eng]
  - name: local-llm
    provider: openai-compatible
    base_url: http://127.0.0.1:9/v1
    auth: {}
    models:
      - { name: qwen, types: [chat] }
      - { name: llama, types: [chat] }
`;

describe("apply", () => {
  test("applying the same file twice changes nothing, whatever the order of models, types and subject lists", () => {
    expect(apply(V1)).toBe("+ account openai-main created\n+ account local-llm created\napplied");
    expect(apply(V1)).toBe("= account openai-main unchanged\n= account local-llm unchanged\nno changes");
    // the same content in another order is no change either
    const reordered = V1.replace("types: [embedding, chat]", "types: [chat, embedding]")
      .replace("[team:support, team:billing]", "[team:billing, team:support]")
      .replace("users: [team:ops, team:eng]", "users: [team:eng, team:ops]")
      .replace("      - { name: qwen, types: [chat] }\n      - { name: llama, types: [chat] }", "      - { name: llama, types: [chat] }\n      - { name: qwen, types: [chat] }");
    expect(reordered).not.toBe(V1);
    expect(apply(reordered)).toBe("= account openai-main unchanged\n= account local-llm unchanged\nno changes");
  });

  test("an update names the fields and models that changed, never a credential; dry-run prints the same plan and writes nothing", () => {
    apply(V1);
    const v2 = V1.replace("    provider: openai\n", "    provider: openai\n    base_url: https://eu.api.openai.com/v1\n")
      .replace("sk-first-secret-0001", "sk-second-secret-0002")
      .replace("      - name: old-model\n        types: [chat]\n", "      - name: gpt-4o\n        types: [chat]\n")
      .replace("[team:support, team:billing]", "[team:support]")
      .replace("users: [team:ops, team:eng]", "users: [team:ops]");
    const plan = "~ account openai-main: base_url, auth, models (+ gpt-4o, ~ support-bot, - old-model), access\n= account local-llm unchanged";
    const dry = apply(v2, true);
    expect(dry).toBe(`${plan}\n(dry run: nothing was written)`);
    expect(readAccount(gw.store, gw.masterKey, "openai-main")!.auth.api_key).toBe("sk-first-secret-0001");
    const real = apply(v2);
    expect(real).toBe(`${plan}\napplied`);
    for (const out of [dry, real]) {
      expect(out).not.toContain("sk-first-secret");
      expect(out).not.toContain("sk-second-secret");
    }
    expect(readAccount(gw.store, gw.masterKey, "openai-main")!.auth.api_key).toBe("sk-second-secret-0002");
    expect(apply(v2)).toBe("= account openai-main unchanged\n= account local-llm unchanged\nno changes");
  });

  test("each other field is named on its own; headers by name only", () => {
    apply(V1);
    const v2 = V1.replace("    provider: openai-compatible\n", "    provider: openai-compatible\n    headers: { x-token: hdr-secret-value }\n    stream_usage: false\n");
    const out = apply(v2);
    expect(out).toBe("= account openai-main unchanged\n~ account local-llm: stream_usage, headers\napplied");
    expect(out).not.toContain("hdr-secret-value");
    expect(apply(V1.replace("  - name: local-llm", "  - name: other-llm"))).toBe(
      "= account openai-main unchanged\n+ account other-llm created\n- account local-llm deleted\napplied",
    );
  });
});
