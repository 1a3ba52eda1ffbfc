/**
 * A whole `chat.completion` as the chunks a stream of it would have been. Some OpenAI-compatible servers ignore
 * `stream: true` and answer with one JSON completion; the gateway then sends that completion as a stream, so the
 * client gets its answer (and the log its usage) instead of an empty stream.
 *
 * Per choice: a chunk whose delta is the whole message (role, content, refusal, reasoning, audio…; tool calls with
 * the `index` a stream gives them), then a chunk with its finish_reason; then the usage chunk (`choices: []`) when
 * the completion has usage (the core hides it unless the client asked for include_usage).
 */
export function completionToChunks(c: Record<string, any>): Record<string, any>[] {
  const base: Record<string, any> = { id: c.id, object: "chat.completion.chunk", created: c.created, model: c.model };
  if (c.system_fingerprint !== undefined) base.system_fingerprint = c.system_fingerprint;
  if (c.service_tier !== undefined) base.service_tier = c.service_tier;
  const out: Record<string, any>[] = [];
  const choices: any[] = Array.isArray(c.choices) ? c.choices : [];
  for (const choice of choices) {
    const index = choice?.index ?? 0;
    const delta: Record<string, any> = {};
    for (const [k, v] of Object.entries(choice?.message ?? {})) if (v !== undefined && v !== null) delta[k] = v;
    if (Array.isArray(delta.tool_calls)) delta.tool_calls = delta.tool_calls.map((t: any, i: number) => ({ index: i, ...t }));
    out.push({ ...base, choices: [{ index, delta, logprobs: choice?.logprobs ?? null, finish_reason: null }] });
  }
  for (const choice of choices) {
    out.push({ ...base, choices: [{ index: choice?.index ?? 0, delta: {}, logprobs: null, finish_reason: choice?.finish_reason ?? "stop" }] });
  }
  if (c.usage) out.push({ ...base, choices: [], usage: c.usage });
  return out;
}
