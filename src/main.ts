#!/usr/bin/env bun
/** switchboard CLI: serve | apply | accounts | keys | logs | usage | migrate | version | help */
// first: `serve` re-executes itself with JIT settings before anything else loads (see jit-tiers.ts)
import "./jit-tiers.ts";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { checkEnvAdminKey, ensureAdminKey, openGateway, serve } from "./boot.ts";
import { applyConfig, formatApply } from "./config/apply.ts";
import { ConfigError, loadConfigFile } from "./config/load-config.ts";
import { CliError, cmdAccounts, cmdApply, cmdKeysCreate, cmdKeysList, cmdKeysRevoke, cmdLogs, cmdMigrate, cmdUsage } from "./cli/commands.ts";
import { abortCallsInFlight } from "./core/dispatch.ts";
import { startHeapGovernor } from "./core/heap-governor.ts";
import { startWalCheckpointer } from "./db/wal-checkpointer.ts";
import { parseCorsOrigins } from "./http/cors.ts";
import { GatewayError } from "./http/errors.ts";
import { MasterKeyError } from "./core/secrets.ts";
import { VERSION } from "./version.ts";

const DEFAULT_HEAP_LIMIT_MB = 10;

const COMMON = `  --data-dir DIR   state directory (env SWITCHBOARD_DATA_DIR, default ./data)`;
const HELP: Record<string, string> = {
  main: `switchboard ${VERSION} — an OpenAI-compatible AI gateway

Usage: switchboard <command> [options]

Commands:
  serve      run the gateway
  apply      apply a gateway.yaml (accounts, models, access)
  accounts   list | show NAME | test NAME | delete NAME
  keys       create | list | revoke ID
  logs       recent requests
  usage      tokens and cost, grouped
  migrate    create or upgrade the database
  version    print the version

Every command takes --help and --data-dir.`,
  serve: `Usage: switchboard serve [--port 8080] [--host 0.0.0.0] [--data-dir ./data] [--config gateway.yaml]

  --port N         listen port (env SWITCHBOARD_PORT, default 8080)
  --host H         listen address (env SWITCHBOARD_HOST, default 0.0.0.0)
${COMMON}
  --config FILE    gateway.yaml applied at start and on SIGHUP (env SWITCHBOARD_CONFIG)
  --max-body-mb N  largest request body (env SWITCHBOARD_MAX_BODY_MB, default 50)
  --cors-origins O  let browsers call from these origins: * or a comma-separated list like https://app.example.com
                   (env SWITCHBOARD_CORS_ORIGINS; default: no CORS)
  --heap-limit-mb N  heap governor: young-generation collections as the heap grows, a full one when it
                   passes N MB (env SWITCHBOARD_HEAP_LIMIT_MB, default 10; 0: leave it to the runtime)
  --checkpoint-thread  WAL checkpoints (and their fsyncs) on a thread of their own instead of in a request-log
                   write: no fsync on the thread that serves requests, for a slow or busy disk; ~6 MB more RSS
                   (env SWITCHBOARD_CHECKPOINT_THREAD=1 or true)

On first start it creates the data dir, the database, a master key file (0600) and an admin API key that it prints
once (after it listens: a start that cannot bind makes none). SWITCHBOARD_ADMIN_KEY sets the admin key instead; a value
that is a revoked or expired key is not brought back (the start says so, and makes a new key if no admin key works);
keys earlier values made keep working and are listed at start, to revoke by hand. A master.key that is missing or does not match the database is an error, never replaced.
SIGTERM/SIGINT stop gracefully (grace period SWITCHBOARD_SHUTDOWN_GRACE_MS, default 30000); SIGHUP re-applies
--config (the environment is not re-read: restart for a new \${VAR} value).`,
  apply: `Usage: switchboard apply -f gateway.yaml [--dry-run] [--data-dir DIR]

Creates or updates the accounts in the file (idempotent) and deletes accounts an earlier apply created that the file
no longer has. An account made through the admin API that the file lists is taken over: the file owns it from then
on (the plan says "taken over from the API"). The file must have an 'accounts:' list and no other top-level key;
'accounts: []' deletes every account the file owns. A running server on the same data dir picks the change up
within a second.
${COMMON}`,
  accounts: `Usage: switchboard accounts list | show NAME | test NAME | delete NAME [--data-dir DIR]

  test NAME   tries the account's credentials against each of its models (nothing is saved)
${COMMON}`,
  keys: `Usage: switchboard keys create --name N --subject S [--role admin|user] [--teams a,b] [--expires 30d|2027-01-01]
  switchboard keys list
  switchboard keys revoke ID

Subjects look like user:<email>, team:<name> or virtualaccount:<name> (emails are kept in lower case). The key is
printed once; list shows its kind and 4 characters of it (sk-sb-AbCd…).
${COMMON}`,
  logs: `Usage: switchboard logs [--since 24h] [--account NAME] [--model NAME] [--limit 50] [--before N]

Newest first, --limit at a time (1 to 1000); a page that has more ends with the --before that reads the next.
${COMMON}`,
  usage: `Usage: switchboard usage [--by account|model|subject|day] [--since 30d] [--account NAME] [--model NAME]

Totals per group; days are UTC dates. cost_usd leaves out requests of models without a price (counted in unpriced).
${COMMON}`,
  migrate: `Usage: switchboard migrate [--data-dir DIR]

Creates the database or brings it to this version's schema (serve does this too).
${COMMON}`,
  version: `Usage: switchboard version`,
};

