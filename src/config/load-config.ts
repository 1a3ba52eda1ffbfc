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
    // ${VAR} is not valid YAML inside a flow map ({ api_key: ${KEY} }): mark it with a plain-scalar token first,
    // then substitute in the parsed strings (so a value with YAML syntax in it cannot change the document)
    raw = parse(text.replace(VAR, (_, name: string) => `${MARK}${name}${MARK}`)) ?? {};
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

const VAR = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;
const MARK = "__SBENV__";
const MARKED = new RegExp(`${MARK}([A-Za-z_][A-Za-z0-9_]*?)${MARK}`, "g");

function interpolate(v: unknown, env: Record<string, string | undefined>, file: string, path: string): unknown {
  if (typeof v === "string") {
    return v.replace(MARKED, (_, name: string) => {
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
