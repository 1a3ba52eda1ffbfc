/**
 * The shape of an account, as written in gateway.yaml and as taken by the admin API. One schema for both.
 */
import { Type as T, type Static, type TSchema } from "@sinclair/typebox";
import { Value, ValueErrorType, type ValueError } from "@sinclair/typebox/value";
import { normalSubject } from "../core/access.ts";
import { badRequest, GatewayError, pathToParam } from "../http/errors.ts";
import { OPENAI_PROFILES } from "../providers/openai/profiles.ts";
import { MODEL_TYPES, PROVIDER_KINDS } from "../providers/types.ts";

export const ACCOUNT_NAME = "^[a-z][a-z0-9-]{1,30}[a-z0-9]$";
/** A subject: user:<email>, team:<name>, virtualaccount:<name> (names in lower case: letters, digits, . _ -). */
export const SUBJECT = "^(?:user:[^\\s@]+@[^\\s@]+|(?:team|virtualaccount):[a-z0-9][a-z0-9._-]*)$";
/** A team on a key (its name, without `team:`). */
export const TEAM_NAME = "^[a-z0-9][a-z0-9._-]*$";

export const ModelCostSpec = T.Object(
  {
    input: T.Optional(T.Number({ minimum: 0 })),
    output: T.Optional(T.Number({ minimum: 0 })),
    cache_read: T.Optional(T.Number({ minimum: 0 })),
    cache_write: T.Optional(T.Number({ minimum: 0 })),
    cache_write_1h: T.Optional(T.Number({ minimum: 0 })),
  },
  { additionalProperties: false },
);

