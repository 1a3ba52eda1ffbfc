/** The single source of truth for the database. Row types come from $inferSelect / $inferInsert. */
import { sqliteTable, text, integer, real, index, uniqueIndex } from "drizzle-orm/sqlite-core";

export const accounts = sqliteTable("accounts", {
  name: text("name").primaryKey(),
  provider: text("provider").notNull(),
  baseUrl: text("base_url"),
  /** AES-256-GCM ciphertext of the JSON credentials, keyed by the data dir's master key */
  authEncrypted: text("auth_encrypted").notNull(),
  settings: text("settings", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
  managers: text("managers", { mode: "json" }).$type<string[]>().notNull().default([]),
  users: text("users", { mode: "json" }).$type<string[]>().notNull().default([]),
  /** "config" when created by `apply` (and so removed by it when gone from the file), "api" otherwise */
  source: text("source").notNull().default("api"),
  createdAt: integer("created_at").notNull(),
  updatedAt: integer("updated_at").notNull(),
});

export const models = sqliteTable(
  "models",
  {
    account: text("account")
      .notNull()
      .references(() => accounts.name, { onDelete: "cascade" }),
    name: text("name").notNull(),
    modelId: text("model_id").notNull(),
    types: text("types", { mode: "json" }).$type<string[]>().notNull(),
    cost: text("cost", { mode: "json" }).$type<Record<string, number> | null>(),
    authorizedSubjects: text("authorized_subjects", { mode: "json" }).$type<string[] | null>(),
    maxOutputTokens: integer("max_output_tokens"),
  },
  (t) => [uniqueIndex("models_account_name").on(t.account, t.name)],
);

export const apiKeys = sqliteTable(
  "api_keys",
  {
    id: text("id").primaryKey(),
    name: text("name").notNull(),
    subject: text("subject").notNull(),
    teams: text("teams", { mode: "json" }).$type<string[]>().notNull().default([]),
    role: text("role").notNull().default("user"),
    /** sha256 of the key; the key itself is never stored */
    hash: text("hash").notNull(),
    /** first characters, to recognise a key in listings */
    prefix: text("prefix").notNull(),
    createdAt: integer("created_at").notNull(),
    expiresAt: integer("expires_at"),
    revokedAt: integer("revoked_at"),
  },
  (t) => [uniqueIndex("api_keys_hash").on(t.hash)],
);

export const requestLogs = sqliteTable(
  "request_logs",
  {
    /** append-only: the integer rowid keeps inserts at the end of the B-tree (a random text key would not) */
    seq: integer("seq").primaryKey({ autoIncrement: false }),
    /** the request id the client saw in x-request-id */
    id: text("id").notNull(),
    ts: integer("ts").notNull(),
    keyId: text("key_id"),
    subject: text("subject"),
    account: text("account"),
    model: text("model"),
    endpoint: text("endpoint").notNull(),
    method: text("method").notNull().default("POST"),
    status: integer("status").notNull(),
    stream: integer("stream", { mode: "boolean" }).notNull().default(false),
    latencyMs: real("latency_ms").notNull(),
    ttftMs: real("ttft_ms"),
    promptTokens: integer("prompt_tokens"),
    completionTokens: integer("completion_tokens"),
    cachedTokens: integer("cached_tokens"),
    cacheWriteTokens: integer("cache_write_tokens"),
    reasoningTokens: integer("reasoning_tokens"),
    costUsd: real("cost_usd"),
    metadata: text("metadata", { mode: "json" }).$type<Record<string, string> | null>(),
    notes: text("notes"),
    error: text("error"),
  },
  (t) => [index("request_logs_ts").on(t.ts)],
);

export type AccountRow = typeof accounts.$inferSelect;
export type ModelRow = typeof models.$inferSelect;
export type ApiKeyRow = typeof apiKeys.$inferSelect;
export type RequestLogRow = typeof requestLogs.$inferSelect;
export type NewRequestLog = typeof requestLogs.$inferInsert;
