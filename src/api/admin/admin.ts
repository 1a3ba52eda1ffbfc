/**
 * The management API under /admin/v1: accounts (with models and access), keys, logs, usage, catalogue and
 * Test Credentials. Admin keys may do everything; an account's managers may read and edit that account.
 * Credentials are write-only: every answer shows them as "<redacted>".
 */
import { Elysia, t } from "elysia";
import { diffAccounts } from "../../config/account-diff.ts";
import { SECRET_HEADER } from "../../core/credential-scrub.ts";
import { AccessSpec, ModelSpec, SUBJECT, TEAM_NAME, validate, validateAccount, type AccountSpec as Spec } from "../../config/account-spec.ts";
import { canManageAccount, isAdmin, type Principal } from "../../core/access.ts";
import type { Gateway } from "../../core/gateway.ts";
import { testAccount } from "../../core/test-account.ts";
import { parseExpiry, parseWhen } from "../../core/when.ts";
import { deleteAccount, readAccount, redactSpec, upsertAccount } from "../../db/accounts-repo.ts";
import { createKey, LastAdminKeyError, listKeys, revokeKey } from "../../db/keys-repo.ts";
import { authenticate } from "../../http/auth.ts";
import { jsonParser } from "../../http/json-body.ts";
import { badRequest, GatewayError } from "../../http/errors.ts";
import { PROVIDER_KINDS, type AccountRecord, type ProviderKind } from "../../providers/types.ts";
import { catalogue } from "../../usage/pricing.ts";
import { parseCursor, parseLimit, queryLogs, queryUsage, USAGE_GROUPS, type UsageGroup } from "../../usage/queries.ts";

const forbidden = (what: string) => new GatewayError(403, `Your key may not ${what}`, { code: "not_allowed" });

function requireAdmin(p: Principal, what: string) {
  if (!isAdmin(p)) throw forbidden(what);
}

function managedAccount(gw: Gateway, p: Principal, name: string): AccountRecord {
  const a = gw.registry.accounts.get(name);
  if (!a) throw new GatewayError(404, `Unknown account '${name}'`, { code: "account_not_found" });
  if (!canManageAccount(p, a)) throw forbidden(`manage the account '${name}'`);
  return a;
}

function parseTime(v: string | undefined, param: string, direction: "past" | "future" = "past"): number | undefined {
  const n = parseWhen(v, direction);
  if (n === null) throw badRequest(`'${param}' must be a date, epoch milliseconds or a duration like 24h`, param);
  return n;
}

/**
 * Where an account's credential goes (provider, base_url, headers) is an admin's to change: a manager who could
 * point the stored credential at a server of theirs would read it (credentials are write-only otherwise). A manager
 * who sends a credential of their own along with the change may.
 */
function guardCredentialDestination(stored: Spec, next: Spec): void {
  const moved = diffAccounts(stored, next).fields.filter((f) => f === "provider" || f === "base_url" || f === "headers");
  if (moved.length === 0) return;
  // the stored credential, or a stored header that carries a secret, kept for the new destination
  const reused =
    Object.entries(stored.auth).some(([k, v]) => next.auth[k] === v) ||
    Object.entries(stored.headers ?? {}).some(([k, v]) => SECRET_HEADER.test(k) && next.headers?.[k] === v);
  if (reused) {
    throw new GatewayError(403, `Only an admin may change ${moved.join(", ")} of the account '${stored.name}' while its stored credential is kept; send a new credential with the change, or ask an admin`, {
      param: moved[0],
      code: "credential_destination_change",
    });
  }
}

