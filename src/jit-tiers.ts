/**
 * `serve` runs without JavaScriptCore's top JIT tier (FTL): the process re-executes itself, before any other module
 * is loaded, with `BUN_JSC_useFTLJIT=0` in its environment (JSC reads its options from the environment once, at
 * start). Measured on the loopback benchmark: ~9 MB less peak RSS under load (FTL's compiler keeps what it allocates
 * for each compilation), and throughput and CPU per request the same or better — the gateway's hot code is short
 * functions the DFG tier already compiles well; native code (HTTP, sockets, SQLite) does most of the work.
 *
 * The same process (pid) goes on: `process.execve` replaces the program, so systemd, signals and stdio are
 * unaffected. Setting `BUN_JSC_useFTLJIT` yourself (`=1` to keep FTL) skips this.
 */
const argv = process.argv;
// in a `bun build --compile` executable argv[1] is the embedded entry point (/$bunfs/root/…), which execve adds again
const compiled = argv[1]?.startsWith("/$bunfs/") ?? false;
const command = argv[2];
if (command === "serve" && process.env.BUN_JSC_useFTLJIT === undefined && typeof process.execve === "function" && process.platform !== "win32") {
  // argv[0] as it was given (`./switchboard`, `bun`): `ps` and `pgrep` show the process as they did before
  const args = [process.argv0 || process.execPath, ...argv.slice(compiled ? 2 : 1)];
  try {
    process.execve(process.execPath, args, { ...process.env, BUN_JSC_useFTLJIT: "0" });
  } catch (e) {
    // (an executable that cannot be run again, such as one deleted while it starts: this process goes on, with FTL)
    console.error(`serve: could not restart without the FTL JIT tier (${(e as Error)?.message}); running with it`);
  }
}
