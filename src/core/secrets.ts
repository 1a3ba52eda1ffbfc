/**
 * Secrets at rest: gateway keys are stored as sha256 hashes (shown once at creation); provider credentials are
 * encrypted with AES-256-GCM under the data dir's master key (a 0600 file created on first start).
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";

export function loadOrCreateMasterKey(file: string): Buffer {
  if (existsSync(file)) {
    const key = Buffer.from(readFileSync(file, "utf8").trim(), "base64");
    if (key.length !== 32) throw new Error(`master key file ${file} is not a base64 32-byte key`);
    return key;
  }
  const key = randomBytes(32);
  writeFileSync(file, key.toString("base64") + "\n", { mode: 0o600 });
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

/** Prefixed random id (`key_…`, `req_…`): 24 hex characters of a UUIDv7, so ids also sort by creation time. */
export function randomId(prefix: string): string {
  const u = Bun.randomUUIDv7(); // xxxxxxxx-xxxx-7xxx-xxxx-xxxxxxxxxxxx: 48-bit ms timestamp first, random last
  return prefix + u.slice(0, 8) + u.slice(9, 13) + u.slice(24);
}