export function adminApi(gw: Gateway) {
  const parse = jsonParser(gw.settings.maxBodyBytes);
  const save = (spec: Spec) => {
    const change = upsertAccount(gw.store, gw.masterKey, spec, "api");
    gw.registry.reload();
    return change;
  };
  const current = (name: string) => readAccount(gw.store, gw.masterKey, name)!;
  const show = (name: string) => redactSpec(current(name));
  /** Values sent back as "<redacted>" (credentials, secret headers, as GET shows them), or left out, keep the stored ones. */
  const keepRedacted = (incoming: Record<string, string> | undefined, stored: Record<string, string> | undefined) => {
    if (!incoming) return stored ?? {};
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(incoming)) out[k] = v === "<redacted>" && stored?.[k] ? stored[k] : v;
    return out;
  };
  const managedNames = (p: Principal) =>
    [...gw.registry.accounts.values()].filter((a) => canManageAccount(p, a)).map((a) => a.name);

  return new Elysia({ prefix: "/admin/v1" })
    .derive(({ request }) => ({ principal: authenticate(gw.registry, request.headers) }))
    .get("/accounts", ({ principal }) => ({
      object: "list",
      data: managedNames(principal).map(show),
    }))
    .post(
      "/accounts",
      ({ principal, body, set }) => {
        requireAdmin(principal, "create accounts");
        const spec = validateAccount(body);
        if (gw.registry.accounts.has(spec.name)) {
          throw new GatewayError(409, `Account '${spec.name}' already exists`, { param: "name", code: "account_exists" });
        }
        save(spec);
        set.status = 201;
        return show(spec.name);
      },
      { body: t.Any(), parse },
    )
    .get("/accounts/:name", ({ principal, params }) => {
      managedAccount(gw, principal, params.name);
      return show(params.name);
    })
    .put(
      "/accounts/:name",
      ({ principal, params, body }) => {
        const exists = gw.registry.accounts.has(params.name);
        if (exists) managedAccount(gw, principal, params.name);
        else requireAdmin(principal, "create accounts");
        const raw = { ...(body as object), name: params.name } as any;
        const stored = exists ? current(params.name) : undefined;
        raw.auth = keepRedacted(raw.auth, stored?.auth);
        // header values are shown redacted too: a round trip keeps them
        if (raw.headers && typeof raw.headers === "object") raw.headers = keepRedacted(raw.headers, stored?.headers);
        const spec = validateAccount(raw);
        if (stored && !isAdmin(principal)) guardCredentialDestination(stored, spec);
        const change = save(spec);
        return { change, account: show(spec.name) };
      },
      { body: t.Any(), parse },
    )
    .delete("/accounts/:name", ({ principal, params }) => {
      requireAdmin(principal, "delete accounts");
      if (!deleteAccount(gw.store, params.name)) throw new GatewayError(404, `Unknown account '${params.name}'`, { code: "account_not_found" });
      gw.registry.reload();
      return { deleted: true, name: params.name };
    })
    .get("/accounts/:name/models", ({ principal, params }) => {
      managedAccount(gw, principal, params.name);
      return { object: "list", data: current(params.name).models };
    })
    .post(
      "/accounts/:name/models",
      ({ principal, params, body, set }) => {
        managedAccount(gw, principal, params.name);
        const m = validate(ModelSpec, body);
        const spec = current(params.name);
        if (spec.models.some((x) => x.name === m.name)) {
          throw new GatewayError(409, `Model '${m.name}' already exists in account '${params.name}'`, { param: "name" });
        }
        save({ ...spec, models: [...spec.models, m] });
        set.status = 201;
        return m;
      },
      { body: t.Any(), parse },
    )
    .put(
      "/accounts/:name/models/:model",
      ({ principal, params, body }) => {
        managedAccount(gw, principal, params.name);
        const m = validate(ModelSpec, { ...(body as object), name: params.model });
        const spec = current(params.name);
        const others = spec.models.filter((x) => x.name !== m.name);
        save({ ...spec, models: [...others, m] });
        return m;
      },
      { body: t.Any(), parse },
    )
    .delete("/accounts/:name/models/:model", ({ principal, params }) => {
      managedAccount(gw, principal, params.name);
      const spec = current(params.name);
      if (!spec.models.some((x) => x.name === params.model)) {
        throw new GatewayError(404, `Unknown model '${params.model}' in account '${params.name}'`, { code: "model_not_found" });
      }
      save({ ...spec, models: spec.models.filter((x) => x.name !== params.model) });
      return { deleted: true, model: `${params.name}/${params.model}` };
    })
    .get("/accounts/:name/access", ({ principal, params }) => managedAccount(gw, principal, params.name).access)
    .put(
      "/accounts/:name/access",
      ({ principal, params, body }) => {
        managedAccount(gw, principal, params.name);
        const access = validate(AccessSpec, body);
        save({ ...current(params.name), access });
        return gw.registry.accounts.get(params.name)!.access;
      },
      { body: t.Any(), parse },
    )
    .post("/accounts/:name/test", async ({ principal, params }) => {
      const a = managedAccount(gw, principal, params.name);
      const results = await testAccount(a, gw.fetch);
      return { account: a.name, ok: results.every((r) => r.ok), results };
    })
    .get("/keys", ({ principal }) => {
      requireAdmin(principal, "list keys");
      return { object: "list", data: listKeys(gw.store) };
    })
    .post(
      "/keys",
      ({ principal, body, set }) => {
        requireAdmin(principal, "create keys");
        const expiry = body.expires_at === undefined || body.expires_at === null || body.expires_at === "" ? undefined : parseExpiry(String(body.expires_at));
        if (typeof expiry === "string") throw badRequest(`'expires_at': ${expiry}`, "expires_at");
        const expiresAt = expiry ?? null;
        const { key, info } = createKey(gw.store, {
          name: body.name,
          subject: body.subject,
          teams: body.teams,
          role: body.role,
          expiresAt,
        });
        gw.registry.reload();
        set.status = 201;
        return { ...info, key };
      },
      {
        parse,
        body: t.Object({
          name: t.String({ minLength: 1, maxLength: 100 }),
          subject: t.String({ pattern: SUBJECT }),
          teams: t.Optional(t.Array(t.String({ pattern: TEAM_NAME }))),
          role: t.Optional(t.Union([t.Literal("admin"), t.Literal("user")])),
          expires_at: t.Optional(t.Union([t.String(), t.Number()])),
        }),
      },
    )
    .delete("/keys/:id", ({ principal, params }) => {
      requireAdmin(principal, "revoke keys");
      let k;
      try {
        k = revokeKey(gw.store, params.id);
      } catch (e) {
        if (e instanceof LastAdminKeyError) throw new GatewayError(409, e.message, { code: "last_admin_key" });
        throw e;
      }
      if (!k) throw new GatewayError(404, `Unknown key '${params.id}'`, { code: "key_not_found" });
      gw.registry.reload();
      return k;
    })
    .get("/logs", async ({ principal, query }) => {
      const f = {
        since: parseTime(query.since, "since"),
        until: parseTime(query.until, "until"),
        account: query.account,
        model: query.model,
        accounts: isAdmin(principal) ? undefined : managedNames(principal),
      };
      const limit = parseLimit(query.limit, 100);
      if (typeof limit === "string") throw badRequest(`'limit' ${limit}`, "limit");
      const before = parseCursor(query.before);
      if (Number.isNaN(before)) throw badRequest("'before' must be the next_before of a page", "before");
      gw.logs.flush();
      return { object: "list", ...(await queryLogs(gw.store, f, { limit, before })) };
    })
    .get("/usage", async ({ principal, query }) => {
      const by = (query.by ?? "account") as UsageGroup;
      if (!USAGE_GROUPS.includes(by)) throw badRequest(`'by' must be one of ${USAGE_GROUPS.join(", ")}`, "by");
      gw.logs.flush();
      const f = {
        since: parseTime(query.since, "since"),
        until: parseTime(query.until, "until"),
        account: query.account,
        model: query.model,
        accounts: isAdmin(principal) ? undefined : managedNames(principal),
      };
      return { object: "list", by, data: await queryUsage(gw.store, by, f) };
    })
    .get("/catalog/:provider", ({ params }) => {
      if (!PROVIDER_KINDS.includes(params.provider as ProviderKind)) {
        throw new GatewayError(404, `Unknown provider kind '${params.provider}'; kinds: ${PROVIDER_KINDS.join(", ")}`, { param: "provider" });
      }
      const data = catalogue(params.provider as ProviderKind) ?? [];
      return { object: "list", provider: params.provider, unit: "USD per 1M tokens", data };
    });
}
