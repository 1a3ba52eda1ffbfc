/** gateway.yaml → validated config. `${VAR}` in any string is read from the environment; a missing one is an error. */
import { parse } from "yaml";
import { GatewayError } from "../http/errors.ts";
import { validateConfig, type GatewayConfig } from "./account-spec.ts";

export class ConfigError extends Error {}

export async function loadConfigFile(file: string, env: Record<string, string | undefined> = process.env): Promise<GatewayConfig> {
  const f = Bun.file(file);
  if (!(await f.exists())) throw new ConfigError(`config file not found: ${file}`);
  return parseConfig(await f.text(), file, env);
}

export function parseConfig(text: string, file = "config", env: Record<string, string | undefined> = process.env): GatewayConfig {
  // ${VAR} is not valid YAML inside a flow map ({ api_key: ${KEY} }): mark it with a plain-scalar token first,
  // then substitute in the parsed strings (so a value with YAML syntax in it cannot change the document)
  const marked = markVars(text);
  let raw: unknown;
  try {
    // prettyErrors: false — no code frame: the line it would quote may hold a credential written in the file
    raw = parse(marked.text, { prettyErrors: false }) ?? {};
  } catch (e: any) {
    const offset = Array.isArray(e?.pos) ? marked.toOriginal(e.pos[0]) : undefined;
    const at = offset === undefined ? "" : ` at ${lineColumn(text, offset)}`;
    throw new ConfigError(`${file}: invalid YAML${at}: ${withoutSource(String(e?.message ?? e), marked.text)}`);
  }
  const interpolated = interpolate(raw, env, file, "");
  try {
    return validateConfig(interpolated);
  } catch (e) {
    if (e instanceof GatewayError) throw new ConfigError(`${file}: ${e.message}`);
    throw e;
  }
}

/** The text with each ${VAR} marked, and a map from an offset in it back to the offset in the original. */
function markVars(text: string): { text: string; toOriginal(pos: number): number } {
  const spans: { at: number; length: number; markedLength: number }[] = [];
  const out = text.replace(VAR, (whole: string, name: string, at: number) => {
    const m = `${MARK}${name}${MARK}`;
    spans.push({ at, length: whole.length, markedLength: m.length });
    return m;
  });
  return {
    text: out,
    toOriginal(pos) {
      let delta = 0;
      for (const s of spans) {
        const start = s.at + delta;
        if (pos < start) break;
        if (pos < start + s.markedLength) return s.at;
        delta += s.markedLength - s.length;
      }
      return pos - delta;
    },
  };
}

/** Some of the yaml library's messages end by quoting the file (`…: "<token>"`); that part is left out. */
function withoutSource(message: string, text: string): string {
  const m = /^([^\n]*?): ("[^\n]*"|[^\n"]+)$/.exec(message);
  if (!m) return message;
  let quoted = m[2]!;
  try {
    if (quoted.startsWith('"')) quoted = JSON.parse(quoted);
  } catch {}
  return text.includes(quoted) ? m[1]! : message;
}

/** "line L, column C" (both from 1) of an offset in the text. */
function lineColumn(text: string, offset: number): string {
  const before = text.slice(0, Math.min(offset, text.length));
  const line = before.split("\n").length;
  return `line ${line}, column ${offset - (before.lastIndexOf("\n") + 1) + 1}`;
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
