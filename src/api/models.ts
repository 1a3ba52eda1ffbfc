/** GET /models and /models/{id}: the models this key may call, as `<account>/<model>`. */
import { canUseModel, type Principal } from "../core/access.ts";
import type { Gateway } from "../core/gateway.ts";
import { checkTarget, lookupTarget } from "../core/resolve.ts";
import type { AccountRecord, ModelRecord } from "../providers/types.ts";

const CREATED = 1_700_000_000;

/** OpenAI's Model; `provider` (the account's kind) and `types` are the gateway's, left out in strict mode. */
function modelObject(a: AccountRecord, m: ModelRecord, strict: boolean) {
  const id = `${a.name}/${m.name}`;
  if (strict) return { id, object: "model", created: CREATED, owned_by: a.name };
  return { id, object: "model", created: CREATED, owned_by: a.name, provider: a.provider, types: m.types };
}

export function listModels(gw: Gateway, p: Principal, strict = false) {
  const data = [];
  for (const a of gw.registry.accounts.values()) {
    for (const m of a.models.values()) if (canUseModel(p, a, m)) data.push(modelObject(a, m, strict));
  }
  return { object: "list", data };
}

/** One model by id (or by its bare name with x-tfy-provider-name): 404 when there is none, 403 when the key may not use it. */
export function getModel(gw: Gateway, p: Principal, id: string, providerHeader?: string | null, strict = false) {
  const t = checkTarget(p, lookupTarget(gw.registry, id, providerHeader), null);
  return modelObject(t.account, t.model, strict);
}
