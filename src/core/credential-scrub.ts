/**
 * An upstream may echo the credential it was sent ("Incorrect API key provided: sk-…", a proxy that prints the
 * Authorization header): every error that names an account has that account's credential values cut out of its
 * message before it reaches a client, a log row or a CLI. The registry records each account's values as it loads
 * them (decrypted); GatewayError scrubs its message when it names the account.
 */

/** A header name that says its value is a secret. */
export const SECRET_HEADER = /auth|token|key|secret|password|passwd|signature|cookie|credential|session|jwt|bearer/i;

/** The headers among `headers` whose names say they carry a secret. */
export function secretHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (SECRET_HEADER.test(k)) out[`header:${k}`] = v;
  return out;
}

/** shorter values (a region, a flag) are not secrets and would cut ordinary words out of messages */
const MIN_SECRET_LENGTH = 8;

const byAccount = new Map<string, Set<string>>();

/** auth fields that name where, not prove who: cutting them out would only blur messages */
const NOT_SECRET = new Set(["region", "location", "project", "project_id", "organization", "api_version", "client_email"]);

/**
 * Remembers an account's credential values: every string value of its auth, and the string values inside one that
 * holds a JSON object (a service-account key file). Values are only added (a rotated-out key stays redacted).
 */
export function rememberCredentials(account: string, auth: Record<string, unknown> | undefined): void {
  if (!auth) return;
  let set = byAccount.get(account);
  entries.delete(account);
  const values: string[] = [];
  for (const [k, v] of Object.entries(auth)) if (!NOT_SECRET.has(k)) collect(v, values);
  for (const v of values) {
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

/**
 * A secret as an upstream masks it when it quotes it (OpenAI: `Incorrect API key provided: sk-proj-****wxyz`, its
 * first characters and its last four with stars between): still a part of the credential, so cut out too.
 */
const masks = new Map<string, RegExp>();
function maskedForm(secret: string): RegExp | null {
  if (secret.length < 16) return null;
  let re = masks.get(secret);
  if (re === undefined) {
    const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    // the first 3+ characters, at least three stars (or dots), the last 4
    re = new RegExp(`${esc(secret.slice(0, 3))}[A-Za-z0-9_-]{0,12}(?:\\*{3,}|\\.{3,}|…)[A-Za-z0-9_-]{0,4}${esc(secret.slice(-4))}`, "g");
    masks.set(secret, re);
  }
  return re;
}

/** An account's values as the scrubber checks them: each with its last four characters, made once. */
interface Entry {
  secret: string;
  tail: string;
}
const entries = new Map<string, Entry[]>();

function entriesOf(account: string): Entry[] | undefined {
  let e = entries.get(account);
  if (e === undefined) {
    const set = byAccount.get(account);
    if (set === undefined || set.size === 0) return undefined;
    e = [...set].map((secret) => ({ secret, tail: secret.slice(-4) }));
    entries.set(account, e);
  }
  return e;
}

/**
 * `text` with every credential value of `account`, whole or masked, replaced by `<redacted>`: the same string when
 * there is none in it (two `includes` per value; cheap enough for every answer and stream event).
 */
export function scrubCredentials(account: string, text: string): string {
  const list = entriesOf(account);
  if (list === undefined) return text;
  for (let i = 0; i < list.length; i++) {
    const { secret, tail } = list[i]!;
    if (!text.includes(tail)) continue;
    if (text.includes(secret)) text = text.replaceAll(secret, "<redacted>");
    const re = maskedForm(secret);
    if (re !== null) text = text.replace(re, "<redacted>");
  }
  return text;
}

/**
 * For an answer passed on as it streams (pass-through, an endpoint's answer as written): its text with the account's
 * credential values cut out, or null when the account has none. The end of a read that could be the start of a
 * value is held back until the next read shows whether it is (nothing else is held: a stream stays a stream).
 */
export function credentialScrubber(account: string): TransformStream<Uint8Array, Uint8Array> | null {
  const set = byAccount.get(account);
  if (set === undefined || set.size === 0) return null;
  // the bytes are read as Latin-1 (one character per byte, whatever they are) and written back the same way: an
  // answer without a credential in it comes out byte for byte as it went in (a BOM, invalid UTF-8, binary served
  // as text/plain); a credential (ASCII, as keys are) is matched in its bytes
  const secrets = [...set];
  let held = "";
  return new TransformStream({
    transform(chunk, ctl) {
      const text = scrubCredentials(account, held + Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString("latin1"));
      const keep = partialAtEnd(text, secrets);
      held = text.slice(text.length - keep);
      if (text.length > keep) ctl.enqueue(Buffer.from(text.slice(0, text.length - keep), "latin1"));
    },
    flush(ctl) {
      const rest = scrubCredentials(account, held);
      if (rest) ctl.enqueue(Buffer.from(rest, "latin1"));
    },
  });
}

/**
 * The length of the longest end of `text` that begins one of the secrets, whole or in its masked form (its first
 * characters, stars, its last four): 0 when none does.
 */
function partialAtEnd(text: string, secrets: string[]): number {
  let best = 0;
  for (const s of secrets) {
    for (let k = Math.min(s.length - 1, text.length); k > best; k--) {
      if (text.endsWith(s.slice(0, k))) {
        best = k;
        break;
      }
    }
    if (s.length >= 16) {
      // a masked form under way: the secret's first three characters, then only what a mask is made of
      const at = text.lastIndexOf(s.slice(0, 3), text.length - 1);
      if (at >= 0 && text.length - at <= 48 && text.length - at > best && /^[A-Za-z0-9_-]*(?:[*.…]+[A-Za-z0-9_-]*)?$/.test(text.slice(at + 3))) best = text.length - at;
    }
  }
  return best;
}

/** A body as it streams, with the account's credential values cut out (the body itself when it has none). */
export function scrubbedBody(body: ReadableStream<Uint8Array>, account: string): ReadableStream<Uint8Array> {
  const scrubber = credentialScrubber(account);
  return scrubber ? body.pipeThrough(scrubber) : body;
}
