/**
 * The management API under /admin/v1: accounts (with models and access), keys, logs, usage, catalogue and
 * Test Credentials. Admin keys may do everything; an account's managers may read and edit that account.
 * Credentials are write-only: every answer shows them as "<redacted>".
 *
 * The in-memory registry serves the hot path; the admin API decides on the database. Each request first catches
 * the registry up with other processes' commits (a key revoked by the CLI no longer works here), and each read or
 * write of an account checks, in the transaction that writes it, that the account is still there and the caller
 * still manages it: an account another process deleted a moment ago is a 404, never re-created by a manager's edit.
 */
import { Type as T } from "@sinclair/typebox";
import { Elysia, t } from "elysia";
import { diffAccounts } from "../../config/account-diff.ts";
import { SECRET_HEADER } from "../../core/credential-scrub.ts";
import { SUBJECT, TEAM_NAME, validate, validateAccess, validateAccount, validateModel, type AccountSpec as Spec } from "../../config/account-spec.ts";
import { canManageAccount, isAdmin, normalSubject, type Principal } from "../../core/access.ts";
import type { Gateway } from "../../core/gateway.ts";
import { testAccount } from "../../core/test-account.ts";
import { parseExpiry, parseWhen } from "../../core/when.ts";
import { deleteAccount, readAccount, redactSpec, saveAccount } from "../../db/accounts-repo.ts";
import { createKey, LastAdminKeyError, listKeys, revokeKey } from "../../db/keys-repo.ts";
import { authenticate } from "../../http/auth.ts";
import { jsonParser } from "../../http/json-body.ts";
import { badRequest, GatewayError } from "../../http/errors.ts";
import { PROVIDER_KINDS, type ProviderKind } from "../../providers/types.ts";
import { catalogue } from "../../usage/pricing.ts";
import { parseCursor, parseLimit, queryLogs, queryUsage, USAGE_GROUPS, type UsageGroup } from "../../usage/queries.ts";

const forbidden = (what: string) => new GatewayError(403, `Your key may not ${what}`, { code: "not_allowed" });

function requireAdmin(p: Principal, what: string) {
  if (!isAdmin(p)) throw forbidden(what);
}

const unknownAccount = (name: string) => new GatewayError(404, `Unknown account '${name}'`, { code: "account_not_found" });

/** Whether the caller manages the account as stored (lists written before emails were kept in lower case included). */
function manages(p: Principal, stored: Spec): boolean {
  return canManageAccount(p, { access: { managers: (stored.access?.managers ?? []).map(normalSubject), users: [] } });
}

