/** "account/model" (or a bare model with x-tfy-provider-name) → Target, with access and capability checks. */
import { GatewayError } from "../http/errors.ts";
import type { AccountRecord, ModelType, Target } from "../providers/types.ts";
import { canUseModel, canUseAccount, type Principal } from "./access.ts";
import type { Registry } from "./registry.ts";

const HOW = "Model ids look like '<account>/<model>', e.g. 'openai-main/gpt-4o-mini'; GET /v1/models lists the ones your key may use.";

/**
 * Targets by the model string a client sent ("account/model"), per generation of the registry's accounts (a reload
 * makes a new map, so this never goes stale): the lookup then makes no strings and no object. Bounded, since model
 * strings come from clients; only strings that named a known model are kept.
 */
const targets = new WeakMap<Map<string, AccountRecord>, Map<string, Target>>();
const MAX_CACHED_TARGETS = 10_000;

export function resolveTarget(
  reg: Registry,
  p: Principal,
  model: string,
  type: ModelType,
  providerHeader?: string | null,
): Target {
  return checkTarget(p, lookupTarget(reg, model, providerHeader), type);
}

/** The model a client named, without the access and capability checks (404 when there is none). */
export function lookupTarget(reg: Registry, model: string, providerHeader?: string | null): Target {
  const cache = targets.get(reg.accounts);
  const hit = cache?.get(model);
  if (hit !== undefined) return hit;
  const target = findTarget(reg, model, providerHeader);
  // a bare model name resolved through x-tfy-provider-name depends on the header: not cached
  if (target.id === model) {
    let c = cache;
    if (c === undefined) targets.set(reg.accounts, (c = new Map()));
    if (c.size >= MAX_CACHED_TARGETS) c.clear();
    c.set(model, target);
  }
  return target;
}

/**
 * The access and capability checks, for every request (the principal and the endpoint vary); `type` null checks
 * access only (a pass-through path whose model type the gateway does not know).
 */
export function checkTarget(p: Principal, target: Target, type: ModelType | null): Target {
  if (!canUseModel(p, target.account, target.model)) {
    throw new GatewayError(403, `Subject '${p.subject}' is not allowed to use the model ${target.id}`, {
      param: "model",
      code: "model_not_allowed",
    });
  }
  if (type !== null && !target.model.types.includes(type)) throw typeNotSupported(type, target);
  return target;
}

/** The 400 for an endpoint called on a model without its type (or on an account whose provider lacks the endpoint). */
export function typeNotSupported(type: ModelType, target: Target): GatewayError {
  return new GatewayError(400, `${type} is not supported for the model ${target.id}`, { param: "model", code: "model_type_not_supported" });
}

/** A client's model string as quoted in a message: clipped (a 5 MB "model" is not sent back whole). */
const quoted = (s: string) => (s.length > 200 ? s.slice(0, 200) + "…" : s);

function findTarget(reg: Registry, model: string, providerHeader: string | null | undefined): Target {
  let accountName: string;
  let modelName: string;
  const slash = model.indexOf("/");
  if (slash > 0 && reg.accounts.has(model.slice(0, slash))) {
    accountName = model.slice(0, slash);
    modelName = model.slice(slash + 1);
  } else if (providerHeader) {
    accountName = providerHeader;
    modelName = model;
  } else if (slash > 0) {
    accountName = model.slice(0, slash);
    modelName = model.slice(slash + 1);
  } else {
    throw new GatewayError(404, `Model '${quoted(model)}' names no account. ${HOW}`, { param: "model", code: "model_not_found" });
  }
  const account = reg.accounts.get(accountName);
  if (!account) {
    throw new GatewayError(404, `Unknown account '${quoted(accountName)}' in model '${quoted(model)}'. ${HOW}`, {
      param: "model",
      code: "model_not_found",
    });
  }
  const m = account.models.get(modelName);
  if (!m) {
    throw new GatewayError(404, `Unknown model '${quoted(modelName)}' in account '${accountName}'. ${HOW}`, {
      param: "model",
      code: "model_not_found",
    });
  }
  return { account, model: m, id: `${accountName}/${modelName}` };
}

/** For pass-through paths: the account named by x-tfy-provider-name, if the key may use it. */
export function resolveAccount(reg: Registry, p: Principal, name: string) {
  const account = reg.accounts.get(name);
  if (!account) throw new GatewayError(404, `Unknown account '${name}' in x-tfy-provider-name`, { code: "account_not_found" });
  if (!canUseAccount(p, account)) {
    throw new GatewayError(403, `Subject '${p.subject}' is not allowed to use the account ${name}`, { code: "account_not_allowed" });
  }
  return account;
}
