/** gateway.yaml errors: what the user reads (the message names the place), and never a line of the file. */
import { describe, expect, test } from "bun:test";
import { ConfigError, parseConfig } from "../../src/config/load-config.ts";

const error = (yaml: string, env: Record<string, string> = {}) => {
  try {
    parseConfig(yaml, "gateway.yaml", env);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("expected the config to be rejected");
};

const account = (name: string, extra = "") => `  - name: ${name}\n    provider: openai\n    auth: { api_key: sk-x }\n${extra}`;

describe("gateway.yaml validation", () => {
  test("the same account name twice is an error naming it", () => {
    const msg = error(`accounts:\n${account("openai-main")}${account("anthropic-main")}${account("openai-main")}`);
    expect(msg).toBe("gateway.yaml: Invalid value for 'accounts[2].name': account 'openai-main' is defined twice (also at accounts[0])");
  });

  test("the same model name twice in an account is an error naming it and where", () => {
    const models = "    models:\n      - { name: gpt-4o, types: [chat] }\n      - { name: gpt-4o-mini, types: [chat] }\n      - { name: gpt-4o, types: [embedding] }\n";
    const msg = error(`accounts:\n${account("aaa")}${account("openai-main", models)}`);
    expect(msg).toBe("gateway.yaml: Invalid value for 'accounts[1].models[2].name': model 'gpt-4o' is listed twice in account 'openai-main' (also at models[0])");
    // the same name in two accounts is fine
    expect(parseConfig(`accounts:\n${account("aaa", models.split("\n").slice(0, 2).join("\n") + "\n")}${account("bbb", models.split("\n").slice(0, 2).join("\n") + "\n")}`, "f", {}).accounts.length).toBe(2);
  });

  test("openai-compatible and azure-openai need base_url; openai, groq and anthropic have a default", () => {
    for (const kind of ["openai-compatible", "azure-openai"]) {
      const msg = error(`accounts:\n  - name: local\n    provider: ${kind}\n    auth: {}\n`);
      expect(msg).toBe(`gateway.yaml: Missing required parameter: 'accounts[0].base_url' (account 'local': provider '${kind}' has no default base URL)`);
      expect(parseConfig(`accounts:\n  - name: local\n    provider: ${kind}\n    base_url: http://127.0.0.1:8000/v1\n    auth: {}\n`, "f", {}).accounts[0]!.provider as string).toBe(kind);
    }
    for (const kind of ["openai", "groq", "anthropic"]) {
      expect(parseConfig(`accounts:\n  - name: main\n    provider: ${kind}\n    auth: { api_key: k }\n`, "f", {}).accounts[0]!.base_url).toBeUndefined();
    }
  });
});

describe("YAML syntax errors", () => {
  test("give line and column and the message, without quoting the file (where a key may be written)", () => {
    const yaml = "accounts:\n  - name: openai-main\n    provider: openai\n    auth: { api_key: sk-literal-secret-123\n    models: []\n";
    const msg = error(yaml);
    expect(msg).toBe("gateway.yaml: invalid YAML at line 5, column 5: Flow map in block collection must be sufficiently indented and end with a }");
    expect(msg).not.toContain("sk-literal");
    expect(msg).not.toContain("\n");
  });

  test("the column counts ${VAR} as written in the file", () => {
    const msg = error("accounts:\n  - name: a\n    auth: { api_key: ${SOME_LONG_VAR}, other: ${B} }}\n", { SOME_LONG_VAR: "a", B: "b" });
    expect(msg).toBe("gateway.yaml: invalid YAML at line 3, column 53: Unexpected flow-map-end token in YAML stream");
  });

  test("messages that would quote the file's text leave it out", () => {
    expect(error("accounts:\n  - name: a\n    auth:\n      api_key: |sk-literal-secret-456\n        x\n")).toBe(
      "gateway.yaml: invalid YAML at line 4, column 17: Block scalar header includes extra characters",
    );
    expect(error("accounts: *sk-literal-secret-789\n")).toBe("gateway.yaml: invalid YAML: Unresolved alias (the anchor must be set before the alias)");
  });
});