/** A key that is neither an admin key nor a manager of some account has nothing to do here: 403, not empty lists. */
function requireAdminOrManager(p: Principal, managed: string[]) {
  if (!isAdmin(p) && managed.length === 0) throw forbidden("use the admin API: it is not an admin key and manages no account");
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

/** The body of POST /keys: nothing else is taken (a misspelt `expires` would otherwise make a key that never expires). */
const NewKeySpec = T.Object(
  {
    name: T.String({ minLength: 1, maxLength: 100 }),
    subject: T.String({ pattern: SUBJECT }),
    teams: T.Optional(T.Array(T.String({ pattern: TEAM_NAME }))),
    role: T.Optional(T.Union([T.Literal("admin"), T.Literal("user")])),
    // null or "": no expiry, as when it is left out
    expires_at: T.Optional(T.Union([T.String(), T.Number(), T.Null()])),
  },
  { additionalProperties: false },
);

export function adminApi(gw: Gateway) {
  const parse = jsonParser(gw.settings.maxBodyBytes);
  /** `fn` in one immediate transaction (the write lock taken before anything is read); the registry reloaded after. */
  const atomically = <R>(fn: () => R): R => {
    const r = gw.store.sqlite.transaction(fn).immediate();
    gw.registry.reload();
    return r;
  };
  /** The account as stored, if it is there and the caller manages it (404, 403 else): call inside `atomically`. */
  const stored = (p: Principal, name: string): Spec => {
    const spec = readAccount(gw.store, gw.masterKey, name);
    if (!spec) throw unknownAccount(name);
    if (!manages(p, spec)) throw forbidden(`manage the account '${name}'`);
    return spec;
  };
  const save = (spec: Spec) => saveAccount(gw.store, gw.masterKey, spec, "api").change;
  const show = (spec: Spec) => redactSpec(spec);
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
    .derive(({ request }) => {
      // another process (the CLI, a second server) may have revoked a key or deleted an account since the last poll
      gw.registry.refreshIfChanged();
      return { principal: authenticate(gw.registry, request.headers) };
    })
    .get("/accounts", ({ principal }) => {
      const names = managedNames(principal);
      requireAdminOrManager(principal, names);
      const specs = names.map((n) => readAccount(gw.store, gw.masterKey, n)).filter((s) => s !== undefined);
      return { object: "list", data: specs.map(show) };
    })
    .post(
      "/accounts",
      ({ principal, body, set }) => {
        requireAdmin(principal, "create accounts");
        const spec = validateAccount(body);
        const saved = atomically(() => {
          if (readAccount(gw.store, gw.masterKey, spec.name)) {
            throw new GatewayError(409, `Account '${spec.name}' already exists`, { param: "name", code: "account_exists" });
          }
          save(spec);
          return readAccount(gw.store, gw.masterKey, spec.name)!;
        });
        set.status = 201;
        return show(saved);
      },
      { body: t.Any(), parse },
    )
    .get("/accounts/:name", ({ principal, params }) => show(stored(principal, params.name)))
    .put(
      "/accounts/:name",
      ({ principal, params, body }) =>
        atomically(() => {
          const before = readAccount(gw.store, gw.masterKey, params.name);
          // only an admin creates an account; a manager's edit of one deleted meanwhile is a 404, not a new account
          if (!before && !isAdmin(principal)) throw unknownAccount(params.name);
          if (before && !manages(principal, before)) throw forbidden(`manage the account '${params.name}'`);
          const raw = { ...(body as object), name: params.name } as any;
          raw.auth = keepRedacted(raw.auth, before?.auth);
          // header values are shown redacted too: a round trip keeps them
          if (raw.headers && typeof raw.headers === "object") raw.headers = keepRedacted(raw.headers, before?.headers);
          const spec = validateAccount(raw);
          if (before && !isAdmin(principal)) guardCredentialDestination(before, spec);
          const change = save(spec);
          return { change, account: show(readAccount(gw.store, gw.masterKey, spec.name)!) };
        }),
      { body: t.Any(), parse },
    )
    .delete("/accounts/:name", ({ principal, params }) => {
      requireAdmin(principal, "delete accounts");
      if (!atomically(() => deleteAccount(gw.store, params.name))) throw unknownAccount(params.name);
      return { deleted: true, name: params.name };
    })
    .get("/accounts/:name/models", ({ principal, params }) => ({ object: "list", data: stored(principal, params.name).models }))
    .post(
      "/accounts/:name/models",
      ({ principal, params, body, set }) => {
        const m = validateModel(body);
        atomically(() => {
          const spec = stored(principal, params.name);
          if (spec.models.some((x) => x.name === m.name)) {
            throw new GatewayError(409, `Model '${m.name}' already exists in account '${params.name}'`, { param: "name", code: "model_exists" });
          }
          save({ ...spec, models: [...spec.models, m] });
        });
        set.status = 201;
        return m;
      },
      { body: t.Any(), parse },
    )
    .put(
      "/accounts/:name/models/:model",
      ({ principal, params, body }) => {
        const m = validateModel({ ...(body as object), name: params.model });
        atomically(() => {
          const spec = stored(principal, params.name);
          save({ ...spec, models: [...spec.models.filter((x) => x.name !== m.name), m] });
        });
        return m;
      },
      { body: t.Any(), parse },
    )
    .delete("/accounts/:name/models/:model", ({ principal, params }) => {
      atomically(() => {
        const spec = stored(principal, params.name);
        if (!spec.models.some((x) => x.name === params.model)) {
          throw new GatewayError(404, `Unknown model '${params.model}' in account '${params.name}'`, { code: "model_not_found" });
        }
        save({ ...spec, models: spec.models.filter((x) => x.name !== params.model) });
      });
      return { deleted: true, model: `${params.name}/${params.model}` };
    })
    .get("/accounts/:name/access", ({ principal, params }) => {
      const { access } = stored(principal, params.name);
      return { managers: access?.managers ?? [], users: access?.users ?? [] };
    })
    .put(
      "/accounts/:name/access",
      ({ principal, params, body }) => {
        const access = validateAccess(body);
        return atomically(() => {
          save({ ...stored(principal, params.name), access });
          return { managers: access.managers ?? [], users: access.users ?? [] };
        });
      },
      { body: t.Any(), parse },
    )
    .post("/accounts/:name/test", async ({ principal, params }) => {
      stored(principal, params.name);
      const a = gw.registry.accounts.get(params.name);
      if (!a) throw unknownAccount(params.name);
      return { account: a.name, ...(await testAccount(a, gw.fetch)) };
    })
    .get("/keys", ({ principal }) => {
      requireAdmin(principal, "list keys");
      return { object: "list", data: listKeys(gw.store) };
    })
    .post(
      "/keys",
      ({ principal, body, set }) => {
        requireAdmin(principal, "create keys");
        const k = validate(NewKeySpec, body);
        const expiry = k.expires_at === undefined || k.expires_at === null || k.expires_at === "" ? undefined : parseExpiry(String(k.expires_at));
        if (typeof expiry === "string") throw badRequest(`Invalid value for 'expires_at': ${expiry}`, "expires_at", "invalid_value");
        const { key, info } = createKey(gw.store, {
          name: k.name,
          subject: normalSubject(k.subject),
          teams: k.teams,
          role: k.role,
          expiresAt: expiry ?? null,
        });
        gw.registry.reload();
        set.status = 201;
        return { ...info, key };
      },
      { body: t.Any(), parse },
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
      const managed = managedNames(principal);
      requireAdminOrManager(principal, managed);
      const f = {
        since: parseTime(query.since, "since"),
        until: parseTime(query.until, "until"),
        account: query.account,
        model: query.model,
        accounts: isAdmin(principal) ? undefined : managed,
      };
      const limit = parseLimit(query.limit, 100);
      if (typeof limit === "string") throw badRequest(`'limit' ${limit}`, "limit");
      const before = parseCursor(query.before);
      if (Number.isNaN(before)) throw badRequest("'before' must be the next_before of a page", "before");
      gw.logs.flush();
      return { object: "list", ...(await queryLogs(gw.store, f, { limit, before })) };
    })
    .get("/usage", async ({ principal, query }) => {
      const managed = managedNames(principal);
      requireAdminOrManager(principal, managed);
      const by = (query.by ?? "account") as UsageGroup;
      if (!USAGE_GROUPS.includes(by)) throw badRequest(`'by' must be one of ${USAGE_GROUPS.join(", ")}`, "by");
      gw.logs.flush();
      const f = {
        since: parseTime(query.since, "since"),
        until: parseTime(query.until, "until"),
        account: query.account,
        model: query.model,
        accounts: isAdmin(principal) ? undefined : managed,
      };
      return { object: "list", by, data: await queryUsage(gw.store, by, f) };
    })
    .get("/catalog/:provider", ({ params }) => {
      if (!PROVIDER_KINDS.includes(params.provider as ProviderKind)) {
        throw new GatewayError(404, `Unknown provider kind '${params.provider}'; kinds: ${PROVIDER_KINDS.join(", ")}`, { param: "provider", code: "provider_not_found" });
      }
      const data = catalogue(params.provider as ProviderKind) ?? [];
      return { object: "list", provider: params.provider, unit: "USD per 1M tokens", data };
    });
}
