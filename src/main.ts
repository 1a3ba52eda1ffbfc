#!/usr/bin/env bun
/** switchboard CLI: serve | apply | accounts | keys | logs | usage | migrate | version | help */
// first: `serve` re-executes itself with JIT settings before anything else loads (see jit-tiers.ts)
import "./jit-tiers.ts";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { ensureAdminKey, openGateway, serve } from "./boot.ts";
import { applyConfig, formatApply } from "./config/apply.ts";
import { ConfigError, loadConfigFile } from "./config/load-config.ts";
import { CliError, cmdAccounts, cmdApply, cmdKeysCreate, cmdKeysList, cmdKeysRevoke, cmdLogs, cmdMigrate, cmdUsage } from "./cli/commands.ts";
import { abortCallsInFlight } from "./core/dispatch.ts";
import { startHeapGovernor } from "./core/heap-governor.ts";
import { parseCorsOrigins } from "./http/cors.ts";
import { GatewayError } from "./http/errors.ts";
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

On first start it creates the data dir, the database, a master key file (0600) and an admin API key that it prints
once; SWITCHBOARD_ADMIN_KEY sets the admin key instead. SIGTERM/SIGINT stop gracefully (grace period
SWITCHBOARD_SHUTDOWN_GRACE_MS, default 30000).`,
  apply: `Usage: switchboard apply -f gateway.yaml [--dry-run] [--data-dir DIR]

Creates or updates the accounts in the file (idempotent) and deletes accounts an earlier apply created that the file
no longer has. A running server on the same data dir picks the change up within a second.
${COMMON}`,
  accounts: `Usage: switchboard accounts list | show NAME | test NAME | delete NAME [--data-dir DIR]

  test NAME   tries the account's credentials against each of its models (nothing is saved)
${COMMON}`,
  keys: `Usage: switchboard keys create --name N --subject S [--role admin|user] [--teams a,b] [--expires 30d|2027-01-01]
  switchboard keys list
  switchboard keys revoke ID

Subjects look like user:<email>, team:<name> or virtualaccount:<name>. The key is printed once.
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
  if (cmd === "version") {
    console.log(VERSION);
    return 0;
  }
  const dataDir = o["data-dir"] ?? process.env.SWITCHBOARD_DATA_DIR ?? "./data";
  if (cmd === "serve") return runServe(dataDir, o);

  // a dry run against a data dir that does not exist yet plans against an empty one, and leaves nothing on disk
  const scratch = cmd === "apply" && o["dry-run"] && !existsSync(join(dataDir, "switchboard.db")) ? mkdtempSync(join(tmpdir(), "switchboard-dry-run-")) : undefined;
  const gw = openGateway({ dataDir: scratch ?? dataDir });
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
  const gw = openGateway({ dataDir, settings: { maxBodyBytes: Math.floor(maxBodyMb * 1024 * 1024), corsOrigins } });
  const apply = async () => {
    if (!configFile) return;
    const r = applyConfig(gw, await loadConfigFile(configFile));
    gw.registry.reload();
    console.log(formatApply(r, false).split("\n").map((l) => `config ${configFile}: ${l}`).join("\n"));
  };
  await apply();
  const generated = ensureAdminKey(gw, env.SWITCHBOARD_ADMIN_KEY);
  if (generated) {
    console.log(`\nAdmin API key (shown once, keep it safe):\n  ${generated}\n`);
  }
  gw.registry.watch(250);
  const stopGovernor = startHeapGovernor(heapLimitMb);
  const { server, url } = serve(gw, { port, hostname });
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

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (e) => {
    if (e instanceof CliError || e instanceof ConfigError || e?.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" || e?.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE") {
      console.error(`error: ${e.message}`);
      process.exit(2);
    }
    console.error(`error: ${e?.message ?? e}`);
    process.exit(1);
  },
);
