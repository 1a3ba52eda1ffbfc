/**
 * Config-as-code that cannot go wrong quietly: a file that misspells or leaves out `accounts:` is refused (it read
 * as "no accounts", and apply deleted every account the file had made); an account the admin API made and a file
 * lists is the file's from then on, whatever else differs, and the plan says so; ${VAR} in number and boolean
 * fields; defaults written out or left out are the same account.
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openGateway } from "../../src/boot.ts";
import { applyConfig, formatApply } from "../../src/config/apply.ts";
import { parseConfig } from "../../src/config/load-config.ts";
import { readAllAccounts, saveAccount } from "../../src/db/accounts-repo.ts";

let dir: string;
let gw: ReturnType<typeof openGateway>;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "sb-config-guards-"));
  gw = openGateway({ dataDir: dir });
});
afterEach(() => {
  gw.store.close();
  rmSync(dir, { recursive: true, force: true });
});

const apply = (yaml: string, env: Record<string, string> = {}) => formatApply(applyConfig(gw, parseConfig(yaml, "gateway.yaml", env)), false);
const error = (yaml: string) => {
  try {
    parseConfig(yaml, "gateway.yaml", {});
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("parsed");
};
const ONE = "accounts:\n  - name: main\n    provider: openai\n    auth: { api_key: sk-test-0001 }\n    models: [{ name: m, types: [chat] }]\n";

describe("a file that would delete every account by mistake is refused", () => {
  test("an unknown top-level key is an error naming it, with its line and column", () => {
    const hint = "(the only one is 'accounts'; a block of your own, such as YAML anchors, goes under a key starting with 'x-')";
    expect(error("acounts:\n  - name: main\n    provider: openai\n    auth: {}\n")).toBe(`gateway.yaml: unknown top-level key 'acounts' at line 1, column 1 ${hint}`);
    expect(error(`${ONE}  # comment\nmodels: []\n`)).toBe(`gateway.yaml: unknown top-level key 'models' at line 7, column 1 ${hint}`);
  });

  test("keys of the file's own (x-…, e.g. a block of YAML anchors) and a version label are allowed and ignored", () => {
    const yaml = `version: 1\nx-defaults: &models\n  - { name: m, types: [chat] }\naccounts:\n  - name: main\n    provider: openai\n    auth: { api_key: sk-test-0001 }\n    models: *models\n`;
    const cfg = parseConfig(yaml, "gateway.yaml", {});
    expect(cfg.accounts.map((a: any) => [a.name, a.models.map((m: any) => m.name)])).toEqual([["main", ["m"]]]);
  });

  test("an empty file, one without 'accounts:', or 'accounts:' with no value is an error; the accounts stay", () => {
    apply(ONE);
    for (const yaml of ["", "\n# all commented out\n", "accounts:\n"]) {
      expect(error(yaml)).toContain("write 'accounts: []'");
    }
    expect(error("")).toBe("gateway.yaml: the file has no 'accounts:' list (to delete every account an earlier apply made, write 'accounts: []')");
    expect(readAllAccounts(gw.store, gw.masterKey).map((a) => a.spec.name)).toEqual(["main"]);
  });

  test("a top level that is a list or a single value says so (not 'body')", () => {
    expect(error("- name: main\n")).toBe("gateway.yaml: the top level must be a mapping with an 'accounts:' list, not a list");
    expect(error("accounts\n")).toBe("gateway.yaml: the top level must be a mapping with an 'accounts:' list, not a single value");
  });

  test("only an explicit 'accounts: []' deletes every account the file made", () => {
    apply(ONE);
    expect(apply("accounts: []\n")).toBe("- account main deleted\napplied");
  });
});

describe("an account the admin API made, listed in a file, is taken over either way", () => {
  const viaApi = (yaml: string) => saveAccount(gw.store, gw.masterKey, parseConfig(yaml, "f", {}).accounts[0]!, "api");

  test("unchanged: still taken over, and the plan says so; a later file without it deletes it", () => {
    viaApi(ONE);
    expect(apply(ONE)).toBe("~ account main: taken over from the API\napplied");
    expect(readAllAccounts(gw.store, gw.masterKey)[0]!.source).toBe("config");
    expect(apply(ONE)).toBe("= account main unchanged\nno changes");
    expect(apply("accounts: []\n")).toBe("- account main deleted\napplied");
  });

  test("changed: the plan names the takeover and the fields; a dry run says the same and writes nothing", () => {
    viaApi(ONE);
    const v2 = ONE.replace("sk-test-0001", "sk-test-0002");
    expect(formatApply(applyConfig(gw, parseConfig(v2, "f", {}), true), true)).toBe("~ account main: taken over from the API, auth\n(dry run: nothing was written)");
    expect(readAllAccounts(gw.store, gw.masterKey)[0]!.source).toBe("api");
    expect(apply(v2)).toBe("~ account main: taken over from the API, auth\napplied");
  });

  test("an API account the file does not list is left alone", () => {
    viaApi(ONE.replace("name: main", "name: other"));
    expect(apply(ONE)).toBe("+ account main created\napplied");
    expect(apply("accounts: []\n")).toBe("- account main deleted\napplied");
    expect(readAllAccounts(gw.store, gw.masterKey).map((a) => a.spec.name)).toEqual(["other"]);
  });
});

describe("values as a file writes them", () => {
  test("${VAR} in a number or boolean field is read as that number or boolean", () => {
    const yaml = ONE.replace("models: [{ name: m, types: [chat] }]", "models: [{ name: m, types: [chat], max_output_tokens: ${N} }]\n    stream_usage: ${USAGE}");
    expect(apply(yaml, { N: "2048", USAGE: "false" })).toBe("+ account main created\napplied");
    const spec = readAllAccounts(gw.store, gw.masterKey)[0]!.spec;
    expect(spec.models[0]!.max_output_tokens).toBe(2048);
    expect(spec.stream_usage).toBe(false);
    expect(() => parseConfig(yaml, "gateway.yaml", { N: "lots", USAGE: "false" })).toThrow("Invalid value for 'accounts[0].models[0].max_output_tokens': Expected integer");
  });

  test("writing out a default, or removing it, is no change", () => {
    apply(ONE.replace("    models:", "    drop_unsupported_params: false\n    stream_usage: true\n    models:"));
    expect(apply(ONE)).toBe("= account main unchanged\nno changes");
  });

  test("an unknown provider lists the kinds there are", () => {
    expect(error(ONE.replace("provider: openai", "provider: open-ai"))).toBe(
      "gateway.yaml: Invalid value for 'accounts[0].provider': expected one of openai, openai-compatible, groq, azure-openai, anthropic, google-gemini, google-vertex, aws-bedrock (got 'open-ai')",
    );
  });

  test("a base URL or header that cannot be sent refuses the file, naming where", () => {
    expect(error(ONE.replace("    models:", "    base_url: http://\n    models:"))).toBe("gateway.yaml: Invalid value for 'accounts[0].base_url': 'http://' is not a base URL: it does not parse as a URL");
    expect(error(ONE.replace("    models:", '    headers: { "x-a": "one\\ntwo" }\n    models:'))).toBe(
      "gateway.yaml: Invalid value for 'accounts[0].headers.x-a': a header value may not contain line breaks or other control characters",
    );
  });
});
