/** The README's examples stay true: its gateway.yaml is a valid config, and every model its client examples call is in it. */
import { expect, test } from "bun:test";
import { join } from "node:path";
import { parseConfig } from "../../src/config/load-config.ts";

const readme = await Bun.file(join(import.meta.dir, "../../README.md")).text();

test("the README's gateway.yaml parses, and the openai-main models its client examples use are in it", () => {
  const block = readme.split("## Configuration (`gateway.yaml`)")[1]!.split("```yaml")[1]!.split("```")[0]!;
  const config = parseConfig(block, "README gateway.yaml", { OPENAI_API_KEY: "sk-readme-test" });
  const models = new Set(config.accounts.flatMap((a) => a.models.map((m) => `${a.name}/${m.name}`)));
  const used = [...readme.matchAll(/model="(openai-main\/[^"]+)"/g)].map((m) => m[1]!);
  expect(used.length).toBeGreaterThan(3);
  for (const m of used) expect(models.has(m)).toBe(true);
});

test("gateway.example.yaml, which the README's first steps apply, parses and holds every model the client examples call", async () => {
  const text = await Bun.file(join(import.meta.dir, "../../gateway.example.yaml")).text();
  const config = parseConfig(text, "gateway.example.yaml", { OPENAI_API_KEY: "sk-readme-test", ANTHROPIC_API_KEY: "sk-ant-readme-test" });
  const models = new Set(config.accounts.flatMap((a) => a.models.map((m) => `${a.name}/${m.name}`)));
  const used = [...readme.matchAll(/model[=:] ?"((?:openai|anthropic)-main\/[^"]+)"/g)].map((m) => m[1]!);
  expect(used.length).toBeGreaterThan(3);
  for (const m of used) expect(models.has(m)).toBe(true);
});
