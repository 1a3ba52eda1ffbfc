/**
 * What differs between two specs of one account, field by field: what `apply` prints and whether it writes.
 * Lists without an order (models — keyed by name —, a model's types, subject lists) compare as sets; key order and
 * a model_id equal to the name do not count either. Only field and model names come out, never a value (`auth` and
 * `headers` may hold credentials).
 */
import { normalSubject } from "../core/access.ts";
import type { AccountSpec, ModelSpec } from "./account-spec.ts";

export interface AccountDiff {
  /** top-level fields that differ, in the order of the spec; "models" when any model was added, changed or removed */
  fields: string[];
  models: { added: string[]; changed: string[]; removed: string[] };
}

const FIELDS = ["provider", "base_url", "auth", "drop_unsupported_params", "stream_usage", "headers", "models", "access"] as const satisfies readonly (keyof AccountSpec)[];
// every field of a spec but its name is compared: a field added to AccountSpec and not here fails the typecheck
// (else a change to it would not count, and not be written)
const EVERY_FIELD_COMPARED: Exclude<keyof AccountSpec, (typeof FIELDS)[number] | "name"> extends never ? true : never = true;
void EVERY_FIELD_COMPARED;

export function diffAccounts(before: AccountSpec, after: AccountSpec): AccountDiff {
  const models = diffModels(before.models, after.models);
  const fields = FIELDS.filter((f) =>
    f === "models" ? models.added.length + models.changed.length + models.removed.length > 0 : key(normal(f, before)) !== key(normal(f, after)),
  );
  return { fields, models };
}

export const isUnchanged = (d: AccountDiff) => d.fields.length === 0;

/** "base_url, models (+ gpt-4o, ~ support-bot, - old-model), access" */
export function formatAccountDiff(d: AccountDiff): string {
  return d.fields
    .map((f) => {
      if (f !== "models") return f;
      const parts = [...d.models.added.map((m) => `+ ${m}`), ...d.models.changed.map((m) => `~ ${m}`), ...d.models.removed.map((m) => `- ${m}`)];
      return `models (${parts.join(", ")})`;
    })
    .join(", ");
}

function diffModels(before: ModelSpec[], after: ModelSpec[]): AccountDiff["models"] {
  const old = new Map(before.map((m) => [m.name, key(normalModel(m))]));
  const now = new Map(after.map((m) => [m.name, key(normalModel(m))]));
  const names = (m: Map<string, string>, keep: (name: string, k: string) => boolean) => [...m].filter(([n, k]) => keep(n, k)).map(([n]) => n);
  return {
    added: names(now, (n) => !old.has(n)),
    changed: names(now, (n, k) => old.has(n) && old.get(n) !== k),
    removed: names(old, (n) => !now.has(n)),
  };
}

// subjects compared as they are matched (emails in any case are one subject): a list stored before they were kept
// in lower case is no change
const set = (xs: readonly string[] | undefined) => (xs === undefined ? undefined : [...new Set(xs.map(normalSubject))].sort());

function normal(field: (typeof FIELDS)[number], s: AccountSpec): unknown {
  switch (field) {
    case "access":
      return { managers: set(s.access?.managers ?? []), users: set(s.access?.users ?? []) };
    case "headers":
      return s.headers ?? {};
    // a default written out or left out is the same account: removing `drop_unsupported_params: false` is no change
    case "drop_unsupported_params":
      return s.drop_unsupported_params ?? false;
    case "stream_usage":
      return s.stream_usage ?? true;
    default:
      return s[field];
  }
}

function normalModel(m: ModelSpec): unknown {
  return {
    ...m,
    model_id: m.model_id && m.model_id !== m.name ? m.model_id : undefined,
    types: set(m.types),
    authorized_subjects: set(m.authorized_subjects),
  };
}

/** JSON with object keys sorted and undefined left out: equal values, equal strings. */
function key(v: unknown): string {
  const sorted = (x: any): any =>
    Array.isArray(x)
      ? x.map(sorted)
      : x && typeof x === "object"
        ? Object.fromEntries(
            Object.keys(x)
              .sort()
              .filter((k) => x[k] !== undefined)
              .map((k) => [k, sorted(x[k])]),
          )
        : x;
  return JSON.stringify(sorted(v)) ?? "undefined";
}
