/** gateway.yaml → validated config. `${VAR}` in any string is read from the environment; a missing one is an error. */
import { isMap, isScalar, parseDocument } from "yaml";
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
  const yamlError = (e: any) => {
    const offset = Array.isArray(e?.pos) ? marked.toOriginal(e.pos[0]) : undefined;
    const at = offset === undefined ? "" : ` at ${lineColumn(text, offset)}`;
    return new ConfigError(`${file}: invalid YAML${at}: ${withoutSource(String(e?.message ?? e), marked.text)}`);
  };
  let raw: unknown;
  // prettyErrors: false — no code frame: the line it would quote may hold a credential written in the file
  const doc = parseDocument(marked.text, { prettyErrors: false });
  if (doc.errors.length) throw yamlError(doc.errors[0]);
  try {
    raw = doc.toJS();
  } catch (e: any) {
    throw yamlError(e);
  }
  checkTopLevel(doc.contents, raw, file, (offset) => lineColumn(text, marked.toOriginal(offset)));
  // only `accounts` is the config (the others checkTopLevel lets through are ignored, their ${VAR}s too)
  const interpolated = interpolate({ accounts: (raw as Record<string, unknown>).accounts }, env, file, "");
  try {
    return validateConfig(interpolated);
  } catch (e) {
    if (e instanceof GatewayError) throw new ConfigError(`${file}: ${e.message}`);
    throw e;
  }
}

/**
 * The file's top level, before anything else: a mapping whose only key is `accounts`, holding a list (beside
 * `version` and keys of the file's own, `x-…`, which are ignored). A file that
 * is empty, misspells `accounts:` or leaves its value out would otherwise read as "no accounts", and apply would
 * delete every account the file made; deleting them all takes an explicit `accounts: []`.
 */
function checkTopLevel(contents: unknown, raw: unknown, file: string, at: (offset: number) => string): void {
  const empty = `${file}: the file has no 'accounts:' list (to delete every account an earlier apply made, write 'accounts: []')`;
  if (raw === null || raw === undefined) throw new ConfigError(empty);
  if (!isMap(contents)) {
    throw new ConfigError(`${file}: the top level must be a mapping with an 'accounts:' list, not ${Array.isArray(raw) ? "a list" : "a single value"}`);
  }
  for (const item of contents.items) {
    const name = isScalar(item.key) ? String(item.key.value) : String(item.key);
    // `x-…` keys are the file's own (a block of YAML anchors, as Compose files do it), `version` a label: both ignored
    if (name === "accounts" || name === "version" || name.startsWith("x-")) continue;
    const where = isScalar(item.key) && item.key.range ? ` at ${at(item.key.range[0])}` : "";
    throw new ConfigError(
      `${file}: unknown top-level key '${name.slice(0, 100)}'${where} (the only one is 'accounts'; a block of your own, such as YAML anchors, goes under a key starting with 'x-')`,
    );
  }
  const accounts = (raw as Record<string, unknown>).accounts;
  if (accounts === undefined) throw new ConfigError(empty);
  if (accounts === null) throw new ConfigError(`${file}: 'accounts:' has no value (to delete every account an earlier apply made, write 'accounts: []')`);
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
