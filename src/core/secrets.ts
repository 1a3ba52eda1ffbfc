/**
 * Secrets at rest: gateway keys are stored as sha256 hashes (shown once at creation); provider credentials are
 * encrypted with AES-256-GCM under the data dir's master key (a 0600 file created on first start, and never after:
 * a new key cannot read what the old one encrypted).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";

/** The master key is missing or is not the one the database's credentials were encrypted with. */
export class MasterKeyError extends Error {}

/**
 * The data dir's master key, or undefined when the file is not there. The file is made the owner's only (0600)
 * on every open, not only when created: a data dir restored or copied with a looser mode is tightened.
 */
export function readMasterKey(file: string): Buffer | undefined {
  if (!existsSync(file)) return undefined;
  try {
    chmodSync(file, 0o600);
  } catch {}
  const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
  if (key.length !== 32) throw new MasterKeyError(`master key file ${file} is not a base64 32-byte key`);
  return key;
}

/** A new master key, written 0600. Only for a database that holds no credentials yet (see boot.ts). */
export function createMasterKey(file: string): Buffer {
  const key = randomBytes(32);
  // wx: never over a key that appeared meanwhile
  writeFileSync(file, key.toString("base64") + "\n", { mode: 0o600, flag: "wx" });
  chmodSync(file, 0o600);
  return key;
}

export function encryptJson(key: Buffer, value: unknown): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(value), "utf8"), cipher.final()]);
  return ["v1", iv.toString("base64"), cipher.getAuthTag().toString("base64"), data.toString("base64")].join(".");
}

export function decryptJson<T = unknown>(key: Buffer, blob: string): T {
  const [v, iv, tag, data] = blob.split(".");
  if (v !== "v1" || !iv || !tag || data === undefined) throw new Error("unrecognised credential ciphertext");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64"));
  decipher.setAuthTag(Buffer.from(tag, "base64"));
  const text = Buffer.concat([decipher.update(Buffer.from(data, "base64")), decipher.final()]).toString("utf8");
  return JSON.parse(text) as T;
}

export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex");
}

/** `sk-sb-` + 40 url-safe random characters (240 bits). */
export function generateApiKey(): string {
  return "sk-sb-" + randomBytes(30).toString("base64url");
}

/** Random hex digits, drawn 12 at a time and refilled 4 KB at once. */
let randomHex = "";
let randomAt = 0;
/** the prefix and the current millisecond in hex, reused while both stay the same */
let headMs = -1;
let headPrefix = "";
let head = "";

/**
 * `<prefix>` + 12 hex digits of the millisecond + 12 random hex digits (48 bits): time-ordered across milliseconds
 * like a UUIDv7, unique in practice. Built from cached parts: one id costs a substring and a concatenation, which
 * matters on the request path (every request gets one).
 */
export function randomId(prefix: string): string {
  const now = Date.now();
  if (now !== headMs || prefix !== headPrefix) {
    headMs = now;
    headPrefix = prefix;
    head = prefix + now.toString(16).padStart(12, "0");
  }
  if (randomAt + 12 > randomHex.length) {
    randomHex = randomBytes(2048).toString("hex");
    randomAt = 0;
  }
  return head + randomHex.slice(randomAt, (randomAt += 12));
}
