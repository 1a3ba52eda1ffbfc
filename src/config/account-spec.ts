/**
 * The shape of an account, as written in gateway.yaml and as taken by the admin API. One schema for both.
 */
import { Type as T, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { badRequest, pathToParam } from "../http/errors.ts";
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
    base_url: T.Optional(T.String({ pattern: "^https?://" })),
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

export const GatewayConfigSpec = T.Object(
  { accounts: T.Array(AccountSpec, { default: [] }) },
  { additionalProperties: true },
);
export type GatewayConfig = Static<typeof GatewayConfigSpec>;

/** Validates a value against a schema; the first problem becomes a 400 with `param` = its JSON path. */
export function validate<S extends import("@sinclair/typebox").TSchema>(
  schema: S,
  value: unknown,
  where = "",
): Static<S> {
  const v = Value.Default(schema, structuredClone(value));
  const first = Value.Errors(schema, v).First();
  if (first) {
    const param = pathToParam(where.replace(/\./g, "/") + first.path);
    throw badRequest(`Invalid value at '${param ?? "body"}': ${first.message}`, param);
  }
  return v as Static<S>;
}

/** An account from the admin API: the schema, then what the schema cannot say (see checkAccount). */
export function validateAccount(value: unknown): AccountSpec {
  const spec = validate(AccountSpec, value);
  checkAccount(spec, "");
  return spec;
}

/** A whole gateway.yaml: the schema, each account's own rules, and each account name once. */
export function validateConfig(value: unknown): GatewayConfig {
  const config = validate(GatewayConfigSpec, value);
  const first = new Map<string, number>();
  config.accounts.forEach((a, i) => {
    const at = first.get(a.name);
    if (at !== undefined) {
      throw invalid(`accounts/${i}/name`, `account '${a.name}' is defined twice (also at accounts[${at}])`);
    }
    first.set(a.name, i);
  });
  config.accounts.forEach((a, i) => checkAccount(a, `accounts/${i}`));
  return config;
}

/** Provider kinds whose adapter has no default base URL, so an account of that kind must give one. */
export function requiresBaseUrl(kind: AccountSpec["provider"]): boolean {
  const profile = OPENAI_PROFILES[kind];
  return profile !== undefined && !profile.defaultBaseUrl;
}

/** Rules across fields: each model name once in an account; base_url where the provider has no default. */
function checkAccount(spec: AccountSpec, where: string): void {
  if (!spec.base_url && requiresBaseUrl(spec.provider)) {
    const param = pathToParam(`${where}/base_url`);
    throw badRequest(`Missing required parameter: '${param}' (account '${spec.name}': provider '${spec.provider}' has no default base URL)`, param, "missing_required_parameter");
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
  return badRequest(`Invalid value at '${param}': ${why}`, param);
}
