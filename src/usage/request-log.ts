/** One request's log entry, filled in along the request path and queued when the request ends. */
import type { Principal } from "../core/access.ts";
import type { Gateway } from "../core/gateway.ts";
import { randomId } from "../core/secrets.ts";
import type { Target, Usage } from "../providers/types.ts";
import { normalizeUsage, saneUsage } from "./normalize.ts";
import { costOf } from "./pricing.ts";

/** an error as logged: long enough for any message, not for a client to fill the disk through one */
const MAX_ERROR = 2000;

/** endpoints whose answers report their usage */
const REPORTS_USAGE = new Set(["chat/completions", "embeddings", "responses", "completions"]);

export class RequestLog {
  readonly id = randomId("req_");
  private readonly started = performance.now();
  private ttft: number | null = null;
  private target?: Target;
  private metadata: Record<string, string> | null = null;
  private done = false;
  private finishHook: { finished(): void } | null = null;
  stream = false;
  notes: string[] = [];
  /** the model string the client sent, logged when it names no known model */
  requestedModel: string | null = null;

  constructor(
    private gw: Gateway,
    private principal: Principal | undefined,
    private endpoint: string,
    private method = "POST",
  ) {}

  /** the account of the request's target, once known */
  get accountName(): string | null {
    return this.target?.account.name ?? null;
  }
  setTarget(t: Target) {
    this.target = t;
  }
  setMetadata(m: Record<string, string> | null) {
    this.metadata = m;
  }
  /** `hook.finished()` runs when the entry is finished (the request is over, stream included); one hook per entry */
  onFinish(hook: { finished(): void }) {
    if (this.finishHook !== null) throw new Error("RequestLog.onFinish: a hook is already set");
    this.finishHook = hook;
  }
  firstToken() {
    this.ttft ??= performance.now() - this.started;
  }

  /**
   * Queues the entry (once), its values written straight into the log writer's page (no entry object: the hot
   * path allocates as little as it can).
   */
  finish(status: number, rawUsage?: unknown, error?: string | null, accountName?: string): void {
    this.finishWithUsage(status, normalizeUsage(rawUsage), error, accountName);
  }

  /** `finish` with the usage already normalised. */
  finishWithUsage(status: number, reported: Usage | null, error?: string | null, accountName?: string): void {
    if (this.done) return;
    this.done = true;
    const usage = reported === null ? null : saneUsage(reported);
    if (usage !== reported) this.notes.push(`the upstream reported impossible usage (${JSON.stringify(reported)}): counted as ${JSON.stringify(usage)}`);
    // an answer that should have said what it used and did not: its tokens and cost are unknown, not zero (and the
    // usage report counts it as unpriced)
    if (usage === null && status >= 200 && status < 300 && REPORTS_USAGE.has(this.endpoint)) this.notes.push("the upstream reported no usage: tokens and cost unknown");
    this.finishHook?.finished();
    const t = this.target;
    const p = this.principal;
    this.gw.logs.row(
      this.id,
      Date.now(),
      p?.keyId ?? null,
      p?.subject ?? null,
      t?.account.name ?? accountName ?? null,
      t?.model.name ?? (this.requestedModel === null ? null : this.requestedModel.slice(0, 200)),
      this.endpoint,
      this.method,
      status,
      this.stream,
      performance.now() - this.started,
      this.ttft,
      usage,
      usage && t ? costOf(t, usage) : null,
      this.metadata,
      this.notes.length ? this.notes.join("; ") : null,
      error == null ? null : error.length > MAX_ERROR ? error.slice(0, MAX_ERROR) + "…" : error,
    );
  }
}
