/** One request's log entry, filled in along the request path and queued when the request ends. */
import type { Principal } from "../core/access.ts";
import type { Gateway } from "../core/gateway.ts";
import { randomId } from "../core/secrets.ts";
import type { Target, Usage } from "../providers/types.ts";
import { normalizeUsage } from "./normalize.ts";
import { costOf } from "./pricing.ts";

export class RequestLog {
  readonly id = randomId("req_");
  private readonly started = performance.now();
  private ttft: number | null = null;
  private target?: Target;
  private metadata: Record<string, string> | null = null;
  private done = false;
  private cleanups: (() => void)[] = [];
  stream = false;
  notes: string[] = [];

  constructor(
    private gw: Gateway,
    private principal: Principal | undefined,
    private endpoint: string,
    private method = "POST",
  ) {}

  setTarget(t: Target) {
    this.target = t;
  }
  setMetadata(m: Record<string, string> | null) {
    this.metadata = m;
  }
  /** runs when the entry is finished (the request is over, stream included) */
  onFinish(fn: () => void) {
    this.cleanups.push(fn);
  }
  firstToken() {
    this.ttft ??= performance.now() - this.started;
  }

  /** Queues the entry (once). Returns the usage and cost it computed. */
  finish(status: number, rawUsage?: unknown, error?: string | null, accountName?: string): { usage: Usage | null; cost: number | null } {
    if (this.done) return { usage: null, cost: null };
    this.done = true;
    for (const fn of this.cleanups) fn();
    const usage = normalizeUsage(rawUsage);
    const cost = usage && this.target ? costOf(this.target, usage) : null;
    this.gw.logs.push({
      id: this.id,
      ts: Date.now(),
      keyId: this.principal?.keyId ?? null,
      subject: this.principal?.subject ?? null,
      account: this.target?.account.name ?? accountName ?? null,
      model: this.target?.model.name ?? null,
      endpoint: this.endpoint,
      method: this.method,
      status,
      stream: this.stream,
      latencyMs: performance.now() - this.started,
      ttftMs: this.ttft,
      promptTokens: usage?.promptTokens ?? null,
      completionTokens: usage?.completionTokens ?? null,
      cachedTokens: usage?.cachedTokens ?? null,
      cacheWriteTokens: usage?.cacheWriteTokens ?? null,
      reasoningTokens: usage?.reasoningTokens ?? null,
      costUsd: cost,
      metadata: this.metadata,
      notes: this.notes.length ? this.notes.join("; ") : null,
      error: error ?? null,
    });
    return { usage, cost };
  }
}
