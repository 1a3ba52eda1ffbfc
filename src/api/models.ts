/** GET /models and /models/{id}: the models this key may call, as `<account>/<model>`. */
import { canUseModel, type Principal } from "../core/access.ts";
import type { Gateway } from "../core/gateway.ts";
import { GatewayError } from "../http/errors.ts";
import type { AccountRecord, ModelRecord } from "../providers/types.ts";

const CREATED = 1_700_000_000;

function modelObject(a: AccountRecord, m: ModelRecord) {
  return {
    id: `${a.name}/${m.name}`,
    object: "model",
    created: CREATED,
    owned_by: a.name,
    provider: a.provider,
    types: m.types,
  };
}

export function listModels(gw: Gateway, p: Principal) {
  const data = [];
  for (const a of gw.registry.accounts.values()) {
    for (const m of a.models.values()) if (canUseModel(p, a, m)) data.push(modelObject(a, m));
  }
  return { object: "list", data };
}

export function getModel(gw: Gateway, p: Principal, id: string) {
  const slash = id.indexOf("/");
  const a = slash > 0 ? gw.registry.accounts.get(id.slice(0, slash)) : undefined;
  const m = a?.models.get(id.slice(slash + 1));
  if (!a || !m || !canUseModel(p, a, m)) {
    throw new GatewayError(404, `The model '${id}' does not exist or your key may not use it`, { param: "model", code: "model_not_found" });
  }
  return modelObject(a, m);
}