export const ModelSpec = T.Object(
  {
    name: T.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$" }),
    model_id: T.Optional(T.String({ minLength: 1 })),
    types: T.Array(T.Union(MODEL_TYPES.map((x) => T.Literal(x))), { minItems: 1 }),
    cost: T.Optional(ModelCostSpec),
    authorized_subjects: T.Optional(T.Array(T.String({ pattern: SUBJECT }))),
    max_output_tokens: T.Optional(T.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);

export const AccessSpec = T.Object(
  {
    managers: T.Optional(T.Array(T.String({ pattern: SUBJECT }))),
    users: T.Optional(T.Array(T.String({ pattern: SUBJECT }))),
  },
  { additionalProperties: false },
);

export const AccountSpec = T.Object(
  {
    name: T.String({ pattern: ACCOUNT_NAME }),
    provider: T.Union(PROVIDER_KINDS.map((x) => T.Literal(x))),
    // checked beyond its type by checkAccount (a URL with a host), like headers: at POST/PUT/apply, not at the first call
    base_url: T.Optional(T.String()),
    auth: T.Record(T.String(), T.String()),
    drop_unsupported_params: T.Optional(T.Boolean()),
    stream_usage: T.Optional(T.Boolean()),
    headers: T.Optional(T.Record(T.String(), T.String())),
    models: T.Array(ModelSpec, { default: [] }),
    access: T.Optional(AccessSpec),
  },
  { additionalProperties: false },
);
export type AccountSpec = Static<typeof AccountSpec>;
export type ModelSpec = Static<typeof ModelSpec>;

// `accounts` required and nothing else allowed: a typo'd key (`acounts:`) read as "no accounts" would have apply
// delete every account the file made. Only an explicit `accounts: []` does that.
export const GatewayConfigSpec = T.Object({ accounts: T.Array(AccountSpec) }, { additionalProperties: false });
export type GatewayConfig = Static<typeof GatewayConfigSpec>;

/** Validates a value against a schema; the first problem becomes a 400 with `param` = its JSON path. */
export function validate<S extends TSchema>(schema: S, value: unknown, where = ""): Static<S> {
  const v = Value.Default(schema, structuredClone(value));
  const first = Value.Errors(schema, v).First();
  if (first) throw schemaError({ ...first, path: where + first.path });
  return v as Static<S>;
}

/**
 * A schema error in the words of the inference endpoints' (`Invalid value for 'x': …`, `Missing required parameter`)
 * with a code, shared by every admin endpoint and by config files. TypeBox's own words are kept where they say
 * enough; where they do not ("Expected union value", an unexpected property), they are replaced.
 */
export function schemaError(e: Pick<ValueError, "type" | "path" | "message" | "value" | "schema">): GatewayError {
  const param = pathToParam(e.path);
  const what = param ? `'${param}'` : "the request body";
  if (e.type === ValueErrorType.ObjectAdditionalProperties) return badRequest(`Unknown parameter: ${what}`, param, "unknown_parameter");
  if (e.value === undefined) return badRequest(`Missing required parameter: ${what}`, param, "missing_required_parameter");
  const variants = Array.isArray(e.schema?.anyOf) ? (e.schema.anyOf as TSchema[]) : undefined;
  if (variants?.every((x) => x.const !== undefined)) {
    const got = typeof e.value === "string" ? ` (got '${e.value.slice(0, 60)}')` : "";
    return badRequest(`Invalid value for ${what}: expected one of ${variants.map((x) => String(x.const)).join(", ")}${got}`, param, "invalid_value");
  }
  if (variants) return badRequest(`Invalid type for ${what}: expected ${variants.map(describe).join(" or ")}`, param, "invalid_type");
  return badRequest(`Invalid value for ${what}: ${e.message}`, param, "invalid_value");
}

const describe = (s: TSchema): string => (s.type === "null" ? "null" : s.type === "integer" || s.type === "object" || s.type === "array" ? `an ${s.type}` : `a ${s.type}`);

/** An account from the admin API: the schema, then what the schema cannot say (see checkAccount). */
export function validateAccount(value: unknown): AccountSpec {
  const spec = validate(AccountSpec, value);
  checkAccount(spec, "");
  return normalSubjects(spec);
}

/** A whole gateway.yaml: the schema, each account's own rules, and each account name once. */
export function validateConfig(value: unknown): GatewayConfig {
  // a file's ${VAR} is always text: `max_output_tokens: ${N}`, `stream_usage: ${FLAG}` are read as the number or
  // boolean the field takes (and a YAML number where text is wanted, `api_key: 12345`, as that text)
  const config = validate(GatewayConfigSpec, Value.Convert(GatewayConfigSpec, structuredClone(value)));
  const first = new Map<string, number>();
  config.accounts.forEach((a, i) => {
    const at = first.get(a.name);
    if (at !== undefined) {
      throw invalid(`accounts/${i}/name`, `account '${a.name}' is defined twice (also at accounts[${at}])`);
    }
    first.set(a.name, i);
  });
  config.accounts.forEach((a, i) => checkAccount(a, `accounts/${i}`));
  return { ...config, accounts: config.accounts.map(normalSubjects) };
}

/** Subjects as matched: a user's email in lower case (keys are made that way too; core/access.ts). */
function normalSubjects(spec: AccountSpec): AccountSpec {
  const list = (xs: string[] | undefined) => xs?.map(normalSubject);
  const out: AccountSpec = { ...spec, models: spec.models.map((m) => (m.authorized_subjects ? { ...m, authorized_subjects: list(m.authorized_subjects) } : m)) };
  if (spec.access) out.access = { ...(spec.access.managers && { managers: list(spec.access.managers) }), ...(spec.access.users && { users: list(spec.access.users) }) };
  return out;
}

/** An access list from the admin API, its emails in lower case. */
export function validateAccess(value: unknown): Static<typeof AccessSpec> {
  const access = validate(AccessSpec, value);
  return { ...(access.managers && { managers: access.managers.map(normalSubject) }), ...(access.users && { users: access.users.map(normalSubject) }) };
}

/** A model from the admin API, its authorized subjects' emails in lower case. */
export function validateModel(value: unknown): ModelSpec {
  const m = validate(ModelSpec, value);
  return m.authorized_subjects ? { ...m, authorized_subjects: m.authorized_subjects.map(normalSubject) } : m;
}

/** Provider kinds whose adapter has no default base URL, so an account of that kind must give one. */
export function requiresBaseUrl(kind: AccountSpec["provider"]): boolean {
  const profile = OPENAI_PROFILES[kind];
  return profile !== undefined && !profile.defaultBaseUrl;
}

/**
 * Rules the schema cannot say: each model name once in an account; base_url where the provider has no default, and
 * one that is a URL; header names and values that can be sent. Found here, a mistake is a 400 (or a refused file)
 * naming the field, not a 502 on every call.
 */
function checkAccount(spec: AccountSpec, where: string): void {
  if (!spec.base_url && requiresBaseUrl(spec.provider)) {
    const param = pathToParam(`${where}/base_url`);
    throw badRequest(`Missing required parameter: '${param}' (account '${spec.name}': provider '${spec.provider}' has no default base URL)`, param, "missing_required_parameter");
  }
  if (spec.base_url !== undefined) {
    const why = baseUrlProblem(spec.base_url);
    if (why) throw invalid(`${where}/base_url`, `'${spec.base_url.slice(0, 200)}' is not a base URL: ${why}`);
  }
  for (const [name, value] of Object.entries(spec.headers ?? {})) {
    if (!HEADER_NAME.test(name)) throw invalid(`${where}/headers`, `'${name.slice(0, 100)}' is not a header name (letters, digits and !#$%&'*+-.^_\`|~, nothing else)`);
    // the value is not quoted: a header may carry a credential
    if (BAD_HEADER_VALUE.test(value)) throw invalid(`${where}/headers/${name}`, "a header value may not contain line breaks or other control characters");
  }
  const first = new Map<string, number>();
  spec.models.forEach((m, i) => {
    const at = first.get(m.name);
    if (at !== undefined) {
      throw invalid(`${where}/models/${i}/name`, `model '${m.name}' is listed twice in account '${spec.name}' (also at models[${at}])`);
    }
    first.set(m.name, i);
  });
}

function invalid(path: string, why: string) {
  const param = pathToParam(path);
  return badRequest(`Invalid value for '${param}': ${why}`, param, "invalid_value");
}

/** RFC 9110 token */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** control characters but tab: CR/LF would split the request head */
const BAD_HEADER_VALUE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Why a base URL cannot be called, or undefined: an http(s) URL with a host, no spaces. */
export function baseUrlProblem(url: string): string | undefined {
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return "it contains spaces or control characters";
  if (!/^https?:\/\//i.test(url)) return "it must start with http:// or https://";
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return "it does not parse as a URL";
  }
  if (!u.hostname) return "it has no host";
  return undefined;
}
