/** gateway.yaml → validated config. `${VAR}` in any string is read from the environment; a missing one is an error. */
import { parse } from "yaml";
import { GatewayError } from "../http/errors.ts";
import { GatewayConfigSpec, validate, type GatewayConfig } from "./account-spec.ts";

export class ConfigError extends Error {}

export async function loadConfigFile(file: string, env: Record<string, string | undefined> = process.env): Promise<GatewayConfig> {
  const f = Bun.file(file);
  if (!(await f.exists())) throw new ConfigError(`config file not found: ${file}`);
  return parseConfig(await f.text(), file, env);
}

export function parseConfig(text: string, file = "config", env: Record<string, string | undefined> = process.env): GatewayConfig {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (e: any) {
    throw new ConfigError(`${file}: invalid YAML: ${e.message}`);
  }
  const interpolated = interpolate(raw, env, file, "");
  try {
    return validate(GatewayConfigSpec, interpolated);
  } catch (e) {
    if (e instanceof GatewayError) throw new ConfigError(`${file}: ${e.message}`);
    throw e;
  }
}

function interpolate(v: unknown, env: Record<string, string | undefined>, file: string, path: string): unknown {
  if (typeof v === "string") {
    return v.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, name: string) => {
      const val = env[name];
      if (val === undefined) throw new ConfigError(`${file}: environment variable ${name} is not set (used at ${path || "top level"})`);
      return val;
    });
  }
  if (Array.isArray(v)) return v.map((x, i) => interpolate(x, env, file, `${path}[${i}]`));
  if (v && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, interpolate(x, env, file, path ? `${path}.${k}` : k)]));
  }
  return v;
}
