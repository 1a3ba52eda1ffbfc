/**
 * Who may do what. A key has a subject (user:…, team:…, virtualaccount:…) and optional teams; `team:everyone`
 * matches every key. Admin keys may use and manage everything; an account's managers manage it and may call its
 * models; its users may call its models, subject to a model's authorized_subjects.
 */
import type { ApiKeyRow } from "../db/schema.ts";
import type { AccountRecord, ModelRecord } from "../providers/types.ts";

export interface Principal {
  keyId: string;
  name: string;
  subject: string;
  role: "admin" | "user";
  /** the subject, its teams as team:<name>, and team:everyone */
  subjects: Set<string>;
}

/**
 * A subject as it is matched: `user:<email>` in lower case (an email is written in any case; `user:Bob@x.com` and
 * `user:bob@x.com` are one person). Team and virtual-account names are lower case already. Applied where subjects
 * are stored (keys, access lists) and where they are read back, so rows written before stay matched.
 */
export function normalSubject(s: string): string {
  return s.startsWith("user:") ? s.toLowerCase() : s;
}

export function principalOf(k: ApiKeyRow): Principal {
  const subject = normalSubject(k.subject);
  const subjects = new Set<string>([subject, "team:everyone"]);
  for (const t of k.teams) subjects.add(t.startsWith("team:") ? t : `team:${t}`);
  return { keyId: k.id, name: k.name, subject, role: k.role === "admin" ? "admin" : "user", subjects };
}

const anyIn = (p: Principal, list: readonly string[] | undefined) => !!list?.some((s) => p.subjects.has(s));

export const isAdmin = (p: Principal) => p.role === "admin";

export function canManageAccount(p: Principal, a: Pick<AccountRecord, "access">): boolean {
  return isAdmin(p) || anyIn(p, a.access.managers);
}

export function canUseAccount(p: Principal, a: AccountRecord): boolean {
  return canManageAccount(p, a) || anyIn(p, a.access.users);
}

export function canUseModel(p: Principal, a: AccountRecord, m: ModelRecord): boolean {
  if (canManageAccount(p, a)) return true;
  if (!anyIn(p, a.access.users)) return false;
  return !m.authorizedSubjects || anyIn(p, m.authorizedSubjects);
}