const OPTIONS = {
  help: { type: "boolean", short: "h" },
  "data-dir": { type: "string" },
  port: { type: "string" },
  host: { type: "string" },
  config: { type: "string" },
  "max-body-mb": { type: "string" },
  "heap-limit-mb": { type: "string" },
  "checkpoint-thread": { type: "boolean" },
  "cors-origins": { type: "string" },
  file: { type: "string", short: "f" },
  "dry-run": { type: "boolean" },
  name: { type: "string" },
  subject: { type: "string" },
  role: { type: "string" },
  teams: { type: "string" },
  expires: { type: "string" },
  since: { type: "string" },
  account: { type: "string" },
  model: { type: "string" },
  limit: { type: "string" },
  before: { type: "string" },
  by: { type: "string" },
} as const;

/** The options each command takes besides --help and --data-dir (`keys` by subcommand); anything else is refused. */
const COMMAND_OPTIONS: Record<string, readonly (keyof typeof OPTIONS)[]> = {
  serve: ["port", "host", "config", "max-body-mb", "heap-limit-mb", "checkpoint-thread", "cors-origins"],
  apply: ["file", "dry-run"],
  accounts: [],
  "keys create": ["name", "subject", "role", "teams", "expires"],
  keys: [],
  logs: ["since", "account", "model", "limit", "before"],
  usage: ["by", "since", "account", "model"],
  migrate: [],
  version: [],
};
/** How many words a command takes after its name (`accounts show NAME`: 2). */
const COMMAND_WORDS: Record<string, number> = { accounts: 2, keys: 2, "keys revoke": 2 };

/**
 * An option or a word the command does not take is an error (exit 2), not ignored: `logs --by model` would
 * otherwise print the unfiltered log as though it had been grouped.
 */
function checkUsage(cmd: string, sub: string | undefined, o: Record<string, unknown>, words: string[]): void {
  const key = cmd === "keys" && sub === "create" ? "keys create" : cmd;
  const allowed = new Set<string>(["help", "data-dir", ...(COMMAND_OPTIONS[key] ?? [])]);
  const shown = cmd === "keys" && sub ? `keys ${sub}` : cmd;
  for (const name of Object.keys(o)) {
    if (!allowed.has(name)) throw new CliError(`'--${name}' is not an option of '${shown}' (see: switchboard ${cmd} --help)`);
  }
  const max = COMMAND_WORDS[cmd === "keys" && sub === "revoke" ? "keys revoke" : cmd] ?? 0;
  const most = cmd === "keys" && sub !== "revoke" ? 1 : cmd === "accounts" && (sub === "list" || sub === undefined) ? 1 : max;
  if (words.length > most) throw new CliError(`unexpected argument '${words[most]}' for '${shown}' (see: switchboard ${cmd} --help)`);
}

/** Commands that read an existing data dir: run against one that is not there, they are an error, not a new dir. */
const READS_DATA = (cmd: string, sub: string | undefined) =>
  cmd === "logs" || cmd === "usage" || cmd === "accounts" || (cmd === "keys" && sub !== "create");

/** Commands that decrypt credentials, so need the master key that matches the database. */
const NEEDS_CREDENTIALS = (cmd: string, sub: string | undefined) => cmd === "apply" || (cmd === "accounts" && (sub === "show" || sub === "test"));

