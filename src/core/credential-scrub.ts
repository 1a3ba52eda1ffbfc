/**
 * An upstream may echo the credential it was sent ("Incorrect API key provided: sk-…", a proxy that prints the
 * Authorization header): every error that names an account has that account's credential values cut out of its
 * message before it reaches a client, a log row or a CLI. The registry records each account's values as it loads
 * them (decrypted); GatewayError scrubs its message when it names the account.
 */

/** shorter values (a region, a flag) are not secrets and would cut ordinary words out of messages */
const MIN_SECRET_LENGTH = 8;

const byAccount = new Map<string, Set<string>>();

/**
 * Remembers an account's credential values: every string value of its auth, and the string values inside one that
 * holds a JSON object (a service-account key file). Values are only added (a rotated-out key stays redacted).
 */
export function rememberCredentials(account: string, auth: Record<string, unknown> | undefined): void {
  if (!auth) return;
  let set = byAccount.get(account);
  for (const v of collect(auth, [])) {
    if (set === undefined) byAccount.set(account, (set = new Set()));
    set.add(v);
  }
}

function collect(value: unknown, out: string[]): string[] {
  if (typeof value === "string") {
    if (value.length >= MIN_SECRET_LENGTH) out.push(value);
    const t = value.trimStart();
    if (t.startsWith("{")) {
      try {
        collect(JSON.parse(value), out);
      } catch {}
    }
  } else if (value && typeof value === "object") {
    for (const v of Object.values(value)) collect(v, out);
  }
  return out;
}

/** `text` with every credential value of `account` replaced by `<redacted>`. */
export function scrubCredentials(account: string, text: string): string {
  const set = byAccount.get(account);
  if (set === undefined) return text;
  for (const secret of set) if (text.includes(secret)) text = text.replaceAll(secret, "<redacted>");
  return text;
}