async function main(argv: string[]): Promise<number> {
  const { values: o, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [cmd, sub, arg] = positionals;
  if (!cmd || cmd === "help") {
    console.log(HELP[sub ?? "main"] ?? HELP.main);
    return 0;
  }
  if (!(cmd in HELP)) {
    console.error(`unknown command '${cmd}'\n\n${HELP.main}`);
    return 2;
  }
  if (o.help) {
    console.log(HELP[cmd]);
    return 0;
  }
  checkUsage(cmd, sub, o, positionals.slice(1));
  if (cmd === "version") {
    console.log(VERSION);
    return 0;
  }
  const dataDir = o["data-dir"] ?? process.env.SWITCHBOARD_DATA_DIR ?? "./data";
  if (cmd === "serve") return runServe(dataDir, o);
  if (READS_DATA(cmd, sub) && !existsSync(join(dataDir, "switchboard.db"))) {
    throw new CliError(`no data dir at ${resolve(dataDir)} (no switchboard.db there); pass --data-dir or set SWITCHBOARD_DATA_DIR to the gateway's (a service's: /var/lib/switchboard)`);
  }

  // a dry run against a data dir that does not exist yet plans against an empty one, and leaves nothing on disk
  const scratch = cmd === "apply" && o["dry-run"] && !existsSync(join(dataDir, "switchboard.db")) ? mkdtempSync(join(tmpdir(), "switchboard-dry-run-")) : undefined;
  const gw = openGateway({ dataDir: scratch ?? dataDir, credentials: NEEDS_CREDENTIALS(cmd, sub) });
  try {
    switch (cmd) {
      case "migrate":
        console.log(cmdMigrate(gw, dataDir));
        return 0;
      case "apply":
        if (!o.file) throw new CliError("apply needs -f gateway.yaml");
        console.log(await cmdApply(gw, o.file, !!o["dry-run"]));
        return 0;
      case "accounts": {
        const r = await cmdAccounts(gw, sub, arg);
        console.log(r.out);
        return r.code;
      }
      case "keys":
        if (sub === "create") console.log(cmdKeysCreate(gw, o));
        else if (sub === "list" || sub === undefined) console.log(cmdKeysList(gw));
        else if (sub === "revoke") console.log(cmdKeysRevoke(gw, arg));
        else throw new CliError(`unknown keys command '${sub}' (create, list, revoke ID)`);
        return 0;
      case "logs":
        console.log(await cmdLogs(gw, o));
        return 0;
      case "usage":
        console.log(await cmdUsage(gw, o));
        return 0;
    }
    return 2;
  } finally {
    gw.logs.flush(5000);
    gw.store.close();
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

async function runServe(dataDir: string, o: Record<string, any>): Promise<number> {
  const env = process.env;
  const port = Number(o.port ?? env.SWITCHBOARD_PORT ?? 8080);
  const hostname = o.host ?? env.SWITCHBOARD_HOST ?? "0.0.0.0";
  const configFile: string | undefined = o.config ?? env.SWITCHBOARD_CONFIG;
  const maxBodyMb = Number(o["max-body-mb"] ?? env.SWITCHBOARD_MAX_BODY_MB ?? 50);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`invalid port '${o.port ?? env.SWITCHBOARD_PORT}'`);
  if (!(maxBodyMb > 0)) throw new CliError("--max-body-mb must be a positive number");
  const heapLimitMb = Number(o["heap-limit-mb"] ?? env.SWITCHBOARD_HEAP_LIMIT_MB ?? DEFAULT_HEAP_LIMIT_MB);
  if (!(heapLimitMb >= 0)) throw new CliError("--heap-limit-mb must be a number of megabytes (0: no limit)");

  let corsOrigins: string[] | null;
  try {
    corsOrigins = parseCorsOrigins(o["cors-origins"] ?? env.SWITCHBOARD_CORS_ORIGINS);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  checkEnvAdminKey(env.SWITCHBOARD_ADMIN_KEY);
  await checkHost(hostname);
  const gw = openGateway({ dataDir, settings: { maxBodyBytes: Math.floor(maxBodyMb * 1024 * 1024), corsOrigins } });
  const apply = async () => {
    if (!configFile) return;
    const r = applyConfig(gw, await loadConfigFile(configFile));
    gw.registry.reload();
    console.log(formatApply(r, false).split("\n").map((l) => `config ${configFile}: ${l}`).join("\n"));
  };
  await apply();
  // listening before an admin key is made: a start that cannot bind prints no "shown once" key that it then
  // throws away (the next start, finding one, would print none)
  const { server, url } = listen(gw, port, hostname);
  const generated = ensureAdminKey(gw, env.SWITCHBOARD_ADMIN_KEY);
  if (generated) {
    console.log(`\nAdmin API key (shown once, keep it safe):\n  ${generated}\n`);
  }
  gw.registry.watch(250);
  const stopGovernor = startHeapGovernor(heapLimitMb);
  // opt-in: WAL checkpoints (and their fsyncs) on a thread of their own, not in a request-log flush
  // (db/wal-checkpointer.ts; off by default: the Worker costs ~6 MB of RSS, and on a quiet disk a checkpoint's
  // fsync takes a few ms)
  const checkpointer = o["checkpoint-thread"] || /^(1|true|yes|on)$/i.test(env.SWITCHBOARD_CHECKPOINT_THREAD ?? "") ? startWalCheckpointer(gw.store, join(dataDir, "switchboard.db")) : null;
  console.log(`switchboard ${VERSION} listening on ${url} (data: ${dataDir})`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    const grace = Number(env.SWITCHBOARD_SHUTDOWN_GRACE_MS ?? 30_000);
    console.log(`${signal}: no new connections; waiting up to ${grace} ms for requests in flight`);
    const graceful = server.stop(false);
    const timedOut = await Promise.race([graceful.then(() => false), Bun.sleep(grace).then(() => true)]);
    if (timedOut) {
      // the calls still running are ended as the server's doing (503), so each is logged as what it was, and its
      // client, a moment before the connections close, gets that error instead of a dropped connection
      const cut = abortCallsInFlight(() => new GatewayError(503, `The gateway shut down (${signal}) before the request finished`, { type: "api_error", code: "gateway_shutting_down" }));
      if (cut > 0) {
        console.log(`${signal}: grace period over; ended ${cut} upstream call(s) in flight`);
        await Bun.sleep(100);
      }
      await server.stop(true);
    }
    gw.registry.stop();
    stopGovernor();
    await checkpointer?.stop();
    // the last flush may wait for another process's write lock as long as the connection would
    gw.logs.flush(5000);
    gw.store.close();
    console.log("stopped");
    process.exit(0);
  };
  process.on("SIGTERM", () => void shutdown("SIGTERM"));
  process.on("SIGINT", () => void shutdown("SIGINT"));
  process.on("SIGHUP", () => {
    apply().catch((e) => console.error(`SIGHUP: config not applied: ${e.message}`));
  });
  return -1; // keep running
}

/**
 * A listen address that is neither an IP address nor a name that resolves is said to be that, before anything is
 * opened (Bun reports some, `999.1.1.1`, as "Is port 0 in use?").
 */
async function checkHost(hostname: string): Promise<void> {
  if (isIP(hostname)) return;
  // digits and dots that are no IPv4 address (999.1.1.1): no name either, and no resolver need be asked
  const bad = () => new CliError(`cannot listen on '${hostname}': it is not a valid listen address (--host / SWITCHBOARD_HOST: an IP address of this machine, 0.0.0.0, :: or a name that resolves to one)`);
  if (/^[\d.]+$/.test(hostname)) throw bad();
  try {
    await lookup(hostname);
  } catch {
    throw bad();
  }
}

/** serve(), with what went wrong said as it is: Bun says "Is port in use?" only when it is; EINVAL is the address. */
function listen(gw: ReturnType<typeof openGateway>, port: number, hostname: string) {
  try {
    return serve(gw, { port, hostname });
  } catch (e: any) {
    const where = `${hostname}:${port}`;
    if (e?.code === "EADDRINUSE") throw new CliError(`cannot listen on ${where}: the port is in use (another switchboard, or another server)`);
    if (e?.code === "EADDRNOTAVAIL") throw new CliError(`cannot listen on ${where}: '${hostname}' is not an address of this machine (--host / SWITCHBOARD_HOST)`);
    if (e?.code === "EINVAL") throw new CliError(`cannot listen on ${where}: '${hostname}' is not a valid listen address (--host / SWITCHBOARD_HOST: an IP address of this machine, 0.0.0.0 or ::)`);
    if (e?.code === "EACCES") throw new CliError(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`);
    throw new CliError(`cannot listen on ${where}: ${e?.message ?? e}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e) => {
    if (e instanceof MasterKeyError) {
      console.error(`error: ${e.message}`);
      process.exit(1);
    }
    if (e instanceof CliError || e instanceof ConfigError || e?.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || e?.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      console.error(`error: ${e.message}`);
      process.exit(2);
    }
    console.error(`error: ${e?.message ?? e}`);
    process.exit(1);
  },
);
